package io.arbiter.adapters.memquota;

import com.codahale.metrics.Counter;
import io.arbiter.adapters.quota.Allocation;
import io.arbiter.adapters.quota.BucketLimit;
import io.arbiter.adapters.quota.BucketState;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The buckets of one memquota handler, by key, never more than {@code maxKeys}.
 *
 * <p>A bucket is idle from its {@link BucketState#idleAtMillis()} on: dropping it then loses
 * nothing, since a fresh bucket behaves the same. {@link #sweep} drops idle buckets. When a new key
 * finds {@code maxKeys} buckets, the store sweeps, and if more than 90% of {@code maxKeys} (all but
 * {@code max(1, maxKeys/10)}) remain, it evicts the least recently used buckets (by the time of
 * their last allocation; ties in any order) down to that, counting each; an evicted key starts
 * afresh, with its whole limit, when it comes back. Evicting a tenth at a time keeps the cost of
 * the scan at a few steps per new key.
 *
 * <p>Thread-safe: allocations on one bucket are serialized on it; new keys are added one at a time
 * (so the bound is exact); a bucket removed while a caller waits for it is looked up again.
 */
final class BucketStore {

  private static final class Entry {
    final BucketState state;
    volatile long lastUsed;
    boolean removed; // guarded by this

    Entry(BucketState state, long now) {
      this.state = state;
      this.lastUsed = now;
    }
  }

  private record Candidate(String key, Entry entry, long lastUsed) {}

  private final ConcurrentHashMap<String, Entry> buckets = new ConcurrentHashMap<>();
  private final Object growLock = new Object();
  private final int maxKeys;
  private final Counter evictions;

  BucketStore(int maxKeys, Counter evictions) {
    if (maxKeys < 1) {
      throw new IllegalArgumentException("maxKeys must be at least 1, was " + maxKeys);
    }
    this.maxKeys = maxKeys;
    this.evictions = evictions;
  }

  Allocation allocate(String key, BucketLimit limit, long now, long amount, boolean bestEffort) {
    while (true) {
      Entry e = buckets.get(key);
      if (e == null) {
        e = insert(key, limit, now);
      }
      synchronized (e) {
        if (e.removed) {
          continue;
        }
        e.lastUsed = now;
        return e.state.allocate(now, amount, bestEffort);
      }
    }
  }

  int size() {
    return buckets.size();
  }

  boolean contains(String key) {
    return buckets.containsKey(key);
  }

  /** Drops every bucket idle at {@code now}; returns how many. */
  int sweep(long now) {
    int dropped = 0;
    for (Map.Entry<String, Entry> m : buckets.entrySet()) {
      Entry e = m.getValue();
      synchronized (e) {
        if (!e.removed && e.state.idleAtMillis() <= now) {
          e.removed = true;
          buckets.remove(m.getKey(), e);
          dropped++;
        }
      }
    }
    return dropped;
  }

  void clear() {
    for (Map.Entry<String, Entry> m : buckets.entrySet()) {
      synchronized (m.getValue()) {
        m.getValue().removed = true;
      }
    }
    buckets.clear();
  }

  private Entry insert(String key, BucketLimit limit, long now) {
    synchronized (growLock) {
      Entry e = buckets.get(key);
      if (e != null) {
        return e;
      }
      if (buckets.size() >= maxKeys) {
        makeRoom(now);
      }
      e = new Entry(BucketState.create(limit, now), now);
      buckets.put(key, e);
      return e;
    }
  }

  private void makeRoom(long now) {
    sweep(now);
    int target = maxKeys - Math.max(1, maxKeys / 10);
    int excess = buckets.size() - target;
    if (excess <= 0) {
      return;
    }
    List<Candidate> all = new ArrayList<>(buckets.size());
    for (Map.Entry<String, Entry> m : buckets.entrySet()) {
      all.add(new Candidate(m.getKey(), m.getValue(), m.getValue().lastUsed));
    }
    all.sort(Comparator.comparingLong(Candidate::lastUsed));
    for (int i = 0; i < all.size() && excess > 0; i++) {
      Candidate c = all.get(i);
      synchronized (c.entry()) {
        if (!c.entry().removed) {
          c.entry().removed = true;
          buckets.remove(c.key(), c.entry());
          evictions.inc();
          excess--;
        }
      }
    }
  }
}
