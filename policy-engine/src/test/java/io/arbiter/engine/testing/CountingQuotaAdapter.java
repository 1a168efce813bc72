package io.arbiter.engine.testing;

import io.arbiter.engine.spi.Adapter;
import io.arbiter.engine.spi.AdapterContext;
import io.arbiter.engine.spi.Handler;
import io.arbiter.engine.spi.Params;
import io.arbiter.engine.spi.QuotaHandler;
import io.arbiter.engine.spi.QuotaResult;
import io.arbiter.engine.spi.Template;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A test adapter named {@code counter} that grants up to {@code limit} units per distinct set of
 * dimensions, forever (no window); {@code fail: true} fails every allocation.
 */
public final class CountingQuotaAdapter implements Adapter {
  @Override
  public String name() {
    return "counter";
  }

  @Override
  public Set<Template> templates() {
    return Set.of(Template.QUOTA);
  }

  @Override
  public Handler create(Params params, AdapterContext context) {
    long limit = params.integer("limit", 10, 0, Long.MAX_VALUE);
    boolean fail = params.bool("fail", false);
    params.validate();
    Map<Map<String, String>, AtomicLong> used = new ConcurrentHashMap<>();
    return (QuotaHandler) (quota, request) -> {
      if (fail) {
        return CompletableFuture.failedFuture(new IllegalStateException("store down"));
      }
      AtomicLong u = used.computeIfAbsent(quota.dimensions(), d -> new AtomicLong());
      long after = u.addAndGet(request.amount());
      if (after > limit) {
        u.addAndGet(-request.amount());
        return CompletableFuture.completedFuture(
            new QuotaResult(0, limit, Math.max(0, limit - u.get()), Duration.ofSeconds(30), Duration.ofMinutes(1)));
      }
      return CompletableFuture.completedFuture(
          new QuotaResult(request.amount(), limit, limit - after, Duration.ofSeconds(30), Duration.ofMinutes(1)));
    };
  }
}
