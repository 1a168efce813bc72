package io.arbiter.engine.internal;

import com.github.benmanes.caffeine.cache.Ticker;
import java.time.Clock;

/** The engine's caches keep time by its clock: the system clock means the monotonic one. */
final class Tickers {
  private Tickers() {}

  /** {@link System#nanoTime} for the system clock; any other clock (a test's) read in ms. */
  static Ticker of(Clock clock) {
    return clock.equals(Clock.systemUTC()) ? Ticker.systemTicker() : () -> clock.millis() * 1_000_000L;
  }
}
