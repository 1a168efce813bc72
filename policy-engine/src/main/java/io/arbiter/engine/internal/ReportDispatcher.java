package io.arbiter.engine.internal;

import com.codahale.metrics.Counter;
import io.arbiter.engine.AttributeBag;
import io.arbiter.engine.ReportOutcome;
import io.arbiter.engine.config.ConfigSnapshot;
import io.arbiter.engine.metrics.Metrics;
import io.arbiter.engine.spi.Instance;
import io.arbiter.engine.spi.LogLimiter;
import io.arbiter.engine.spi.ReportHandler;
import java.time.Clock;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Turns a batch of reports into one batch of instances per report handler: evaluates the report
 * rules (sampling included) for every report, builds their instances, and hands each handler its
 * batch once. A failing expression skips its instance and is counted; a failing or slow handler
 * fails only its own batch. Thread-safe.
 */
public final class ReportDispatcher {
  private static final System.Logger LOG = System.getLogger("arbiter.engine.report");

  private final Clock clock;
  private final Counter reports;
  private final Counter instances;
  private final Counter expressionErrors;
  private final Counter handlerErrors;
  private final Counter handlerTimeouts;
  private final LogLimiter log = new LogLimiter(5);

  public ReportDispatcher(Metrics metrics, Clock clock) {
    this.clock = clock;
    reports = metrics.counter("arbiter_reports_total", "Reports (access-log entries) evaluated.");
    instances = metrics.counter("arbiter_report_instances_total",
        "Report instances (metric values, log entries) handed to report handlers.");
    String errors = "arbiter_report_errors_total";
    String help = "Failures while dispatching reports, by kind: an instance expression, a handler batch that failed or timed out.";
    expressionErrors = metrics.counter(errors, help, "kind", "expression");
    handlerErrors = metrics.counter(errors, help, "kind", "handler");
    handlerTimeouts = metrics.counter(errors, help, "kind", "timeout");
  }

  private static final class Batch {
    final String handlerName;
    final List<Instance> instances = new ArrayList<>();

    Batch(String handlerName) {
      this.handlerName = handlerName;
    }
  }

  /** Dispatches {@code bags}; the stage completes when every handler took or failed its batch. */
  public CompletionStage<ReportOutcome> dispatch(ConfigSnapshot snap, List<AttributeBag> bags) {
    Map<ReportHandler, Batch> batches = new IdentityHashMap<>();
    int[] built = new int[1];
    int[] errors = new int[1];
    long now = clock.millis();
    for (AttributeBag bag : bags) {
      snap.reports().forCandidates(bag, rule -> {
        try {
          if (!rule.match().evalBool(bag)) {
            return;
          }
        } catch (EvaluationException e) {
          errors[0]++;
          failed("rule '" + rule.name() + "': match: " + e.getMessage());
          return;
        }
        if (rule.sampler() != null && !rule.sampler().sample(now)) {
          return;
        }
        rule.matches().inc();
        for (CompiledRule.Action action : rule.actions()) {
          for (CompiledInstance instance : action.reports()) {
            try {
              batches.computeIfAbsent(action.reportHandler(), h -> new Batch(action.handlerName()))
                  .instances.add(instance.build(bag));
              built[0]++;
            } catch (EvaluationException e) {
              errors[0]++;
              failed("rule '" + rule.name() + "': instance '" + instance.name() + "': " + e.getMessage());
            }
          }
        }
      });
    }
    reports.inc(bags.size());
    instances.inc(built[0]);
    expressionErrors.inc(errors[0]);
    if (batches.isEmpty()) {
      return CompletableFuture.completedFuture(new ReportOutcome(bags.size(), built[0], errors[0], 0));
    }
    AtomicInteger failedBatches = new AtomicInteger();
    long timeoutNanos = snap.settings().reportTimeout().toNanos();
    List<CompletableFuture<Void>> pending = new ArrayList<>(batches.size());
    for (Map.Entry<ReportHandler, Batch> e : batches.entrySet()) {
      Batch batch = e.getValue();
      CompletableFuture<Void> stage;
      try {
        stage = e.getKey().report(List.copyOf(batch.instances)).toCompletableFuture();
      } catch (RuntimeException ex) {
        stage = CompletableFuture.failedFuture(ex);
      }
      if (!stage.isDone()) {
        stage = stage.copy().orTimeout(timeoutNanos, TimeUnit.NANOSECONDS);
      }
      pending.add(stage.handle((v, t) -> {
        if (t != null) {
          failedBatches.incrementAndGet();
          Throwable cause = t.getCause() != null && t instanceof java.util.concurrent.CompletionException ? t.getCause() : t;
          if (cause instanceof java.util.concurrent.TimeoutException) {
            handlerTimeouts.inc();
            failed("handler '" + batch.handlerName + "': took no batch of " + batch.instances.size()
                + " instance(s) within " + snap.settings().reportTimeout().toMillis() + "ms");
          } else {
            handlerErrors.inc();
            failed("handler '" + batch.handlerName + "': batch of " + batch.instances.size()
                + " instance(s) failed: " + cause);
          }
        }
        return null;
      }));
    }
    return CompletableFuture.allOf(pending.toArray(CompletableFuture[]::new))
        .thenApply(v -> new ReportOutcome(bags.size(), built[0], errors[0], failedBatches.get()));
  }

  private void failed(String message) {
    long suppressed = log.tryAcquire(clock.millis());
    if (suppressed >= 0) {
      LOG.log(System.Logger.Level.WARNING, "report: {0}{1}", message,
          suppressed > 0 ? " (" + suppressed + " similar messages suppressed)" : "");
    }
  }
}
