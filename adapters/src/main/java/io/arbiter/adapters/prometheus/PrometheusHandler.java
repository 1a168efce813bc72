package io.arbiter.adapters.prometheus;

import com.codahale.metrics.Counter;
import io.arbiter.adapters.internal.telemetry.MetricSpec;
import io.arbiter.adapters.internal.telemetry.MetricSpec.Kind;
import io.arbiter.engine.metrics.Metrics;
import io.arbiter.engine.spi.AdapterContext;
import io.arbiter.engine.spi.Instance;
import io.arbiter.engine.spi.LogLimiter;
import io.arbiter.engine.spi.ReportHandler;
import java.lang.System.Logger.Level;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Records {@code metric} instances into the registry's user-defined series. The work is in memory
 * and lock-free for known label sets, so {@link #report} completes before it returns.
 *
 * <p>Per observation: the instance's metrics are found by instance name; each takes its label
 * values from the instance's dimensions in the configured label order (a missing dimension reads
 * as {@code ""}, extra dimensions are ignored); the value must be a finite number, and not negative
 * for a counter. What cannot be recorded is counted in {@code
 * arbiter_prometheus_rejected_total{handler,reason}} ({@code unmapped}: no metric names the
 * instance; {@code value}: a bad value; {@code template}: not a metric instance; {@code conflict}:
 * the registry refused the series) and logged at most once a second. Thread-safe.
 */
final class PrometheusHandler implements ReportHandler {
  private static final CompletionStage<Void> DONE = CompletableFuture.completedStage(null);
  static final String REJECTED = "arbiter_prometheus_rejected_total";
  static final String OVERFLOW = "arbiter_metric_overflow_total";

  /** One configured metric, bound to its shared family. */
  private record Binding(MetricSpec spec, Family family, Family.Definition definition, Counter overflow) {}

  private final String name;
  private final Families families;
  private final List<Binding> bindings;
  private final Map<String, Binding[]> byInstance;
  private final Counter unmapped;
  private final Counter badValue;
  private final Counter badTemplate;
  private final Counter conflict;
  private final System.Logger log;
  private final Clock clock;
  private final LogLimiter logLimiter = new LogLimiter(1);
  private volatile boolean closed;

  PrometheusHandler(List<MetricSpec> specs, AdapterContext context) {
    this.name = context.handlerName();
    this.log = context.logger();
    this.clock = context.clock();
    Metrics metrics = context.metrics();
    this.families = Families.of(metrics);
    String help = "Metric instances a prometheus handler could not record, by reason.";
    unmapped = metrics.counter(REJECTED, help, "handler", name, "reason", "unmapped");
    badValue = metrics.counter(REJECTED, help, "handler", name, "reason", "value");
    badTemplate = metrics.counter(REJECTED, help, "handler", name, "reason", "template");
    conflict = metrics.counter(REJECTED, help, "handler", name, "reason", "conflict");
    String overflowHelp = "Observations of a user-defined metric that went to its overflow series"
        + " (every label 'other') because it already had maxSeries label sets.";
    List<Binding> bound = new ArrayList<>(specs.size());
    Map<String, List<Binding>> grouped = new HashMap<>();
    for (MetricSpec spec : specs) {
      Family family;
      try {
        family = families.acquire(metrics, spec);
      } catch (IllegalArgumentException e) { // a kind registered since the adapter checked
        for (Binding b : bound) {
          families.release(b.family, b.spec);
        }
        throw e;
      }
      Binding b = new Binding(spec, family, Family.Definition.of(spec),
          metrics.counter(OVERFLOW, overflowHelp, "metric", spec.name()));
      bound.add(b);
      grouped.computeIfAbsent(spec.instance(), k -> new ArrayList<>()).add(b);
    }
    this.bindings = List.copyOf(bound);
    Map<String, Binding[]> index = new HashMap<>();
    grouped.forEach((k, v) -> index.put(k, v.toArray(new Binding[0])));
    this.byInstance = Map.copyOf(index);
  }

  /** Records every metric instance of the batch; completes at once. */
  @Override
  public CompletionStage<Void> report(List<Instance> instances) {
    if (closed) {
      return DONE;
    }
    for (Instance instance : instances) {
      if (!(instance instanceof Instance.Metric metric)) {
        badTemplate.inc();
        warn("takes metric instances, not " + instance.getClass().getSimpleName()
            + " '" + instance.name() + "'");
        continue;
      }
      Binding[] targets = byInstance.get(metric.name());
      if (targets == null) {
        unmapped.inc();
        warn("no metric is fed by instance '" + metric.name() + "' (metrics name instances "
            + byInstance.keySet() + ")");
        continue;
      }
      for (Binding b : targets) {
        record(b, metric);
      }
    }
    return DONE;
  }

  private void record(Binding b, Instance.Metric metric) {
    Number value = metric.value() instanceof Number n ? n : null;
    if (value == null || !Double.isFinite(value.doubleValue())
        || (b.spec.kind() == Kind.COUNTER && value.doubleValue() < 0)) {
      badValue.inc();
      warn("metric '" + b.spec.name() + "': instance '" + metric.name() + "' gave "
          + (value == null ? String.valueOf(metric.value()) : value)
          + (b.spec.kind() == Kind.COUNTER ? ", not a finite number >= 0" : ", not a finite number"));
      return;
    }
    List<String> labels = b.spec.labels();
    String[] pairs = new String[labels.size() * 2];
    Map<String, String> dims = metric.dimensions();
    for (int i = 0; i < labels.size(); i++) {
      String label = labels.get(i);
      String v = dims.get(label);
      pairs[2 * i] = label;
      pairs[2 * i + 1] = v == null ? "" : v;
    }
    Family.Target target;
    try {
      target = b.family.target(pairs, b.definition, b.spec.maxSeries());
    } catch (IllegalArgumentException e) {
      conflict.inc();
      warn("metric '" + b.spec.name() + "': " + e.getMessage());
      return;
    }
    if (target == null) {
      return;
    }
    if (target.overflow()) {
      b.overflow.inc();
    }
    target.series().record(value);
  }

  private void warn(String message) {
    long suppressed = logLimiter.tryAcquire(clock.millis());
    if (suppressed >= 0) {
      log.log(Level.WARNING, "prometheus handler ''{0}'': {1}{2}", name, message,
          suppressed > 0 ? " (" + suppressed + " similar messages suppressed)" : "");
    }
  }

  /**
   * Leaves the handler's families: a family no open handler uses any more has its series removed
   * from the registry (the next handler that defines it starts from zero). Idempotent.
   */
  @Override
  public void close() {
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
    }
    for (Binding b : bindings) {
      families.release(b.family, b.spec);
    }
  }
}
