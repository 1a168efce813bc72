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
    } else if (value instanceof Long || value instanceof Integer || value instanceof Short
        || value instanceof Byte) {
      out.append(((Number) value).longValue());
    } else if (value instanceof Number n) {
      String text = n.toString();
      if (NUMBER.matcher(text).matches()) {
        out.append(text);
      } else {
        string(out, text);
      }
    } else if (value instanceof Instant i) {
      out.append('"');
      instant(out, i);
      out.append('"');
    } else if (value instanceof Duration d) {
      seconds(out, d);
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

  /** Appends a duration as an exact decimal number of seconds: {@code 1.5}, {@code 0.000001}, {@code 3}. */
  public static void seconds(StringBuilder out, Duration d) {
    long s = d.getSeconds();
    int nanos = d.getNano();
    if (s < 0 && nanos > 0) {
      // Negative with a fraction: seconds -2, nanos 750,000,000 is -1.25.
      if (s == Long.MIN_VALUE) {
        out.append(BigDecimal.valueOf(s).add(BigDecimal.valueOf(nanos, 9)).stripTrailingZeros().toPlainString());
        return;
      }
      out.append('-');
      s = -(s + 1);
      nanos = 1_000_000_000 - nanos;
    }
    out.append(s);
    fraction(out, nanos);
  }

  /** Appends {@code .} and the nanoseconds' digits without trailing zeros, or nothing for 0. */
  private static void fraction(StringBuilder out, int nanos) {
    if (nanos == 0) {
      return;
    }
    int digits = 9;
    while (nanos % 10 == 0) {
      nanos /= 10;
      digits--;
    }
    out.append('.');
    for (int p = digits - 1, pow = pow10(p); p >= 0; p--, pow /= 10) {
      out.append((char) ('0' + (nanos / pow) % 10));
    }
  }

  private static int pow10(int p) {
    int v = 1;
    for (int i = 0; i < p; i++) {
      v *= 10;
    }
    return v;
  }

  /**
   * Appends {@code i} as {@link Instant#toString()} does (ISO-8601 in UTC, {@code Z}, fraction in
   * groups of three digits as needed), without its formatter for the years 0 to 9999.
   */
  public static void instant(StringBuilder out, Instant i) {
    long epochSecond = i.getEpochSecond();
    if (epochSecond < MIN_FAST_SECOND || epochSecond > MAX_FAST_SECOND) {
      out.append(i);
      return;
    }
    long days = Math.floorDiv(epochSecond, 86_400);
    int secondOfDay = (int) Math.floorMod(epochSecond, 86_400);
    java.time.LocalDate date = java.time.LocalDate.ofEpochDay(days);
    pad(out, date.getYear(), 4).append('-');
    pad(out, date.getMonthValue(), 2).append('-');
    pad(out, date.getDayOfMonth(), 2).append('T');
    pad(out, secondOfDay / 3600, 2).append(':');
    pad(out, secondOfDay / 60 % 60, 2).append(':');
    pad(out, secondOfDay % 60, 2);
    int nano = i.getNano();
    if (nano > 0) {
      out.append('.');
      if (nano % 1_000_000 == 0) {
        pad(out, nano / 1_000_000, 3);
      } else if (nano % 1_000 == 0) {
        pad(out, nano / 1_000, 6);
      } else {
        pad(out, nano, 9);
      }
    }
    out.append('Z');
  }

  /** 0000-01-01T00:00:00Z and 9999-12-31T23:59:59Z: where Instant.toString has no sign or extra digits. */
  private static final long MIN_FAST_SECOND = -62_167_219_200L;
  private static final long MAX_FAST_SECOND = 253_402_300_799L;

  private static StringBuilder pad(StringBuilder out, int value, int width) {
    for (int p = width - 1, pow = pow10(p); p >= 0; p--, pow /= 10) {
      out.append((char) ('0' + (value / pow) % 10));
    }
    return out;
  }

  /** CEL's null (an enum constant {@code NULL_VALUE}, of protobuf or of CEL's own values). */
  public static boolean isNullValue(Object value) {
    return value instanceof Enum<?> e && e.name().equals("NULL_VALUE");
  }

  /** Appends {@code s} as a JSON string. */
  public static void string(StringBuilder out, String s) {
    out.append('"');
    int n = s.length();
    int plain = 0; // s[plain, i) needs no escaping and is appended in one go
    for (int i = 0; i < n; i++) {
      char c = s.charAt(i);
      if (c >= 0x20 && c != '"' && c != '\\' && !Character.isSurrogate(c)) {
        continue;
      }
      out.append(s, plain, i);
      switch (c) {
        case '"' -> out.append("\\\"");
        case '\\' -> out.append("\\\\");
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        case '\t' -> out.append("\\t");
        default -> {
          if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(s.charAt(i + 1))) {
            out.append(c).append(s.charAt(++i));
          } else {
            unicode(out, c); // a control character or a lone surrogate
          }
        }
      }
      plain = i + 1;
    }
    out.append(s, plain, n);
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
