package io.arbiter.adapters.list;

/**
 * An immutable open-addressing hash set of 128-bit keys (two longs), so an IP lookup allocates
 * nothing. Filled once in the constructor; safe to share afterwards (final fields).
 */
final class LongPairSet {
  private final long[] his;
  private final long[] los;
  private final boolean[] used;
  private final int mask;
  private final int size;

  /** A set of the first {@code n} pairs {@code (his[i], los[i])}; duplicates count once. */
  LongPairSet(long[] keyHis, long[] keyLos, int n) {
    int capacity = Integer.highestOneBit(Math.max(4, n * 2 - 1)) << 1;
    his = new long[capacity];
    los = new long[capacity];
    used = new boolean[capacity];
    mask = capacity - 1;
    int distinct = 0;
    for (int i = 0; i < n; i++) {
      int slot = slot(keyHis[i], keyLos[i]);
      if (!used[slot]) {
        used[slot] = true;
        his[slot] = keyHis[i];
        los[slot] = keyLos[i];
        distinct++;
      }
    }
    size = distinct;
  }

  boolean contains(long hi, long lo) {
    return used[slot(hi, lo)];
  }

  int size() {
    return size;
  }

  /** The slot that holds the key, or the empty slot where it would go. */
  private int slot(long hi, long lo) {
    long h = hi * 0x9E37_79B9_7F4A_7C15L + lo;
    h ^= h >>> 33;
    h *= 0xFF51_AFD7_ED55_8CCDL;
    h ^= h >>> 33;
    int i = (int) h & mask;
    while (used[i] && (his[i] != hi || los[i] != lo)) {
      i = (i + 1) & mask;
    }
    return i;
  }
}
