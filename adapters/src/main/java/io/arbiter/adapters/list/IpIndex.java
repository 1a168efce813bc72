package io.arbiter.adapters.list;

import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;

/**
 * IP address and CIDR entries, one hash set of network addresses per prefix length and family: a
 * lookup masks the value once per distinct prefix length in the list (at most 33 for IPv4, 129 for
 * IPv6) and probes that set, allocating nothing beyond parsing the value.
 *
 * <p>IPv4 entries match IPv4 values and IPv4-mapped IPv6 values; IPv6 entries match IPv6 values
 * only, so {@code ::/0} does not contain {@code 192.0.2.1} (write {@code 0.0.0.0/0} as well).
 */
final class IpIndex implements EntryIndex {
  private final Family v4;
  private final Family v6;

  private IpIndex(Family v4, Family v6) {
    this.v4 = v4;
    this.v6 = v6;
  }

  static IpIndex of(List<Entry> entries) throws InvalidEntryException {
    List<IpAddress.Prefix> v4 = new ArrayList<>();
    List<IpAddress.Prefix> v6 = new ArrayList<>();
    for (Entry e : entries) {
      IpAddress.Prefix p = IpAddress.parsePrefix(e.text());
      if (p == null) {
        throw new InvalidEntryException(
            e,
            "'"
                + e.text()
                + "' is not an IP address or CIDR prefix"
                + " (e.g. 192.0.2.1, 192.0.2.0/24, 2001:db8::/32)");
      }
      (p.network().v4() ? v4 : v6).add(p);
    }
    return new IpIndex(Family.of(v4), Family.of(v6));
  }

  @Override
  public Lookup lookup(String value) {
    IpAddress a = IpAddress.parseValue(value);
    if (a == null) {
      return Lookup.NOT_AN_IP;
    }
    return (a.v4() ? v4 : v6).contains(a) ? Lookup.FOUND : Lookup.ABSENT;
  }

  @Override
  public int size() {
    return v4.size() + v6.size();
  }

  /** The prefixes of one family, by length, longest first. */
  private record Family(int[] lengths, LongPairSet[] sets) {

    static Family of(List<IpAddress.Prefix> prefixes) {
      TreeMap<Integer, List<IpAddress>> byLength = new TreeMap<>((a, b) -> b - a);
      for (IpAddress.Prefix p : prefixes) {
        byLength.computeIfAbsent(p.length(), k -> new ArrayList<>()).add(p.network());
      }
      int[] lengths = new int[byLength.size()];
      LongPairSet[] sets = new LongPairSet[byLength.size()];
      int k = 0;
      for (var e : byLength.entrySet()) {
        List<IpAddress> networks = e.getValue();
        long[] his = new long[networks.size()];
        long[] los = new long[networks.size()];
        for (int i = 0; i < networks.size(); i++) {
          his[i] = networks.get(i).hi();
          los[i] = networks.get(i).lo();
        }
        lengths[k] = e.getKey();
        sets[k++] = new LongPairSet(his, los, networks.size());
      }
      return new Family(lengths, sets);
    }

    boolean contains(IpAddress a) {
      for (int k = 0; k < lengths.length; k++) {
        int length = lengths[k];
        long hi;
        long lo;
        if (a.v4()) {
          hi = 0;
          lo = IpAddress.maskV4(a.lo(), length);
        } else {
          hi = IpAddress.maskHi(a.hi(), length);
          lo = IpAddress.maskLo(a.lo(), length);
        }
        if (sets[k].contains(hi, lo)) {
          return true;
        }
      }
      return false;
    }

    int size() {
      int n = 0;
      for (LongPairSet s : sets) {
        n += s.size();
      }
      return n;
    }
  }
}
