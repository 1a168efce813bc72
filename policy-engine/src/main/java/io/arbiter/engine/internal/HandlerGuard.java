package io.arbiter.engine.internal;

import com.codahale.metrics.Counter;
import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.arbiter.engine.config.Resilience;
import io.arbiter.engine.metrics.Metrics;
import io.arbiter.engine.spi.CheckResult;
import io.arbiter.engine.spi.Instance;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * What stands between checks and one handler: its deadline, its circuit breaker, and the last good
 * result per instance that may stand in for a failed call ({@link Resilience}).
 *
 * <p>The breaker counts consecutive failures; at {@code breakerFailures} it opens and checks stop
 * calling the handler (short-circuited: the stale result, else the failure policy) until
 * {@code breakerOpenFor} has passed; then exactly one call probes the backend (half-open), and its
 * success closes the breaker while its failure opens it again. A denial is an answer, not a
 * failure. Thread-safe; one guard per handler, kept across reloads that keep the handler and its
 * resilience settings.
 */
public final class HandlerGuard implements AutoCloseable {

  /** The breaker's state, as the {@code arbiter_handler_breaker_state} gauge shows it. */
  public enum State {
    CLOSED,
    OPEN,
    HALF_OPEN
  }

  /** A result that stood in for a failed call, and how old it was. */
  public record Stale(CheckResult result, Duration age) {}

  private record Good(CheckResult result, long atMillis) {}

  private final String handler;
  private final Resilience settings;
  private final long timeoutNanos;
  private final Clock clock;
  private final AtomicInteger failures = new AtomicInteger();
  private final AtomicBoolean probing = new AtomicBoolean();
  private volatile State state = State.CLOSED;
  private volatile long openedAtMillis;
  private final Cache<Instance, Good> lastGood;
  private final Counter opened;
  private final Counter shortCircuited;
  private final Counter staleServed;
  private final AutoCloseable stateGauge;

  public HandlerGuard(String handler, Resilience settings, Duration defaultTimeout, Clock clock, Metrics metrics) {
    this.handler = handler;
    this.settings = settings;
    this.timeoutNanos = (settings.timeout() != null ? settings.timeout() : defaultTimeout).toNanos();
    this.clock = clock;
    this.lastGood = settings.staleFor().isZero() ? null : Caffeine.newBuilder()
        .maximumSize(settings.staleEntries())
        .expireAfterWrite(settings.staleFor())
        .executor(Runnable::run)
        .ticker(Tickers.of(clock))
        .build();
    opened = metrics.counter("arbiter_handler_breaker_opened_total",
        "Times a handler's circuit breaker opened.", "handler", handler);
    shortCircuited = metrics.counter("arbiter_handler_short_circuited_total",
        "Check calls not made because the handler's circuit breaker was open.", "handler", handler);
    staleServed = metrics.counter("arbiter_handler_stale_served_total",
        "Failed or short-circuited check calls answered by the handler's last good result for the"
            + " same instance.", "handler", handler);
    stateGauge = metrics.gauge("arbiter_handler_breaker_state",
        "A handler's circuit breaker: 0 closed, 1 open, 2 half-open (probing).",
        () -> state.ordinal(), "handler", handler);
  }

  public String handler() {
    return handler;
  }

  /** Whether a guard built now for the same handler would behave the same. */
  public boolean sameAs(Resilience other, Duration defaultTimeout) {
    long t = (other.timeout() != null ? other.timeout() : defaultTimeout).toNanos();
    return settings.equals(other) && t == timeoutNanos;
  }

  public long timeoutNanos() {
    return timeoutNanos;
  }

  /** True if a call may go to the handler now; false (counted) when the breaker is open. */
  public boolean admit() {
    State s = state;
    if (s == State.CLOSED) {
      return true;
    }
    if (s == State.OPEN && clock.millis() - openedAtMillis >= settings.breakerOpenFor().toMillis()) {
      synchronized (this) {
        if (state == State.OPEN) {
          state = State.HALF_OPEN;
          probing.set(false);
        }
      }
    }
    if (state == State.HALF_OPEN && probing.compareAndSet(false, true)) {
      return true;
    }
    shortCircuited.inc();
    return false;
  }

  /** Records a good answer for {@code instance}. */
  public void succeeded(Instance instance, CheckResult result) {
    if (state != State.CLOSED) {
      synchronized (this) {
        state = State.CLOSED;
        probing.set(false);
      }
    }
    if (failures.get() != 0) {
      failures.set(0);
    }
    if (lastGood != null) {
      lastGood.put(instance, new Good(result, clock.millis()));
    }
  }

  /** Records a failed call (error, deadline, no result). */
  public void failed() {
    if (settings.breakerFailures() == 0) {
      return;
    }
    synchronized (this) {
      if (state == State.HALF_OPEN || (state == State.CLOSED && failures.incrementAndGet() >= settings.breakerFailures())) {
        state = State.OPEN;
        openedAtMillis = clock.millis();
        probing.set(false);
        failures.set(0);
        opened.inc();
      }
    }
  }

  /** The last good result for {@code instance} within {@code staleFor}, counted; or null. */
  public Stale stale(Instance instance) {
    if (lastGood == null) {
      return null;
    }
    Good g = lastGood.getIfPresent(instance);
    if (g == null) {
      return null;
    }
    staleServed.inc();
    return new Stale(g.result, Duration.ofMillis(Math.max(0, clock.millis() - g.atMillis)));
  }

  public State state() {
    return state;
  }

  @Override
  public void close() {
    try {
      stateGauge.close();
    } catch (Exception e) {
      // the registry's close does not fail
    }
  }
}
