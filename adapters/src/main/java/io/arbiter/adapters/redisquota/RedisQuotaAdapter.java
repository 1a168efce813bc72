package io.arbiter.adapters.redisquota;

import io.arbiter.adapters.quota.QuotaConfig;
import io.arbiter.engine.spi.Adapter;
import io.arbiter.engine.spi.AdapterContext;
import io.arbiter.engine.spi.Handler;
import io.arbiter.engine.spi.Params;
import io.arbiter.engine.spi.Template;
import java.util.Set;
import java.util.function.LongSupplier;

/**
 * The {@code redisquota} adapter: its handlers allocate {@code quota} instances from buckets kept
 * in Redis, so every Arbiter replica that shares the Redis enforces one limit.
 *
 * <p>Params:
 *
 * <ul>
 *   <li>{@code quotas} (required): as for {@code memquota}, see {@link QuotaConfig}; the same
 *       algorithms with the same results.
 *   <li>{@code redis} (required):
 *       <ul>
 *         <li>{@code url} (required): {@code redis://[[user]:password@]host[:port][/db]}; {@code
 *             rediss://...} for TLS (the JVM's trust store; {@code ?verifyPeer=NONE} turns
 *             verification off); {@code
 *             redis-sentinel://[password@]host[:port][,host2[:port2]]/[db]#masterName} to find the
 *             master through Sentinel (and follow failovers); with {@code cluster: true}, the URL
 *             of any node of a Redis Cluster.
 *         <li>{@code timeout}: the bound of one allocation's round trip, 1ms to 60s; default
 *             {@code 50ms}.
 *         <li>{@code failOpen}: what an allocation gets when Redis cannot answer it (not connected,
 *             timed out, an error): false (default) over the limit, with {@code resetAfter} 1 s
 *             (or the window, if shorter); true granted in full. Counted in {@code
 *             arbiter_redisquota_errors_total{handler,outcome="fail_open|fail_closed"}}.
 *         <li>{@code cluster}: true when {@code url} names a node of a Redis Cluster; default
 *             false. Each bucket is one key; the buckets of one request that share a hash slot are one
 *             script call on that slot's node, the others one call per slot, sent together.
 *       </ul>
 * </ul>
 *
 * <p>Keys are {@code arbiter:quota:<handler>:<instance>:<dimensions>:<limit>} (see {@link
 * io.arbiter.adapters.quota.QuotaKeys}), hashes that expire when the bucket is as good as fresh
 * (at most one window after their last grant), so Redis memory is bounded by the buckets in use.
 * Time is Redis's {@code TIME} read inside the script, so replicas with skewed clocks agree.
 * Metrics: {@code arbiter_quota_allocations_total{handler,result}}, {@code
 * arbiter_redisquota_errors_total{handler,outcome}}, {@code arbiter_redisquota_connected{handler}},
 * {@code arbiter_redisquota_round_trip_seconds{handler}}. All the allocations one request makes
 * from one handler (every descriptor of a {@code ShouldRateLimit}) are one script call: one round
 * trip per request.
 * Stateless and thread-safe.
 */
public final class RedisQuotaAdapter implements Adapter {

  /** For {@link java.util.ServiceLoader}. */
  public RedisQuotaAdapter() {}

  @Override
  public String name() {
    return "redisquota";
  }

  @Override
  public Set<Template> templates() {
    return Set.of(Template.QUOTA);
  }

  /**
   * Validates the params and starts connecting in the background: a Redis that is down at load is
   * not a config error (allocations get the {@code failOpen} outcome until it is up).
   *
   * @throws io.arbiter.engine.spi.ParamsException naming every bad setting by path (e.g. {@code
   *     redis.url}, {@code quotas[0].maxAmount})
   */
  @Override
  public Handler create(Params params, AdapterContext context) {
    return create(params, context, null);
  }

  /** As {@link #create(Params, AdapterContext)}, with the script's time given by {@code testNow}. */
  static RedisQuotaHandler create(Params params, AdapterContext context, LongSupplier testNow) {
    QuotaConfig config = QuotaConfig.parse(params, context.handlerName());
    RedisSettings settings = RedisSettings.parse(params);
    params.validate();
    RedisQuotaHandler handler = new RedisQuotaHandler(config, settings, context, testNow);
    handler.start();
    return handler;
  }
}
