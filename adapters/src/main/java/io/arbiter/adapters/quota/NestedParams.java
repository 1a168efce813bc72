package io.arbiter.adapters.quota;

import io.arbiter.engine.spi.Params;
import io.arbiter.engine.spi.ParamsException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Reads settings that are lists of maps or maps ({@code quotas: [...]}, {@code redis: {...}})
 * with the same discipline as {@link Params}: each element is read through a {@link Params} of its
 * own, and its problems come back to the parent named by path ({@code quotas[1].maxAmount}).
 */
public final class NestedParams {
  private NestedParams() {}

  /**
   * The elements of the list {@code key}, each a map; records {@code key: must be a list} or
   * {@code key[i]: must be a map} and skips what is not. Empty if the key is absent.
   */
  public static List<Map<String, Object>> maps(Params params, String key) {
    if (!params.has(key)) {
      return List.of();
    }
    Object v = params.asMap().get(key);
    if (!(v instanceof List<?> list)) {
      params.error(key, "must be a list of maps");
      return List.of();
    }
    List<Map<String, Object>> out = new ArrayList<>(list.size());
    for (int i = 0; i < list.size(); i++) {
      Map<String, Object> m = asMap(list.get(i));
      if (m == null) {
        params.error(key + "[" + i + "]", "must be a map, was '" + list.get(i) + "'");
        out.add(null);
      } else {
        out.add(m);
      }
    }
    return out;
  }

  /** The map {@code key}, or null if absent (or not a map, which is recorded). */
  public static Map<String, Object> map(Params params, String key) {
    if (!params.has(key)) {
      return null;
    }
    Object v = params.asMap().get(key);
    Map<String, Object> m = asMap(v);
    if (m == null) {
      params.error(key, "must be a map, was '" + v + "'");
    }
    return m;
  }

  /**
   * Validates {@code child} (which rejects its unknown keys too) and records each of its problems
   * on {@code parent} as {@code prefix.field}.
   */
  public static void merge(Params parent, String prefix, Params child) {
    try {
      child.validate();
    } catch (ParamsException e) {
      for (Params.Problem p : e.problems()) {
        parent.error(prefix + "." + p.field(), p.reason());
      }
    }
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> asMap(Object v) {
    if (!(v instanceof Map<?, ?> m)) {
      return null;
    }
    for (Object k : m.keySet()) {
      if (!(k instanceof String)) {
        return null;
      }
    }
    return (Map<String, Object>) m;
  }
}
