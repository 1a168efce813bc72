package io.arbiter.engine.config;

import io.arbiter.engine.spi.Durations;
import io.arbiter.engine.spi.Params;
import java.time.Duration;
import java.util.Map;

/**
 * A handler's {@code resilience:} section: how the engine masks its backend's failures on checks.
 *
 * <pre>{@code
 * handlers:
 *   - name: users
 *     adapter: list
 *     params: {...}
 *     resilience: {timeout: 50ms, breakerFailures: 5, breakerOpenFor: 10s, staleFor: 1m}
 * }</pre>
 *
 * @param timeout the deadline of each call; null uses {@code settings.handlerTimeout}
 * @param breakerFailures consecutive failures (errors, deadlines, no result) that open the
 *     handler's circuit breaker (default 5; 0 turns the breaker off). While open, checks do not
 *     call the handler; after {@code breakerOpenFor} one call probes it, and a success closes it.
 * @param breakerOpenFor how long the breaker stays open before it probes (default 5s)
 * @param staleFor how long after a call succeeded its result may stand in for a failed or
 *     short-circuited call with the same instance (default 0: never; the failure policy decides)
 * @param staleEntries the most instances whose last good result is kept (default 10,000)
 */
public record Resilience(
    Duration timeout, int breakerFailures, Duration breakerOpenFor, Duration staleFor, int staleEntries) {

  public static final Resilience DEFAULT = new Resilience(null, 5, Duration.ofSeconds(5), Duration.ZERO, 10_000);

  /** Reads a handler's {@code resilience:} value; problems go to {@code errors} as field, reason. */
  public static Resilience read(Object raw, java.util.function.BiConsumer<String, String> errors) {
    if (raw == null) {
      return DEFAULT;
    }
    if (!(raw instanceof Map<?, ?> map)) {
      errors.accept("resilience", "must be a mapping");
      return DEFAULT;
    }
    @SuppressWarnings("unchecked")
    Params p = new Params((Map<String, ?>) map);
    Resilience d = DEFAULT;
    Duration timeout = p.duration("timeout", null);
    if (timeout != null && (timeout.isZero() || timeout.isNegative() || timeout.compareTo(Duration.ofMinutes(1)) > 0)) {
      p.error("timeout", "must be more than 0 and at most 1m, was " + Durations.format(timeout));
    }
    int failures = (int) p.integer("breakerFailures", d.breakerFailures, 0, 1_000_000);
    Duration openFor = p.duration("breakerOpenFor", d.breakerOpenFor);
    if (openFor.isZero() || openFor.isNegative() || openFor.compareTo(Duration.ofHours(1)) > 0) {
      p.error("breakerOpenFor", "must be more than 0 and at most 1h, was " + Durations.format(openFor));
    }
    Duration staleFor = p.duration("staleFor", d.staleFor);
    if (staleFor.isNegative() || staleFor.compareTo(Duration.ofDays(1)) > 0) {
      p.error("staleFor", "must be between 0 and 1d, was " + Durations.format(staleFor));
    }
    int staleEntries = (int) p.integer("staleEntries", d.staleEntries, 1, 10_000_000);
    try {
      p.validate();
    } catch (io.arbiter.engine.spi.ParamsException e) {
      e.problems().forEach(problem -> errors.accept("resilience." + problem.field(), problem.reason()));
    }
    return new Resilience(timeout, failures, openFor, staleFor, staleEntries);
  }
}
