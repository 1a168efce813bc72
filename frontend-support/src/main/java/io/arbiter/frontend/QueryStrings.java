package io.arbiter.frontend;

import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/**
 * Splits an HTTP request target into path and query parameters the way Envoy's own query matchers
 * read them: {@code &}-separated {@code key=value} pairs, {@code %XX} and {@code +} decoded.
 *
 * <p>Decoding is lenient: a {@code %} not followed by two hex digits stays as it is, and bytes that
 * are not UTF-8 become U+FFFD. A key without {@code =} has the empty value; empty keys are skipped.
 * When a key repeats, the <em>first</em> value wins, as Envoy's {@code getFirstValue} does: a
 * parameter appended later cannot override one a policy already checked for.
 */
public final class QueryStrings {
  private QueryStrings() {}

  /** The end of the path in {@code target}: the index of the first {@code ?} or {@code #}. */
  public static int pathEnd(String target) {
    int n = target.length();
    for (int i = 0; i < n; i++) {
      char c = target.charAt(i);
      if (c == '?' || c == '#') {
        return i;
      }
    }
    return n;
  }

  /**
   * The decoded parameters of {@code target}'s query (after the first {@code ?}, before any
   * {@code #}); an empty map when there is none. The map is unmodifiable.
   */
  public static Map<String, String> parameters(String target) {
    int q = pathEnd(target);
    if (q == target.length() || target.charAt(q) != '?') {
      return Map.of(); // no query, or a '?' inside the fragment
    }
    int end = target.indexOf('#', q + 1);
    if (end < 0) {
      end = target.length();
    }
    if (q + 1 >= end) {
      return Map.of();
    }
    Map<String, String> out = new HashMap<>(8);
    int start = q + 1;
    while (start <= end) {
      int amp = target.indexOf('&', start);
      if (amp < 0 || amp > end) {
        amp = end;
      }
      if (amp > start) {
        int eq = target.indexOf('=', start);
        String key;
        String value;
        if (eq < 0 || eq > amp) {
          key = decode(target, start, amp);
          value = "";
        } else {
          key = decode(target, start, eq);
          value = decode(target, eq + 1, amp);
        }
        if (!key.isEmpty()) {
          out.putIfAbsent(key, value);
        }
      }
      start = amp + 1;
    }
    return Collections.unmodifiableMap(out);
  }

  /**
   * {@link #parameters} of {@code target}, parsed when first read: an empty map when the query has
   * no parameter (found by a scan without allocation), else a map that parses on its first use.
   * Most policies never read the query, and a decision-cache hit reads only what its key holds.
   * The map is unmodifiable and thread-safe (a race parses twice, to equal maps).
   */
  public static Map<String, String> lazyParameters(String target) {
    int q = pathEnd(target);
    if (q == target.length() || target.charAt(q) != '?') {
      return Map.of();
    }
    int end = target.indexOf('#', q + 1);
    if (end < 0) {
      end = target.length();
    }
    // A parameter exists exactly when some '&'-separated segment has a non-empty key, that is
    // starts with neither '&' (empty segment) nor '=' (empty key); decoding never empties a key.
    for (int i = q + 1; i < end; i++) {
      char c = target.charAt(i);
      if (c != '&' && c != '=' && (i == q + 1 || target.charAt(i - 1) == '&')) {
        return new LazyParameters(target);
      }
    }
    return Map.of();
  }

  /** The parameters of a target known to have at least one, parsed on first use. */
  private static final class LazyParameters extends java.util.AbstractMap<String, String> {
    private final String target;
    private volatile Map<String, String> parsed;

    LazyParameters(String target) {
      this.target = target;
    }

    private Map<String, String> parsed() {
      Map<String, String> p = parsed;
      if (p == null) {
        p = parameters(target);
        parsed = p;
      }
      return p;
    }

    @Override
    public String get(Object key) {
      return parsed().get(key);
    }

    @Override
    public boolean containsKey(Object key) {
      return parsed().containsKey(key);
    }

    @Override
    public int size() {
      return parsed().size();
    }

    @Override
    public boolean isEmpty() {
      return false;
    }

    @Override
    public Set<Map.Entry<String, String>> entrySet() {
      return parsed().entrySet();
    }
  }

  /** Decodes {@code %XX} escapes and {@code +} in {@code s} (see the class comment). */
  public static String decode(String s) {
    return decode(s, 0, s.length());
  }

  static String decode(String s, int from, int to) {
    int i = from;
    while (i < to && s.charAt(i) != '%' && s.charAt(i) != '+') {
      i++;
    }
    if (i == to) {
      return s.substring(from, to);
    }
    StringBuilder out = new StringBuilder(to - from);
    out.append(s, from, i);
    byte[] run = null;
    while (i < to) {
      char c = s.charAt(i);
      if (c == '%' && i + 2 < to && hex(s.charAt(i + 1)) >= 0 && hex(s.charAt(i + 2)) >= 0) {
        // A run of escapes is decoded as one UTF-8 sequence.
        if (run == null) {
          run = new byte[(to - i) / 3 + 1];
        }
        int len = 0;
        while (i + 2 < to && s.charAt(i) == '%' && hex(s.charAt(i + 1)) >= 0
            && hex(s.charAt(i + 2)) >= 0) {
          run[len++] = (byte) ((hex(s.charAt(i + 1)) << 4) | hex(s.charAt(i + 2)));
          i += 3;
        }
        out.append(new String(run, 0, len, StandardCharsets.UTF_8));
      } else {
        out.append(c == '+' ? ' ' : c);
        i++;
      }
    }
    return out.toString();
  }

  private static int hex(char c) {
    if (c >= '0' && c <= '9') {
      return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
      return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
      return c - 'A' + 10;
    }
    return -1;
  }
}
