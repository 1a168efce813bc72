package io.arbiter.ratelimit;

import io.arbiter.engine.spi.Adapter;
import io.arbiter.engine.spi.AdapterContext;
import io.arbiter.engine.spi.Handler;
import io.arbiter.engine.spi.Instance;
import io.arbiter.engine.spi.Params;
import io.arbiter.engine.spi.QuotaHandler;
import io.arbiter.engine.spi.QuotaRequest;
import io.arbiter.engine.spi.QuotaResult;
import io.arbiter.engine.spi.Template;
import io.grpc.Context;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * A test adapter named {@code window}: {@code limit} units per bucket (one per distinct dimensions
 * and limit override), a window of {@code window} that never ends ({@code resetAfter} is always
 * {@code reset}, default the window). A request's limit override replaces the limit and window.
 * It records every allocation, and the size of every batch ({@code allocateAll}) it gets. {@code behavior: pending} queues each allocation's future for the
 * test to complete; {@code behavior: throw} throws from {@code allocate}; {@code behavior:
 * null-window} answers a result without a window (a handler bug).
 */
final class WindowQuotaAdapter implements Adapter {
  /** One allocation as the handler saw it. */
  record Call(String handler, Map<String, String> dimensions, QuotaRequest request) {}

  final List<Call> calls = new CopyOnWriteArrayList<>();
  /** The size of each {@code allocateAll} batch the engine sent, by handler label. */
  final List<String> batches = new CopyOnWriteArrayList<>();
  /** An allocation waiting for the test, with the gRPC context it ran in. */
  record Pending(CompletableFuture<QuotaResult> result, Context context) {}

  final BlockingQueue<Pending> pending = new LinkedBlockingQueue<>();

  @Override
  public String name() {
    return "window";
  }

  @Override
  public Set<Template> templates() {
    return Set.of(Template.QUOTA);
  }

  @Override
  public Handler create(Params params, AdapterContext context) {
    long limit = params.integer("limit", 10, 0, Long.MAX_VALUE);
    Duration window = params.duration("window", Duration.ofMinutes(1));
    Duration reset = params.duration("reset", window);
    String behavior = params.string("behavior", "count");
    String label = params.string("label", "");
    params.validate();
    Map<Object, Long> used = new ConcurrentHashMap<>();
    return new QuotaHandler() {
      @Override
      public List<CompletionStage<QuotaResult>> allocateAll(List<Allocation> allocations) {
        batches.add(label + ":" + allocations.size());
        return QuotaHandler.super.allocateAll(allocations);
      }

      @Override
      public CompletionStage<QuotaResult> allocate(Instance.Quota quota, QuotaRequest request) {
        calls.add(new Call(label, quota.dimensions(), request));
        if (behavior.equals("throw")) {
          throw new IllegalStateException("allocate blew up");
        }
        if (behavior.equals("null-window")) {
          // A handler bug the engine passes through: the front end must still answer.
          return CompletableFuture.completedFuture(new QuotaResult(1, 10, 9, Duration.ZERO, null));
        }
        if (behavior.equals("pending")) {
          CompletableFuture<QuotaResult> f = new CompletableFuture<>();
          pending.add(new Pending(f, Context.current()));
          return f;
        }
        long max = limit;
        Duration w = window;
        Duration r = reset;
        if (request.limitOverride() != null) {
          max = request.limitOverride().requests();
          w = Duration.ofSeconds(request.limitOverride().unitSeconds());
          r = w;
        }
        Object key = List.of(quota.dimensions(), String.valueOf(request.limitOverride()));
        synchronized (used) {
          long before = used.getOrDefault(key, 0L);
          if (before + request.amount() > max) {
            return CompletableFuture.completedFuture(new QuotaResult(0, max, max - before, r, w));
          }
          used.put(key, before + request.amount());
          return CompletableFuture.completedFuture(
              new QuotaResult(request.amount(), max, max - before - request.amount(), r, w));
        }
      }
    };
  }
}
