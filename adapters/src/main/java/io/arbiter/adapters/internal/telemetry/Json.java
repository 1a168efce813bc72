package io.arbiter.adapters.internal.telemetry;

import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Iterator;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Renders the values instances carry (what CEL expressions evaluate to) as JSON text.
 *
 * <ul>
 *   <li>strings as JSON strings; control characters, {@code "} and {@code \} escaped, and lone
 *       surrogates as {@code \}{@code uXXXX} so the output stays valid UTF-8;
 *   <li>integers as JSON numbers; doubles as JSON numbers, except NaN and the infinities, which
 *       JSON has no number for, as the strings {@code "NaN"}, {@code "Infinity"}, {@code
 *       "-Infinity"};
 *   <li>booleans as {@code true}/{@code false}, null (and CEL's null value) as {@code null};
 *   <li>timestamps ({@link Instant}) as ISO-8601 strings in UTC, e.g. {@code
 *       "2030-01-01T00:00:00.250Z"} (as many fraction digits as needed);
 *   <li>durations as a number of seconds, exact, e.g. {@code 0.25} (the unit metric values use);
 *   <li>maps as objects (keys as text, in the map's order), lists and other iterables as arrays,
 *       byte arrays as base64 strings, optionals as their value or {@code null};
 *   <li>anything else as the JSON string of its {@code toString()}.
 * </ul>
 *
 * Stateless and thread-safe.
 */
public final class Json {
  private static final Pattern NUMBER = Pattern.compile("-?(0|[1-9]\\d*)(\\.\\d+)?([eE][+-]?\\d+)?");
  private static final char[] HEX = "0123456789abcdef".toCharArray();

  private Json() {}

  /** Appends {@code value} as JSON. */
  public static void value(StringBuilder out, Object value) {
    if (value == null || isNullValue(value)) {
      out.append("null");
    } else if (value instanceof String s) {
      string(out, s);
    } else if (value instanceof Boolean b) {
      out.append(b.booleanValue());
    } else if (value instanceof Double || value instanceof Float) {
      double d = ((Number) value).doubleValue();
      if (Double.isNaN(d)) {
        out.append("\"NaN\"");
      } else if (Double.isInfinite(d)) {
        out.append(d > 0 ? "\"Infinity\"" : "\"-Infinity\"");
      } else {
        out.append(Double.toString(d));
      }
    } else if (value instanceof Number n) {
      String text = n.toString();
      if (NUMBER.matcher(text).matches()) {
        out.append(text);
      } else {
        string(out, text);
      }
    } else if (value instanceof Instant i) {
      string(out, i.toString());
    } else if (value instanceof Duration d) {
      out.append(seconds(d));
    } else if (value instanceof Map<?, ?> m) {
      out.append('{');
      boolean first = true;
      for (Map.Entry<?, ?> e : m.entrySet()) {
        if (!first) {
          out.append(',');
        }
        first = false;
        string(out, String.valueOf(e.getKey()));
        out.append(':');
        value(out, e.getValue());
      }
      out.append('}');
    } else if (value instanceof Iterable<?> it) {
      out.append('[');
      Iterator<?> i = it.iterator();
      while (i.hasNext()) {
        value(out, i.next());
        if (i.hasNext()) {
          out.append(',');
        }
      }
      out.append(']');
    } else if (value instanceof byte[] bytes) {
      string(out, Base64.getEncoder().encodeToString(bytes));
    } else if (value instanceof Object[] array) {
      value(out, java.util.Arrays.asList(array));
    } else if (value instanceof Optional<?> o) {
      value(out, o.orElse(null));
    } else {
      string(out, value.toString());
    }
  }

  /** A duration as an exact decimal number of seconds: {@code 1.5}, {@code 0.000001}, {@code 3}. */
  public static String seconds(Duration d) {
    return BigDecimal.valueOf(d.getSeconds())
        .add(BigDecimal.valueOf(d.getNano(), 9))
        .stripTrailingZeros()
        .toPlainString();
  }

  /** CEL's null (an enum constant {@code NULL_VALUE}, of protobuf or of CEL's own values). */
  public static boolean isNullValue(Object value) {
    return value instanceof Enum<?> e && e.name().equals("NULL_VALUE");
  }

  /** Appends {@code s} as a JSON string. */
  public static void string(StringBuilder out, String s) {
    out.append('"');
    int n = s.length();
    for (int i = 0; i < n; i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> out.append("\\\"");
        case '\\' -> out.append("\\\\");
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        case '\t' -> out.append("\\t");
        default -> {
          if (c < 0x20) {
            unicode(out, c);
          } else if (Character.isHighSurrogate(c)
              && i + 1 < n && Character.isLowSurrogate(s.charAt(i + 1))) {
            out.append(c).append(s.charAt(++i));
          } else if (Character.isSurrogate(c)) {
            unicode(out, c);
          } else {
            out.append(c);
          }
        }
      }
    }
    out.append('"');
  }

  private static void unicode(StringBuilder out, char c) {
    out.append("\\u")
        .append(HEX[(c >> 12) & 0xF])
        .append(HEX[(c >> 8) & 0xF])
        .append(HEX[(c >> 4) & 0xF])
        .append(HEX[c & 0xF]);
  }
}
