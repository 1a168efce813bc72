package io.arbiter.engine.spi;

import java.util.List;
import java.util.concurrent.CompletionStage;

/**
 * A handler that receives telemetry after requests: {@link Instance.Metric} and {@link
 * Instance.LogEntry} instances, in batches. The engine calls it with every instance a batch of
 * reports produced for it, in report order, and never waits for it on a request path.
 */
public interface ReportHandler extends Handler {

  /**
   * Takes one batch. Must not block: a handler that does I/O buffers the batch (bounded, counting
   * what it must drop) and completes the stage when it has taken responsibility for it. A stage
   * completed exceptionally is counted as a failed dispatch of the whole batch.
   */
  CompletionStage<Void> report(List<Instance> instances);
}
