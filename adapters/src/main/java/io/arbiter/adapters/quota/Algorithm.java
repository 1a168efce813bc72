package io.arbiter.adapters.quota;

/**
 * How a bucket counts. In every algorithm a denied allocation takes nothing, time is read in whole
 * milliseconds, and a limit is {@code maxAmount} units per {@code validDuration}.
 */
public enum Algorithm {
  /**
   * A counter per window; windows are consecutive multiples of {@code validDuration} since the Unix
   * epoch (UTC), so a {@code 1d} window starts at 00:00 UTC and every replica agrees on the edges.
   * Up to {@code maxAmount} in each window, whatever was used in the previous one, so a burst of
   * twice the limit can straddle an edge.
   */
  FIXED_WINDOW("fw"),
  /**
   * A sliding window made of {@code buckets} slots (Mixer's rolling window): slot {@code k} covers
   * {@code [k·W/N, (k+1)·W/N)} ms since the epoch (starting at the ceiling millisecond), and an
   * allocation succeeds while the slot of now and the {@code N-1} before it hold less than {@code
   * maxAmount}. Units taken in a slot come back when that slot leaves the window, {@code W} after
   * the slot began: more than {@code W·(N-1)/N} and at most {@code W} after they were taken. So any
   * span of up to {@code W·(N-1)/N} (90% of the window with the default 10 slots) holds at most
   * {@code maxAmount}, and a burst cannot double the limit at a window edge as with FIXED_WINDOW.
   */
  ROLLING_WINDOW("rw"),
  /**
   * A bucket of {@code maxAmount} tokens, full at first, refilled continuously at {@code maxAmount}
   * per {@code validDuration} (one token every {@code validDuration/maxAmount}) up to its
   * capacity; an allocation takes tokens. Refills happen at whole {@linkplain BucketLimit#tickMillis
   * ticks} (1 ms unless the limit is too large for exact arithmetic, see {@link BucketLimit}).
   */
  TOKEN_BUCKET("tb");

  private final String code;

  Algorithm(String code) {
    this.code = code;
  }

  /** The short name used in bucket keys and in the Redis script. */
  public String code() {
    return code;
  }
}
