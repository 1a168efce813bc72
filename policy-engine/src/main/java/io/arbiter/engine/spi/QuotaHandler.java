package io.arbiter.engine.spi;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * A handler that allocates quota: on rate-limit calls, and on checks whose rules name a quota
 * instance (Mixer's combined precondition).
 */
public interface QuotaHandler extends Handler {

  /** One allocation of a batch: from the bucket {@code quota}'s dimensions select, take {@code request}. */
  record Allocation(Instance.Quota quota, QuotaRequest request) {
    public Allocation {
      java.util.Objects.requireNonNull(quota, "quota");
      java.util.Objects.requireNonNull(request, "request");
    }
  }

  /**
   * Allocates {@code request.amount()} from the bucket {@code quota}'s dimensions select. Must not
   * block. A stage completed exceptionally (a store that is down, say) is a handler failure, which
   * the handler itself may already have resolved by its own fail-open or fail-closed setting.
   */
  CompletionStage<QuotaResult> allocate(Instance.Quota quota, QuotaRequest request);

  /**
   * Allocates every one of {@code allocations} as {@link #allocate} would, one after the other in
   * list order, and returns one stage per allocation, in the same order (the list has exactly
   * {@code allocations.size()} elements). The engine calls it once per handler for all the
   * allocations one request needs (every descriptor of a rate-limit call), so a handler backed by a
   * remote store can send them in one round trip; each stage still succeeds or fails on its own.
   * Must not block.
   *
   * <p>The default calls {@link #allocate} for each, turning an exception it throws into that
   * allocation's failed stage; handlers that answer in memory need nothing else. It loops by
   * index: the engine passes an unmodifiable view, whose iterator (and the one it wraps) would be
   * two objects per rate-limit call.
   */
  default List<CompletionStage<QuotaResult>> allocateAll(List<Allocation> allocations) {
    List<CompletionStage<QuotaResult>> out = new ArrayList<>(allocations.size());
    for (int i = 0; i < allocations.size(); i++) {
      Allocation a = allocations.get(i);
      CompletionStage<QuotaResult> r;
      try {
        r = allocate(a.quota(), a.request());
      } catch (RuntimeException e) {
        r = CompletableFuture.failedStage(e);
      }
      out.add(r);
    }
    return out;
  }
}
