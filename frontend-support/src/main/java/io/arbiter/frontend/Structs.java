package io.arbiter.frontend;

import com.google.protobuf.ListValue;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import io.envoyproxy.envoy.config.core.v3.Metadata;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Converts protobuf {@code Struct}s to the JSON-like Java values of a {@code DYN_MAP} attribute:
 * maps, lists, {@link String}, {@link Double} and {@link Boolean}, all unmodifiable; and builds the
 * {@code Value}s front ends put in dynamic metadata.
 *
 * <p>Attribute values hold no null: a JSON {@code null} (or a value with no kind set) is dropped, from
 * a map as a missing key and from a list as a missing element. Depth needs no guard: the protobuf
 * parser already refuses messages nested more than 100 levels.
 */
public final class Structs {
  private Structs() {}

  /**
   * The {@code filter_metadata} of {@code metadata} as one map from filter name to its converted
   * struct; {@code typed_filter_metadata} is ignored (it needs the filters' message types).
   */
  public static Map<String, Object> filterMetadata(Metadata metadata) {
    Map<String, Struct> filters = metadata.getFilterMetadataMap();
    if (filters.isEmpty()) {
      return Map.of();
    }
    Map<String, Object> out = newMap(filters.size());
    for (Map.Entry<String, Struct> e : filters.entrySet()) {
      out.put(e.getKey(), toMap(e.getValue()));
    }
    return Collections.unmodifiableMap(out);
  }

  /** The struct as an unmodifiable map, null fields dropped. */
  public static Map<String, Object> toMap(Struct struct) {
    Map<String, Value> fields = struct.getFieldsMap();
    if (fields.isEmpty()) {
      return Map.of();
    }
    Map<String, Object> out = newMap(fields.size());
    for (Map.Entry<String, Value> e : fields.entrySet()) {
      Object v = toJava(e.getValue());
      if (v != null) {
        out.put(e.getKey(), v);
      }
    }
    return Collections.unmodifiableMap(out);
  }

  /** One value: a map, list, String, Double or Boolean; null for a JSON null or an unset value. */
  public static Object toJava(Value value) {
    return switch (value.getKindCase()) {
      case STRING_VALUE -> value.getStringValue();
      case NUMBER_VALUE -> value.getNumberValue();
      case BOOL_VALUE -> value.getBoolValue();
      case STRUCT_VALUE -> toMap(value.getStructValue());
      case LIST_VALUE -> toList(value.getListValue());
      case NULL_VALUE, KIND_NOT_SET -> null;
    };
  }

  private static List<Object> toList(ListValue list) {
    if (list.getValuesCount() == 0) {
      return List.of();
    }
    List<Object> out = new ArrayList<>(list.getValuesCount());
    for (Value v : list.getValuesList()) {
      Object j = toJava(v);
      if (j != null) {
        out.add(j);
      }
    }
    return Collections.unmodifiableList(out);
  }

  /** A string value. */
  public static Value string(String s) {
    return Value.newBuilder().setStringValue(s).build();
  }

  /** A number value. */
  public static Value number(double n) {
    return Value.newBuilder().setNumberValue(n).build();
  }

  /** A list value. */
  public static Value list(java.util.Collection<Value> items) {
    return Value.newBuilder().setListValue(ListValue.newBuilder().addAllValues(items)).build();
  }

  /** A list value of what {@code list} holds. */
  public static Value list(ListValue.Builder list) {
    return Value.newBuilder().setListValue(list).build();
  }

  /** A struct value. */
  public static Value struct(Struct.Builder struct) {
    return Value.newBuilder().setStructValue(struct).build();
  }

  /** A list of string values. */
  public static Value strings(java.util.Collection<String> items) {
    ListValue.Builder list = ListValue.newBuilder();
    for (String s : items) {
      list.addValues(string(s));
    }
    return Value.newBuilder().setListValue(list).build();
  }

  /** A hash map that holds {@code expected} entries without resizing. */
  public static <K, V> Map<K, V> newMap(int expected) {
    return new HashMap<>(expected < 3 ? 4 : (int) (expected / 0.75f) + 1);
  }
}
