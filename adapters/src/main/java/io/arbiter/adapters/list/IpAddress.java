package io.arbiter.adapters.list;

/**
 * An IPv4 or IPv6 address or prefix, parsed from its text without any name lookup.
 *
 * <p>An IPv4 address lives in the low 32 bits of {@code lo} ({@code hi} is 0); an IPv6 address is
 * the 128 bits {@code hi:lo}. IPv4-mapped IPv6 addresses ({@code ::ffff:192.0.2.1}, in any
 * spelling) are normalized to IPv4, so they match IPv4 entries; other IPv6 addresses,
 * IPv4-compatible ones ({@code ::192.0.2.1}) included, stay IPv6 and never match IPv4 entries.
 *
 * @param v4 whether this is an IPv4 address
 * @param hi the high 64 bits of an IPv6 address; 0 for IPv4
 * @param lo the low 64 bits of an IPv6 address, or the IPv4 address
 */
record IpAddress(boolean v4, long hi, long lo) {

  /** The longest text either parser accepts: a full IPv6 address with an IPv4 tail is 45. */
  private static final int MAX_TEXT = 45;

  /** An IPv4 or IPv6 prefix: a network address with its host bits cleared, and its length. */
  record Prefix(IpAddress network, int length) {}

  /** The width of the address in bits: 32 or 128. */
  int bits() {
    return v4 ? 32 : 128;
  }

  /**
   * Parses an address as it arrives in a checked value: dotted-quad IPv4 or RFC 4291 IPv6, with an
   * optional zone ({@code fe80::1%eth0}), which is ignored.
   *
   * @return the address, or {@code null} if {@code text} is not one
   */
  static IpAddress parseValue(String text) {
    int end = text.indexOf('%');
    if (end == 0) {
      return null;
    }
    return parse(text, 0, end < 0 ? text.length() : end);
  }

  /**
   * Parses a list entry: an address or a CIDR prefix ({@code 192.0.2.0/24}, {@code 2001:db8::/32}).
   * An address is a prefix of full length. Host bits below the prefix length are cleared, as Go's
   * {@code net.ParseCIDR} (and so Mixer) does. An IPv4-mapped prefix of length 96 or more becomes
   * the IPv4 prefix 96 shorter. No zones, no surrounding blanks, no leading zeros in IPv4 octets.
   *
   * @return the prefix, or {@code null} if {@code text} is not one
   */
  static Prefix parsePrefix(String text) {
    int slash = text.indexOf('/');
    if (slash < 0) {
      IpAddress a = parse(text, 0, text.length());
      return a == null ? null : new Prefix(a, a.bits());
    }
    IpAddress raw = parseRaw(text, 0, slash);
    int length = parseDecimal(text, slash + 1, text.length(), 128);
    if (raw == null || length < 0 || length > raw.bits()) {
      return null;
    }
    if (!raw.v4 && length >= 96 && isMapped(raw.hi, raw.lo)) {
      return new Prefix(
          new IpAddress(true, 0, raw.lo & 0xffff_ffffL).masked(length - 96), length - 96);
    }
    return new Prefix(raw.masked(length), length);
  }

  /** This address with every bit after the first {@code length} cleared. */
  IpAddress masked(int length) {
    if (v4) {
      return new IpAddress(true, 0, maskV4(lo, length));
    }
    return new IpAddress(false, maskHi(hi, length), maskLo(lo, length));
  }

  static long maskV4(long address, int length) {
    return length == 0 ? 0 : address & (0xffff_ffffL << (32 - length)) & 0xffff_ffffL;
  }

  static long maskHi(long hi, int length) {
    if (length >= 64) {
      return hi;
    }
    return length == 0 ? 0 : hi & (-1L << (64 - length));
  }

  static long maskLo(long lo, int length) {
    if (length <= 64) {
      return 0;
    }
    return lo & (-1L << (128 - length));
  }

  private static boolean isMapped(long hi, long lo) {
    return hi == 0 && (lo >>> 32) == 0xffffL;
  }

  private static IpAddress parse(String s, int from, int to) {
    IpAddress a = parseRaw(s, from, to);
    if (a != null && !a.v4 && isMapped(a.hi, a.lo)) {
      return new IpAddress(true, 0, a.lo & 0xffff_ffffL);
    }
    return a;
  }

  private static IpAddress parseRaw(String s, int from, int to) {
    if (to - from < 2 || to - from > MAX_TEXT) {
      return null;
    }
    for (int i = from; i < to; i++) {
      if (s.charAt(i) == ':') {
        return parseV6(s, from, to);
      }
    }
    long v4 = parseV4(s, from, to);
    return v4 < 0 ? null : new IpAddress(true, 0, v4);
  }

  /** Dotted quad, four decimal octets 0..255 without leading zeros; -1 if not one. */
  private static long parseV4(String s, int from, int to) {
    long value = 0;
    int octets = 0;
    int i = from;
    while (true) {
      int end = i;
      while (end < to && s.charAt(end) != '.') {
        end++;
      }
      int octet = parseDecimal(s, i, end, 255);
      if (octet < 0 || ++octets > 4) {
        return -1;
      }
      value = (value << 8) | octet;
      if (end == to) {
        break;
      }
      i = end + 1;
    }
    return octets == 4 ? value : -1;
  }

  /** A decimal of 1..3 digits without a leading zero, at most {@code max}; -1 if not one. */
  private static int parseDecimal(String s, int from, int to, int max) {
    int len = to - from;
    if (len < 1 || len > 3 || (len > 1 && s.charAt(from) == '0')) {
      return -1;
    }
    int n = 0;
    for (int i = from; i < to; i++) {
      char c = s.charAt(i);
      if (c < '0' || c > '9') {
        return -1;
      }
      n = n * 10 + (c - '0');
    }
    return n <= max ? n : -1;
  }

  /** The value of an ASCII hex digit, or -1. */
  private static int hex(char c) {
    if (c >= '0' && c <= '9') {
      return c - '0';
    } else if (c >= 'a' && c <= 'f') {
      return c - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
      return c - 'A' + 10;
    }
    return -1;
  }

  /** RFC 4291 section 2.2 text: eight groups, one "::", an optional IPv4 tail; null if not. */
  private static IpAddress parseV6(String s, int from, int to) {
    int[] groups = new int[8];
    int count = 0;
    int gap = -1;
    int i = from;
    if (s.charAt(i) == ':') {
      if (s.charAt(i + 1) != ':') {
        return null;
      }
      gap = 0;
      i += 2;
    }
    while (i < to) {
      if (count == 8) {
        return null;
      }
      int start = i;
      int value = 0;
      int digit;
      while (i < to && i - start <= 4 && (digit = hex(s.charAt(i))) >= 0) {
        value = (value << 4) | digit;
        i++;
      }
      if (i < to && s.charAt(i) == '.') {
        long v4 = count <= 6 ? parseV4(s, start, to) : -1;
        if (v4 < 0) {
          return null;
        }
        groups[count++] = (int) (v4 >>> 16);
        groups[count++] = (int) (v4 & 0xffff);
        break;
      }
      if (i == start || i - start > 4) {
        return null;
      }
      groups[count++] = value;
      if (i == to) {
        break;
      }
      if (s.charAt(i) != ':' || ++i == to) {
        return null;
      }
      if (s.charAt(i) == ':') {
        if (gap >= 0) {
          return null;
        }
        gap = count;
        i++;
      }
    }
    if (gap < 0 ? count != 8 : count > 7) {
      return null;
    }
    long hi = 0;
    long lo = 0;
    int tail = gap < 0 ? 0 : count - gap;
    for (int g = 0; g < count; g++) {
      int position = gap >= 0 && g >= gap ? 8 - tail + (g - gap) : g;
      if (position < 4) {
        hi |= (long) groups[g] << (16 * (3 - position));
      } else {
        lo |= (long) groups[g] << (16 * (7 - position));
      }
    }
    return new IpAddress(false, hi, lo);
  }
}
