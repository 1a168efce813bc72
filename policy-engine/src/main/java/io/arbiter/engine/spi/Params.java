package io.arbiter.engine.spi;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * A handler's {@code params} as read from config, with typed getters that collect every problem
 * instead of stopping at the first. Each getter marks its key as known; {@link #validate()} then
 * rejects the keys nobody read, so a misspelt setting is an error, not a silent default.
 *
 * <p>Not thread-safe: used by one adapter while it builds one handler.
 */
public final class Params {

  /** One problem with one setting. */
  public record Problem(String field, String reason) {
    @Override
    public String toString() {
      return field + ": " + reason;
    }
  }

  private final Map<String, Object> values;
  private final Set<String> read = new LinkedHashSet<>();
  private final List<Problem> problems = new ArrayList<>();

  public Params(Map<String, ?> values) {
    this.values = new LinkedHashMap<>(values == null ? Map.of() : values);
  }

  /** The raw values, for equality between snapshots. */
  public Map<String, Object> asMap() {
    return java.util.Collections.unmodifiableMap(values);
  }

  public boolean has(String key) {
    read.add(key);
    return values.get(key) != null;
  }

  /** Records a problem with {@code field} found by the adapter's own checks. */
  public void error(String field, String reason) {
    problems.add(new Problem(field, reason));
  }

  public String string(String key, String defaultValue) {
    Object v = raw(key);
    if (v == null) {
      return defaultValue;
    }
    if (v instanceof Map || v instanceof List) {
      error(key, "must be a string");
      return defaultValue;
    }
    return String.valueOf(v);
  }

  public boolean bool(String key, boolean defaultValue) {
    Object v = raw(key);
    if (v == null) {
      return defaultValue;
    }
    if (v instanceof Boolean b) {
      return b;
    }
    error(key, "must be true or false, was '" + v + "'");
    return defaultValue;
  }

  public long integer(String key, long defaultValue, long min, long max) {
    Object v = raw(key);
    if (v == null) {
      return defaultValue;
    }
    long n;
    if (v instanceof Number num && !(v instanceof Double || v instanceof Float)) {
      n = num.longValue();
    } else {
      try {
        n = Long.parseLong(String.valueOf(v));
      } catch (NumberFormatException e) {
        error(key, "must be an integer, was '" + v + "'");
        return defaultValue;
      }
    }
    if (n < min || n > max) {
      error(key, "must be between " + min + " and " + max + ", was " + n);
      return defaultValue;
    }
    return n;
  }

  public Duration duration(String key, Duration defaultValue) {
    Object v = raw(key);
    if (v == null) {
      return defaultValue;
    }
    try {
      return Durations.parse(String.valueOf(v));
    } catch (IllegalArgumentException e) {
      error(key, e.getMessage());
      return defaultValue;
    }
  }

  public <E extends Enum<E>> E enumValue(String key, Class<E> type, E defaultValue) {
    Object v = raw(key);
    if (v == null) {
      return defaultValue;
    }
    String s = String.valueOf(v).trim().toUpperCase(Locale.ROOT);
    for (E e : type.getEnumConstants()) {
      if (e.name().equals(s)) {
        return e;
      }
    }
    List<String> names = new ArrayList<>();
    for (E e : type.getEnumConstants()) {
      names.add(e.name());
    }
    error(key, "'" + v + "' is not one of " + names);
    return defaultValue;
  }

  public List<String> stringList(String key) {
    Object v = raw(key);
    if (v == null) {
      return List.of();
    }
    if (!(v instanceof List<?> list)) {
      error(key, "must be a list");
      return List.of();
    }
    List<String> out = new ArrayList<>(list.size());
    for (int i = 0; i < list.size(); i++) {
      Object item = list.get(i);
      if (item == null || item instanceof Map || item instanceof List) {
        error(key + "[" + i + "]", "must be a string");
      } else {
        out.add(String.valueOf(item));
      }
    }
    return out;
  }

  public Map<String, String> stringMap(String key) {
    Object v = raw(key);
    if (v == null) {
      return Map.of();
    }
    if (!(v instanceof Map<?, ?> map)) {
      error(key, "must be a map");
      return Map.of();
    }
    Map<String, String> out = new LinkedHashMap<>();
    for (Map.Entry<?, ?> e : map.entrySet()) {
      Object item = e.getValue();
      if (item == null || item instanceof Map || item instanceof List) {
        error(key + "." + e.getKey(), "must be a string");
      } else {
        out.put(String.valueOf(e.getKey()), String.valueOf(item));
      }
    }
    return out;
  }

  /**
   * Throws if any problem was recorded or any key was never read.
   *
   * @throws ParamsException with every problem
   */
  public void validate() {
    for (String key : values.keySet()) {
      if (!read.contains(key)) {
        problems.add(new Problem(key, "unknown setting (known: " + read + ")"));
      }
    }
    if (!problems.isEmpty()) {
      throw new ParamsException(problems);
    }
  }

  private Object raw(String key) {
    read.add(key);
    return values.get(key);
  }
}
