package io.arbiter.adapters.quota;

import com.codahale.metrics.Counter;
import io.arbiter.engine.metrics.Metrics;
import io.arbiter.engine.spi.QuotaResult;

/**
 * {@code arbiter_quota_allocations_total{handler,result}}: the allocations a quota handler
 * answered, by {@code granted} (at least one unit) or {@code over_limit} (none). Allocations that
 * fail (an unknown quota instance) are not counted here. Thread-safe.
 */
public final class AllocationMetrics {
  public static final String NAME = "arbiter_quota_allocations_total";

  private final Counter granted;
  private final Counter overLimit;

  public AllocationMetrics(Metrics metrics, String handler) {
    String help = "Quota allocations answered by a quota handler, by result.";
    granted = metrics.counter(NAME, help, "handler", handler, "result", "granted");
    overLimit = metrics.counter(NAME, help, "handler", handler, "result", "over_limit");
  }

  /** Counts {@code r} and returns it. */
  public QuotaResult count(QuotaResult r) {
    (r.overLimit() ? overLimit : granted).inc();
    return r;
  }
}
