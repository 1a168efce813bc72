package io.arbiter.extauthz.internal;

import com.google.protobuf.ByteString;

/** UTF-8 helpers for wire text: lenient decoding and byte counting without encoding. */
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
}
