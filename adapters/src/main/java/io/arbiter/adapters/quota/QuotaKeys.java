package io.arbiter.adapters.quota;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.TreeMap;

/**
 * Bucket keys: {@code arbiter:quota:<handler>:<instance>:<dimensions>:<limit>}, where dimensions
 * are {@code name=value} pairs sorted by name and joined by commas ({@code -} when there are
 * none), and the limit is {@link BucketLimit#keySegment()}. Names and values are percent-encoded
 * where they hold {@code % : , = { }} or control characters, so distinct buckets never share a key
 * and no key has a Redis Cluster hash tag. A dimensions part longer than {@value
 * #MAX_DIMENSIONS_LENGTH} chars is replaced by {@code sha256-<hex>} of it, which bounds key size.
 */
public final class QuotaKeys {
  /** The longest dimensions part kept as text. */
  public static final int MAX_DIMENSIONS_LENGTH = 512;

  public static final String PREFIX = "arbiter:quota:";

  private QuotaKeys() {}

  /**
   * The key of a bucket. Built for every allocation, so into one builder sized for the usual key
   * (short names, a few short dimensions), with no intermediate strings.
   */
  public static String key(
      String handler, String instance, Map<String, String> dimensions, BucketLimit limit) {
    StringBuilder b = new StringBuilder(128).append(PREFIX);
    escape(b, handler);
    b.append(':');
    escape(b, instance);
    b.append(':');
    appendDimensions(b, dimensions);
    b.append(':');
    limit.appendKeySegment(b);
    return b.toString();
  }

  /** Appends the dimensions part of a key: the escaped pairs, or their hash when too long. */
  private static void appendDimensions(StringBuilder b, Map<String, String> dimensions) {
    if (dimensions.isEmpty()) {
      b.append('-');
      return;
    }
    int start = b.length();
    Map<String, String> sorted = dimensions.size() == 1 ? dimensions : new TreeMap<>(dimensions);
    for (Map.Entry<String, String> e : sorted.entrySet()) {
      if (b.length() > start) {
        b.append(',');
      }
      escape(b, e.getKey());
      b.append('=');
      escape(b, e.getValue() == null ? "" : e.getValue());
    }
    if (b.length() - start <= MAX_DIMENSIONS_LENGTH) {
      return;
    }
    String text = b.substring(start);
    b.setLength(start);
    try {
      byte[] digest =
          MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
      b.append("sha256-").append(HexFormat.of().formatHex(digest));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JDK has SHA-256", e);
    }
  }

  private static void escape(StringBuilder b, String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '%' || c == ':' || c == ',' || c == '=' || c == '{' || c == '}' || c < 0x20
          || c == 0x7f) {
        b.append('%').append(Character.forDigit(c >> 4 & 0xf, 16))
            .append(Character.forDigit(c & 0xf, 16));
      } else {
        b.append(c);
      }
    }
  }
}
