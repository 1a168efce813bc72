package io.arbiter.adapters.memquota;

import io.arbiter.adapters.quota.QuotaConfig;
import io.arbiter.engine.spi.Adapter;
import io.arbiter.engine.spi.AdapterContext;
import io.arbiter.engine.spi.Handler;
import io.arbiter.engine.spi.Params;
import io.arbiter.engine.spi.Template;
import java.util.Set;

/**
 * The {@code memquota} adapter: its handlers allocate {@code quota} instances from buckets kept in
 * memory, one bucket per instance, dimension values and limit.
 *
 * <p>Params:
 *
 * <ul>
 *   <li>{@code quotas} (required): one entry per quota instance the handler serves, {@code {name,
 *       maxAmount, validDuration, algorithm, buckets, overrides}}; see {@link QuotaConfig} for each
 *       field and {@link io.arbiter.adapters.quota.Algorithm} for the algorithms.
 *   <li>{@code maxKeys}: the most buckets kept, 1 to 100,000,000; default 100,000. Idle buckets
 *       are dropped (lossless) every 10 s and whenever a new key finds the store full; then, if
 *       more than 90% of {@code maxKeys} remain, the least recently used are evicted down to 90%
 *       (their keys start afresh), counted in {@code arbiter_memquota_evictions_total{handler}}.
 * </ul>
 *
 * <p>An allocation for an instance with no entry in {@code quotas}, or with a caller's limit that
 * cannot be computed, fails (the engine's failure policy decides) and is logged, at most once a
 * second. Metrics: {@code arbiter_quota_allocations_total{handler,result="granted|over_limit"}},
 * {@code arbiter_memquota_keys{handler}} (buckets kept), {@code
 * arbiter_memquota_evictions_total{handler}}. Stateless and thread-safe.
 */
public final class MemQuotaAdapter implements Adapter {
  /** Buckets kept unless {@code maxKeys} says otherwise. */
  public static final int DEFAULT_MAX_KEYS = 100_000;

  /** For {@link java.util.ServiceLoader}. */
  public MemQuotaAdapter() {}

  @Override
  public String name() {
    return "memquota";
  }

  @Override
  public Set<Template> templates() {
    return Set.of(Template.QUOTA);
  }

  /**
   * @throws io.arbiter.engine.spi.ParamsException naming every bad setting by path (e.g. {@code
   *     quotas[0].overrides[1].maxAmount})
   */
  @Override
  public Handler create(Params params, AdapterContext context) {
    QuotaConfig config = QuotaConfig.parse(params, context.handlerName());
    int maxKeys = (int) params.integer("maxKeys", DEFAULT_MAX_KEYS, 1, 100_000_000);
    params.validate();
    MemQuotaHandler handler = new MemQuotaHandler(config, maxKeys, context);
    handler.start();
    return handler;
  }
}
