package io.arbiter.engine.spi;

import java.time.Duration;

/**
 * The outcome of one allocation.
 *
 * @param granted units granted: the amount asked for, less (best effort), or 0 when over the limit
 * @param limit the limit of the bucket per window, for {@code RateLimit-Limit}
 * @param remaining units left in the window after this allocation, for {@code RateLimit-Remaining}
 * @param resetAfter time until the window frees units again, for {@code RateLimit-Reset}
 * @param window the bucket's window (the limit's unit)
 */
public record QuotaResult(long granted, long limit, long remaining, Duration resetAfter, Duration window) {

  /** A result for calls no quota applies to. */
  public static final QuotaResult UNLIMITED =
      new QuotaResult(Long.MAX_VALUE, Long.MAX_VALUE, Long.MAX_VALUE, Duration.ZERO, Duration.ZERO);

  /** True when nothing was granted: the caller is over its limit. */
  public boolean overLimit() {
    return granted <= 0;
  }
}
