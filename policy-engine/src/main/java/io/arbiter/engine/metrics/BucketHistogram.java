package io.arbiter.engine.metrics;

import com.codahale.metrics.Metric;
import java.util.Arrays;
import java.util.concurrent.atomic.DoubleAdder;
import java.util.concurrent.atomic.LongAdder;

/**
 * A histogram with fixed bucket bounds, exposed as a Prometheus histogram ({@code _bucket}, {@code
 * _sum}, {@code _count}). Recording is lock-free: one binary search and two adders. Thread-safe.
 */
public final class BucketHistogram implements Metric {
  private final double[] bounds;
  private final LongAdder[] counts;
  private final DoubleAdder sum = new DoubleAdder();

  /**
   * @param bounds the upper bounds of the buckets, strictly increasing; {@code +Inf} is implied
   */
  public BucketHistogram(double[] bounds) {
    for (int i = 1; i < bounds.length; i++) {
      if (!(bounds[i] > bounds[i - 1])) {
        throw new IllegalArgumentException("bucket bounds must increase: " + Arrays.toString(bounds));
      }
    }
    this.bounds = bounds.clone();
    this.counts = new LongAdder[bounds.length + 1];
    for (int i = 0; i < counts.length; i++) {
      counts[i] = new LongAdder();
    }
  }

  public void observe(double value) {
    int i = Arrays.binarySearch(bounds, value);
    counts[i >= 0 ? i : -i - 1].increment();
    sum.add(value);
  }

  public double[] bounds() {
    return bounds.clone();
  }

  /** Cumulative counts per bound, the last one for {@code +Inf} (the total count). */
  public long[] cumulativeCounts() {
    long[] out = new long[counts.length];
    long running = 0;
    for (int i = 0; i < counts.length; i++) {
      running += counts[i].sum();
      out[i] = running;
    }
    return out;
  }

  public double sum() {
    return sum.sum();
  }
}
