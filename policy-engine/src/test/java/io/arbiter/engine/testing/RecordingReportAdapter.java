package io.arbiter.engine.testing;

import io.arbiter.engine.spi.Adapter;
import io.arbiter.engine.spi.AdapterContext;
import io.arbiter.engine.spi.Handler;
import io.arbiter.engine.spi.Instance;
import io.arbiter.engine.spi.Params;
import io.arbiter.engine.spi.ReportHandler;
import io.arbiter.engine.spi.Template;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A test adapter named {@code recorder} whose handlers keep every batch of report instances they
 * receive; {@code params: {fail: true}} makes every batch fail, {@code hang: true} never completes.
 */
public final class RecordingReportAdapter implements Adapter {
  public final List<List<Instance>> batches = new CopyOnWriteArrayList<>();

  @Override
  public String name() {
    return "recorder";
  }

  @Override
  public Set<Template> templates() {
    return Set.of(Template.METRIC, Template.LOGENTRY);
  }

  @Override
  public Handler create(Params params, AdapterContext context) {
    boolean fail = params.bool("fail", false);
    boolean hang = params.bool("hang", false);
    params.validate();
    return (ReportHandler) instances -> {
      if (hang) {
        return new CompletableFuture<Void>();
      }
      if (fail) {
        return CompletableFuture.failedFuture(new IllegalStateException("sink down"));
      }
      batches.add(instances);
      return CompletableFuture.completedFuture(null);
    };
  }

  /** Every instance received, batches flattened. */
  public List<Instance> all() {
    return batches.stream().flatMap(List::stream).toList();
  }

}
