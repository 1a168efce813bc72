package io.arbiter.engine.spi;

import java.util.concurrent.CompletionStage;

/**
 * A handler that allocates quota: on rate-limit calls, and on checks whose rules name a quota
 * instance (Mixer's combined precondition).
 */
public interface QuotaHandler extends Handler {

  /**
   * Allocates {@code request.amount()} from the bucket {@code quota}'s dimensions select. Must not
   * block. A stage completed exceptionally (a store that is down, say) is a handler failure, which
   * the handler itself may already have resolved by its own fail-open or fail-closed setting.
   */
  CompletionStage<QuotaResult> allocate(Instance.Quota quota, QuotaRequest request);
}
