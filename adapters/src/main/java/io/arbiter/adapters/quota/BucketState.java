package io.arbiter.adapters.quota;

/**
 * The state of one bucket and the math of its algorithm, independent of where the state is kept:
 * {@code memquota} keeps these objects; {@code redisquota}'s script ({@code allocate.lua}) keeps
 * the same fields in a Redis hash and repeats these steps exactly, so both give equal results for
 * equal sequences. Not thread-safe: callers serialize the calls on one bucket.
 *
 * <p>Common rules: time is whole milliseconds since the epoch; a clock that goes back is treated
 * as standing still (the bucket never goes back to an earlier window, slot or tick); an allocation
 * of {@code amount} is granted whole if that much is available, else, for a best-effort request,
 * what is available if that is at least 1, else nothing; a denied allocation changes nothing.
 */
public abstract sealed class BucketState
    permits BucketState.FixedWindow, BucketState.RollingWindow, BucketState.TokenBucket {

  final BucketLimit limit;

  private BucketState(BucketLimit limit) {
    this.limit = limit;
  }

  /** A fresh bucket: nothing used (a full token bucket). */
  public static BucketState create(BucketLimit limit, long nowMillis) {
    return switch (limit.algorithm()) {
      case FIXED_WINDOW -> new FixedWindow(limit);
      case ROLLING_WINDOW -> new RollingWindow(limit, nowMillis);
      case TOKEN_BUCKET -> new TokenBucket(limit, nowMillis);
    };
  }

  public BucketLimit limit() {
    return limit;
  }

  /** Takes up to {@code amount} units at {@code nowMillis}. */
  public abstract Allocation allocate(long nowMillis, long amount, boolean bestEffort);

  /**
   * From when on this bucket is indistinguishable from a fresh one (its window has passed, its
   * slots have left the window, its tokens are full): a store may drop it then and lose nothing.
   */
  public abstract long idleAtMillis();

  static long grant(long amount, long available, boolean bestEffort) {
    if (available <= 0) {
      return 0;
    }
    if (amount <= available) {
      return amount;
    }
    return bestEffort ? available : 0;
  }

  /**
   * {@link Algorithm#FIXED_WINDOW}: window start {@code floor(now/W)·W}, a count in it; units
   * come back at {@code start + W}.
   */
  static final class FixedWindow extends BucketState {
    private long start = Long.MIN_VALUE;
    private long count;

    FixedWindow(BucketLimit limit) {
      super(limit);
    }

    @Override
    public Allocation allocate(long now, long amount, boolean bestEffort) {
      long w = limit.windowMillis();
      long s = Math.floorDiv(now, w) * w;
      if (s > start) {
        start = s;
        count = 0;
      }
      long g = grant(amount, limit.maxAmount() - count, bestEffort);
      count += g;
      return new Allocation(g, limit.maxAmount() - count, count > 0 ? start + w - now : 0);
    }

    @Override
    public long idleAtMillis() {
      return start == Long.MIN_VALUE ? Long.MIN_VALUE : start + limit.windowMillis();
    }
  }

  /**
   * {@link Algorithm#ROLLING_WINDOW} with {@code N} slots: slot of now {@code cur =
   * floor(now·N/W)}; slot {@code k} starts at {@code ceil(k·W/N)}; the window is slots {@code
   * cur-N+1 … cur}. Units come back when the oldest used slot {@code k} leaves it, at the start of
   * slot {@code k+N}.
   */
  static final class RollingWindow extends BucketState {
    /** counts[k mod N] is the count of slot k, for k in newest-N+1 … newest. */
    private final long[] counts;
    private long newest;

    RollingWindow(BucketLimit limit, long now) {
      super(limit);
      counts = new long[limit.buckets()];
      newest = slot(now);
    }

    private long slot(long now) {
      return Math.floorDiv(now * limit.buckets(), limit.windowMillis());
    }

    private long slotStart(long k) {
      return -Math.floorDiv(-k * limit.windowMillis(), limit.buckets());
    }

    private int pos(long k) {
      return (int) Math.floorMod(k, (long) limit.buckets());
    }

    @Override
    public Allocation allocate(long now, long amount, boolean bestEffort) {
      int n = limit.buckets();
      long cur = slot(now);
      if (cur > newest) {
        if (cur - newest >= n) {
          java.util.Arrays.fill(counts, 0);
        } else {
          for (long k = newest + 1; k <= cur; k++) {
            counts[pos(k)] = 0;
          }
        }
        newest = cur;
      }
      cur = newest;
      long used = 0;
      for (long c : counts) {
        used += c;
      }
      long g = grant(amount, limit.maxAmount() - used, bestEffort);
      counts[pos(cur)] += g;
      long reset = 0;
      for (long k = cur - n + 1; k <= cur; k++) {
        if (counts[pos(k)] > 0) {
          reset = slotStart(k + n) - now;
          break;
        }
      }
      return new Allocation(g, limit.maxAmount() - used - g, reset);
    }

    @Override
    public long idleAtMillis() {
      int n = limit.buckets();
      for (long k = newest; k > newest - n; k--) {
        if (counts[pos(k)] > 0) {
          return slotStart(k + n);
        }
      }
      return Long.MIN_VALUE;
    }
  }

  /**
   * {@link Algorithm#TOKEN_BUCKET}, in integers: with tick {@code τ}, {@code P = W/τ} ticks per
   * window and capacity {@code C = M·P} token-ticks, the bucket holds {@code a ≤ C} token-ticks
   * ({@code floor(a/P)} whole tokens) as of tick {@code last}; each tick adds {@code M}, up to
   * {@code C}. The next whole token comes {@code ceil((P - a mod P)/M)} ticks after {@code last}.
   */
  static final class TokenBucket extends BucketState {
    private long available;
    private long last;

    TokenBucket(BucketLimit limit, long now) {
      super(limit);
      available = limit.tokenCapacity();
      last = Math.floorDiv(now, limit.tickMillis());
    }

    @Override
    public Allocation allocate(long now, long amount, boolean bestEffort) {
      long m = limit.maxAmount();
      long p = limit.ticksPerWindow();
      long c = limit.tokenCapacity();
      long tau = limit.tickMillis();
      long t = Math.floorDiv(now, tau);
      if (t > last) {
        long e = t - last;
        available = e >= p ? c : Math.min(c, available + e * m);
        last = t;
      }
      long g = grant(amount, available / p, bestEffort);
      available -= g * p;
      long reset = 0;
      if (available < c) {
        reset = (last + ceilDiv(p - available % p, m)) * tau - now;
      }
      return new Allocation(g, available / p, reset);
    }

    @Override
    public long idleAtMillis() {
      long c = limit.tokenCapacity();
      if (available >= c) {
        return Long.MIN_VALUE;
      }
      return (last + ceilDiv(c - available, limit.maxAmount())) * limit.tickMillis();
    }

    private static long ceilDiv(long a, long b) {
      return -Math.floorDiv(-a, b);
    }
  }
}
