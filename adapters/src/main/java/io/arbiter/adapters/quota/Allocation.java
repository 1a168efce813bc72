package io.arbiter.adapters.quota;

import io.arbiter.engine.spi.QuotaResult;
import java.time.Duration;

/**
 * What one allocation from one bucket gave.
 *
 * @param granted units granted (0 when over the limit)
 * @param remaining units that could still be granted now, after this allocation
 * @param resetAfterMillis milliseconds until units come back (the window ends, the oldest used
 *     slot leaves the window, the next whole token); 0 when nothing is in use
 */
public record Allocation(long granted, long remaining, long resetAfterMillis) {

  /** The engine's view of this allocation from a bucket of {@code limit}. */
  public QuotaResult toResult(BucketLimit limit) {
    return new QuotaResult(
        granted, limit.maxAmount(), remaining, Duration.ofMillis(resetAfterMillis), limit.window());
  }
}
