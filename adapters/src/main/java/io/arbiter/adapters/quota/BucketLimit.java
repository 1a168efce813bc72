package io.arbiter.adapters.quota;

import io.arbiter.engine.spi.Durations;
import java.time.Duration;

/**
 * The effective limit of one bucket: its algorithm, {@code maxAmount} units per {@code
 * windowMillis}, and the algorithm's parameter. Immutable; build with {@link #of}, which rejects
 * what the arithmetic cannot hold exactly.
 *
 * <p>All bucket arithmetic is on integers below {@link #MAX_EXACT} (2<sup>52</sup>), so that the
 * Java code and {@code redisquota}'s Lua script (whose numbers are doubles) compute the same exact
 * values. Hence: {@code maxAmount ≤ 2^52}; a window of 1 ms to {@link #MAX_WINDOW} (3650 days);
 * for a token bucket, {@code maxAmount × windowMillis / tickMillis ≤ 2^52}, where the tick is the
 * smallest of 1 ms, 10 ms, …, 10<sup>8</sup> ms that divides the window and satisfies the bound (a
 * limit of 10<sup>6</sup> per day refills every 10 ms, say; standard windows always find one).
 *
 * @param buckets the number of slots of a {@link Algorithm#ROLLING_WINDOW}; 1 for the others
 * @param tickMillis the refill step of a {@link Algorithm#TOKEN_BUCKET}; 1 for the others
 */
public record BucketLimit(
    Algorithm algorithm, long maxAmount, long windowMillis, int buckets, long tickMillis) {

  /** Every quantity the algorithms compute stays at or below this: 2^52. */
  public static final long MAX_EXACT = 1L << 52;

  /** The longest window: 3650 days. */
  public static final Duration MAX_WINDOW = Duration.ofDays(3650);

  /** The most slots a rolling window may have. */
  public static final int MAX_BUCKETS = 100;

  /**
   * Builds a limit.
   *
   * @param buckets the slots of a rolling window (1 to {@link #MAX_BUCKETS}); ignored otherwise
   * @throws IllegalArgumentException saying which bound {@code maxAmount} or the window breaks
   */
  public static BucketLimit of(Algorithm algorithm, long maxAmount, long windowMillis, int buckets) {
    if (maxAmount < 0 || maxAmount > MAX_EXACT) {
      throw new IllegalArgumentException(
          "maxAmount must be between 0 and " + MAX_EXACT + ", was " + maxAmount);
    }
    if (windowMillis < 1 || windowMillis > MAX_WINDOW.toMillis()) {
      throw new IllegalArgumentException(
          "the window must be between 1ms and 3650d, was " + windowMillis + "ms");
    }
    return switch (algorithm) {
      case FIXED_WINDOW -> new BucketLimit(algorithm, maxAmount, windowMillis, 1, 1);
      case ROLLING_WINDOW -> {
        if (buckets < 1 || buckets > MAX_BUCKETS) {
          throw new IllegalArgumentException(
              "buckets must be between 1 and " + MAX_BUCKETS + ", was " + buckets);
        }
        yield new BucketLimit(algorithm, maxAmount, windowMillis, buckets, 1);
      }
      case TOKEN_BUCKET -> new BucketLimit(algorithm, maxAmount, windowMillis, 1,
          tick(maxAmount, windowMillis));
    };
  }

  private static long tick(long maxAmount, long windowMillis) {
    for (long tick = 1; tick <= 100_000_000L; tick *= 10) {
      if (windowMillis % tick == 0 && (maxAmount == 0 || windowMillis / tick <= MAX_EXACT / maxAmount)) {
        return tick;
      }
    }
    throw new IllegalArgumentException(
        "a TOKEN_BUCKET of "
            + maxAmount
            + " per "
            + Durations.format(Duration.ofMillis(windowMillis))
            + " is too large to compute exactly: maxAmount × validDuration in ms must be at most"
            + " 2^52, or the window a multiple of 10ms, 100ms, … that brings it below");
  }

  public Duration window() {
    return Duration.ofMillis(windowMillis);
  }

  /** The bucket's capacity in token-ticks ({@code maxAmount × windowMillis / tickMillis}). */
  long tokenCapacity() {
    return maxAmount * ticksPerWindow();
  }

  /** The window in ticks. */
  long ticksPerWindow() {
    return windowMillis / tickMillis;
  }

  /**
   * The last segment of a bucket key, naming the algorithm and the limit (a changed limit is a
   * new bucket): {@code fw-10-60000}, {@code rw-10-60000-6}, {@code tb-10-60000}.
   */
  public String keySegment() {
    StringBuilder b = new StringBuilder(32);
    appendKeySegment(b);
    return b.toString();
  }

  /** Appends {@link #keySegment()} to {@code b}: a key is built without the segment's own string. */
  public void appendKeySegment(StringBuilder b) {
    b.append(algorithm.code()).append('-').append(maxAmount).append('-').append(windowMillis);
    if (algorithm == Algorithm.ROLLING_WINDOW) {
      b.append('-').append(buckets);
    }
  }
}
