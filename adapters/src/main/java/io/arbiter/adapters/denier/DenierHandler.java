package io.arbiter.adapters.denier;

import io.arbiter.engine.spi.CheckHandler;
import io.arbiter.engine.spi.CheckResult;
import io.arbiter.engine.spi.Instance;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Answers every check with the same denial, built once at config load. Immutable and thread-safe;
 * holds no resources, so {@link #close()} has nothing to do.
 */
final class DenierHandler implements CheckHandler {
  private final CheckResult denial;
  private final CompletionStage<CheckResult> answer;

  DenierHandler(CheckResult denial) {
    this.denial = denial;
    // A minimal stage: callers cannot complete or obtrude it, so one instance serves every call.
    this.answer = CompletableFuture.completedStage(denial);
  }

  /** The denial every check gets. */
  CheckResult denial() {
    return denial;
  }

  /** Denies {@code instance} whatever it holds; never fails, never blocks. */
  @Override
  public CompletionStage<CheckResult> check(Instance instance) {
    return answer;
  }
}
