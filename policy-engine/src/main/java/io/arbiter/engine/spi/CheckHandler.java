package io.arbiter.engine.spi;

import java.util.concurrent.CompletionStage;

/**
 * A handler that takes part in precondition checks. The engine calls it once per instance of an
 * action (once with {@link Instance.CheckNothing} when the action names no instance).
 */
public interface CheckHandler extends Handler {

  /**
   * Decides on one instance. Must not block: a handler whose answer needs I/O returns a stage
   * completed later. A stage completed exceptionally, or not completed by the engine's deadline, is
   * a handler failure, which the engine turns into the configured fail-open or fail-closed result.
   */
  CompletionStage<CheckResult> check(Instance instance);
}
