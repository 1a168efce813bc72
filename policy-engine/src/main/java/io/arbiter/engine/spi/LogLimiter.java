package io.arbiter.engine.spi;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Lets at most {@code perSecond} messages through each second, so a fault met by every call (a
 * config that fails on every check, a backend that is down) cannot flood the log; the count of what
 * it held back goes out with the next message let through. For the engine, front ends and
 * adapters alike. Thread-safe, lock-free.
 */
public final class LogLimiter {
  private final int perSecond;
  private final AtomicLong window = new AtomicLong();
  private final AtomicLong inWindow = new AtomicLong();
  private final AtomicLong suppressed = new AtomicLong();

  /** @param perSecond how many messages may pass per wall-clock second; at least 1 */
  public LogLimiter(int perSecond) {
    if (perSecond < 1) {
      throw new IllegalArgumentException("perSecond must be at least 1, was " + perSecond);
    }
    this.perSecond = perSecond;
  }

  /**
   * @return -1 to drop the message, otherwise how many were suppressed before it
   */
  public long tryAcquire(long nowMillis) {
    long second = nowMillis / 1000;
    long w = window.get();
    if (w != second && window.compareAndSet(w, second)) {
      inWindow.set(0);
    }
    if (inWindow.incrementAndGet() > perSecond) {
      suppressed.incrementAndGet();
      return -1;
    }
    return suppressed.getAndSet(0);
  }
}
