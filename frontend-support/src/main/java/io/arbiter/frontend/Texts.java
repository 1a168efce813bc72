package io.arbiter.frontend;

import com.google.protobuf.ByteString;
import java.util.Collections;
import java.util.Map;

/**
 * Wire text as attribute text: lenient UTF-8 decoding and byte counting, lowercase header names,
 * peer addresses as Envoy prints them.
 */
public final class Texts {
  private Texts() {}

  /**
   * Decodes {@code bytes} as UTF-8; malformed or truncated sequences become U+FFFD, never an
   * exception (a header's {@code raw_value} may hold anything).
   */
  public static String decodeUtf8(ByteString bytes) {
    return bytes.isEmpty() ? "" : bytes.toStringUtf8();
  }

  /**
   * The number of bytes {@code s} takes in UTF-8, computed without encoding it. An unpaired
   * surrogate counts as the 3 bytes of its replacement character.
   */
  public static int utf8Length(String s) {
    int n = s.length();
    int bytes = n;
    for (int i = 0; i < n; i++) {
      char c = s.charAt(i);
      if (c < 0x80) {
        continue;
      }
      if (c < 0x800) {
        bytes += 1;
      } else if (Character.isHighSurrogate(c)
          && i + 1 < n
          && Character.isLowSurrogate(s.charAt(i + 1))) {
        bytes += 2; // a pair is 2 chars and 4 bytes
        i++;
      } else {
        bytes += 2;
      }
    }
    return bytes;
  }

  /** Lowercases ASCII letters only (header names); returns {@code s} itself when already lower. */
  public static String lowerAscii(String s) {
    int n = s.length();
    for (int i = 0; i < n; i++) {
      char c = s.charAt(i);
      if (c >= 'A' && c <= 'Z') {
        char[] out = s.toCharArray();
        for (int j = i; j < n; j++) {
          char d = out[j];
          if (d >= 'A' && d <= 'Z') {
            out[j] = (char) (d + ('a' - 'A'));
          }
        }
        return new String(out);
      }
    }
    return s;
  }

  /**
   * {@code headers} with lowercase names, unmodifiable; the map itself when its names are already
   * lowercase (Envoy logs them lowercase). Two names that differ only in case are joined with
   * {@code ","}, as Envoy joins a repeated header.
   */
  public static Map<String, String> lowerNames(Map<String, String> headers) {
    boolean lower = true;
    for (String k : headers.keySet()) {
      if (lowerAscii(k) != k) {
        lower = false;
        break;
      }
    }
    if (lower) {
      return Collections.unmodifiableMap(headers);
    }
    Map<String, String> out = Structs.newMap(headers.size());
    for (Map.Entry<String, String> e : headers.entrySet()) {
      out.merge(lowerAscii(e.getKey()), e.getValue(), (a, b) -> a + "," + b);
    }
    return Collections.unmodifiableMap(out);
  }

  /**
   * {@code host:port}, with an IPv6 host in brackets ({@code [::1]:8080}), as Envoy prints an
   * address ({@code %UPSTREAM_HOST%}); the host alone when {@code port} is negative.
   */
  public static String hostPort(String host, long port) {
    if (port < 0) {
      return host;
    }
    return host.indexOf(':') >= 0 ? "[" + host + "]:" + port : host + ":" + port;
  }

  /**
   * Splits an address as Envoy prints it ({@code 10.0.0.1:8080}, {@code [::1]:8080}, or an IP
   * alone: {@code 10.0.0.1}, {@code ::1}) into {host, port}; port is null when there is none.
   * Returns null for empty text.
   */
  public static String[] splitHostPort(String text) {
    String t = text.strip();
    if (t.isEmpty()) {
      return null;
    }
    if (t.startsWith("[")) {
      int close = t.indexOf(']');
      if (close < 0) {
        return new String[] {t, null};
      }
      String host = t.substring(1, close);
      String rest = t.substring(close + 1);
      return new String[] {host, rest.startsWith(":") && rest.length() > 1 ? rest.substring(1) : null};
    }
    int colon = t.indexOf(':');
    if (colon < 0 || colon != t.lastIndexOf(':')) {
      return new String[] {t, null}; // no port, or a bare IPv6 address
    }
    return new String[] {t.substring(0, colon), colon + 1 < t.length() ? t.substring(colon + 1) : null};
  }
}
