package io.arbiter.adapters.otel;

import io.arbiter.adapters.internal.telemetry.Json;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.common.AttributesBuilder;
import io.opentelemetry.api.logs.Severity;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Maps a {@code logentry}'s severity and variables to OpenTelemetry's log data model.
 *
 * <p>Severity text (case-insensitive) to number: {@code TRACE}, {@code DEBUG}, {@code INFO}, {@code
 * NOTICE} (INFO2), {@code WARN}/{@code WARNING}, {@code ERROR}/{@code ERR}, {@code FATAL}, {@code
 * CRITICAL}/{@code CRIT} (FATAL2), {@code ALERT} (FATAL3), {@code EMERGENCY}/{@code EMERG}
 * (FATAL4); anything else is UNDEFINED. The text itself is kept as the record's severity text.
 *
 * <p>Variables to attributes: strings, booleans, integers and doubles as themselves; timestamps as
 * ISO-8601 strings; durations as doubles of seconds; maps flattened into one attribute per leaf,
 * keys joined with {@code .} ({@code headers.user-agent}); lists whose elements are all strings,
 * all booleans, all integers or all doubles as array attributes; other lists, and maps nested more
 * than 8 deep, as their JSON text; byte arrays as base64; null values are left out. Stateless.
 */
final class LogRecords {
  private static final int MAX_DEPTH = 8;

  private LogRecords() {}

  static Severity severity(String text) {
    if (text == null) {
      return Severity.UNDEFINED_SEVERITY_NUMBER;
    }
    return switch (text.trim().toUpperCase(Locale.ROOT)) {
      case "TRACE" -> Severity.TRACE;
      case "DEBUG" -> Severity.DEBUG;
      case "INFO", "INFORMATIONAL" -> Severity.INFO;
      case "NOTICE" -> Severity.INFO2;
      case "WARN", "WARNING" -> Severity.WARN;
      case "ERROR", "ERR" -> Severity.ERROR;
      case "FATAL" -> Severity.FATAL;
      case "CRITICAL", "CRIT" -> Severity.FATAL2;
      case "ALERT" -> Severity.FATAL3;
      case "EMERGENCY", "EMERG" -> Severity.FATAL4;
      default -> Severity.UNDEFINED_SEVERITY_NUMBER;
    };
  }

  /** The attributes of {@code variables} (which the SDK keeps sorted by key). */
  static Attributes attributes(Map<String, Object> variables) {
    AttributesBuilder b = Attributes.builder();
    for (Map.Entry<String, Object> e : variables.entrySet()) {
      put(b, e.getKey(), e.getValue(), 0);
    }
    return b.build();
  }

  private static void put(AttributesBuilder b, String key, Object v, int depth) {
    if (v == null || Json.isNullValue(v)) {
      return;
    }
    if (v instanceof Optional<?> o) {
      put(b, key, o.orElse(null), depth);
    } else if (v instanceof String s) {
      b.put(key, s);
    } else if (v instanceof Boolean bool) {
      b.put(key, bool);
    } else if (v instanceof Double || v instanceof Float) {
      b.put(key, ((Number) v).doubleValue());
    } else if (v instanceof Long || v instanceof Integer || v instanceof Short || v instanceof Byte) {
      b.put(key, ((Number) v).longValue());
    } else if (v instanceof Number n) {
      Long exact = exactLong(n);
      if (exact != null) {
        b.put(key, exact);
      } else {
        b.put(key, n.toString());
      }
    } else if (v instanceof Instant i) {
      b.put(key, i.toString());
    } else if (v instanceof Duration d) {
      b.put(key, d.toNanos() / 1e9);
    } else if (v instanceof Map<?, ?> m) {
      if (depth >= MAX_DEPTH) {
        b.put(key, json(v));
        return;
      }
      for (Map.Entry<?, ?> e : m.entrySet()) {
        put(b, key + "." + e.getKey(), e.getValue(), depth + 1);
      }
    } else if (v instanceof byte[] bytes) {
      b.put(key, Base64.getEncoder().encodeToString(bytes));
    } else if (v instanceof Object[] array) {
      list(b, key, Arrays.asList(array));
    } else if (v instanceof Iterable<?> it) {
      List<Object> items = new ArrayList<>();
      it.forEach(items::add);
      list(b, key, items);
    } else {
      b.put(key, v.toString());
    }
  }

  private static void list(AttributesBuilder b, String key, List<Object> items) {
    if (items.stream().allMatch(i -> i instanceof String)) {
      b.put(AttributeKey.stringArrayKey(key), items.stream().map(String.class::cast).toList());
    } else if (items.stream().allMatch(i -> i instanceof Boolean)) {
      b.put(AttributeKey.booleanArrayKey(key), items.stream().map(Boolean.class::cast).toList());
    } else if (items.stream().allMatch(
        i -> i instanceof Long || i instanceof Integer || i instanceof Short || i instanceof Byte)) {
      b.put(AttributeKey.longArrayKey(key), items.stream().map(i -> ((Number) i).longValue()).toList());
    } else if (items.stream().allMatch(i -> i instanceof Double || i instanceof Float)) {
      b.put(AttributeKey.doubleArrayKey(key),
          items.stream().map(i -> ((Number) i).doubleValue()).toList());
    } else {
      b.put(key, json(items));
    }
  }

  private static Long exactLong(Number n) {
    try {
      return Long.parseLong(n.toString());
    } catch (NumberFormatException e) {
      return null;
    }
  }

  private static String json(Object v) {
    StringBuilder sb = new StringBuilder();
    Json.value(sb, v);
    return sb.toString();
  }
}
