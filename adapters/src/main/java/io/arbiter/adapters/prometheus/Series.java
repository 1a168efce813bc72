package io.arbiter.adapters.prometheus;

import com.codahale.metrics.Counter;
import io.arbiter.engine.metrics.BucketHistogram;
import java.util.concurrent.atomic.AtomicReference;

/** One labelled series of a user-defined metric, and what a value does to it. Thread-safe. */
abstract sealed class Series {

  /**
   * Applies {@code value}, already checked to be finite (and not negative for a counter).
   */
  abstract void record(Number value);

  /** Releases what the series registered; nothing for counters and histograms. */
  void close() {}

  /**
   * Adds values to a registry counter. The registry's counters count integers, so a double's
   * fraction is carried to the next value instead of being lost: the count shown is always the
   * integer part of the exact sum (less any fraction below 1 left when the series is dropped).
   */
  static final class CounterSeries extends Series {
    private final Counter counter;
    private double carry; // guarded by this

    CounterSeries(Counter counter) {
      this.counter = counter;
    }

    @Override
    void record(Number value) {
      if (value instanceof Long || value instanceof Integer) {
        counter.inc(value.longValue());
        return;
      }
      double d = value.doubleValue();
      if (d == Math.rint(d) && d < 0x1p53) {
        counter.inc((long) d);
        return;
      }
      synchronized (this) {
        carry += d;
        long whole = (long) carry;
        if (whole > 0) {
          counter.inc(whole);
          carry -= whole;
        }
      }
    }
  }

  /**
   * Holds the last value set; the registry reads it through a gauge registration this series owns
   * until it is closed.
   */
  static final class GaugeSeries extends Series {
    private final AtomicReference<Number> value = new AtomicReference<>();
    private volatile AutoCloseable registration;

    /** What the registry reads: the last value, NaN before the first. */
    Number read() {
      Number v = value.get();
      return v == null ? Double.NaN : v;
    }

    void registered(AutoCloseable registration) {
      this.registration = registration;
    }

    @Override
    void record(Number v) {
      value.set(v instanceof Integer i ? Long.valueOf(i) : v);
    }

    @Override
    void close() {
      AutoCloseable r = registration;
      if (r != null) {
        try {
          r.close();
        } catch (Exception e) {
          // Metrics' gauge registrations do not throw.
        }
      }
    }
  }

  /** Observes values into a registry histogram. */
  static final class HistogramSeries extends Series {
    private final BucketHistogram histogram;

    HistogramSeries(BucketHistogram histogram) {
      this.histogram = histogram;
    }

    @Override
    void record(Number value) {
      histogram.observe(value.doubleValue());
    }
  }
}
