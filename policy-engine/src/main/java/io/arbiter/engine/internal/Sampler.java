package io.arbiter.engine.internal;

import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Decides which reports a rule takes: a random fraction, at most N per second, or both (a report
 * must pass both). Thread-safe, lock-free.
 */
public final class Sampler {
  private final double fraction;
  private final long maxPerSecond;
  private final AtomicLong second = new AtomicLong(-1);
  private final AtomicLong taken = new AtomicLong();

  /**
   * @param fraction 0..1 of reports to take; 1 takes all
   * @param maxPerSecond the most reports to take per wall-clock second; 0 means no cap
   */
  public Sampler(double fraction, long maxPerSecond) {
    this.fraction = fraction;
    this.maxPerSecond = maxPerSecond;
  }

  public boolean sample(long nowMillis) {
    if (fraction < 1.0 && ThreadLocalRandom.current().nextDouble() >= fraction) {
      return false;
    }
    if (maxPerSecond > 0) {
      long s = nowMillis / 1000;
      long current = second.get();
      if (current != s && second.compareAndSet(current, s)) {
        taken.set(0);
      }
      return taken.incrementAndGet() <= maxPerSecond;
    }
    return true;
  }
}
