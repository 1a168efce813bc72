package io.arbiter.engine.config;

import io.arbiter.engine.spi.Durations;
import io.arbiter.engine.spi.Params;
import java.time.Duration;
import java.util.Map;

/**
 * The {@code settings.overload:} section: load shedding for checks. A check the decision cache
 * cannot answer is shed, answered at once by the failure policy and counted, when
 *
 * <ul>
 *   <li>it waited longer than {@code maxQueueTime} between arriving (the front end's transport read
 *       it) and reaching the engine: by then the proxy has usually given up on it (Envoy's ext_authz
 *       timeout defaults to 200ms), so evaluating it only delays the checks behind it; or
 *   <li>{@code maxConcurrentChecks} checks are already being decided (waiting for slow handlers
 *       included), so a slow backend cannot pile up work without bound.
 * </ul>
 *
 * @param maxConcurrentChecks the most checks decided at once (default 10,000)
 * @param maxQueueTime the longest a check may wait before it is decided (default 200ms; 0 turns it
 *     off)
 */
public record OverloadSettings(int maxConcurrentChecks, Duration maxQueueTime) {

  public static final OverloadSettings DEFAULT = new OverloadSettings(10_000, Duration.ofMillis(200));

  static OverloadSettings read(Params p, Object raw) {
    if (raw == null) {
      return DEFAULT;
    }
    if (!(raw instanceof Map<?, ?> map)) {
      p.error("overload", "must be a mapping");
      return DEFAULT;
    }
    @SuppressWarnings("unchecked")
    Params o = new Params((Map<String, ?>) map);
    int max = (int) o.integer("maxConcurrentChecks", DEFAULT.maxConcurrentChecks, 1, 10_000_000);
    Duration queue = o.duration("maxQueueTime", DEFAULT.maxQueueTime);
    if (queue.isNegative() || queue.compareTo(Duration.ofMinutes(1)) > 0) {
      o.error("maxQueueTime", "must be between 0 and 1m, was " + Durations.format(queue));
    }
    try {
      o.validate();
    } catch (io.arbiter.engine.spi.ParamsException e) {
      e.problems().forEach(problem -> p.error("overload." + problem.field(), problem.reason()));
    }
    return new OverloadSettings(max, queue);
  }
}
