package io.arbiter.adapters.otel;

import com.codahale.metrics.Counter;
import io.arbiter.adapters.internal.telemetry.MetricSpec;
import io.arbiter.engine.metrics.Metrics;
import io.arbiter.engine.spi.AdapterContext;
import io.arbiter.engine.spi.Instance;
import io.arbiter.engine.spi.LogLimiter;
import io.arbiter.engine.spi.ReportHandler;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.common.AttributesBuilder;
import io.opentelemetry.api.logs.LogRecordBuilder;
import io.opentelemetry.api.logs.Logger;
import io.opentelemetry.exporter.otlp.logs.OtlpGrpcLogRecordExporter;
import io.opentelemetry.exporter.otlp.logs.OtlpGrpcLogRecordExporterBuilder;
import io.opentelemetry.exporter.otlp.metrics.OtlpGrpcMetricExporter;
import io.opentelemetry.exporter.otlp.metrics.OtlpGrpcMetricExporterBuilder;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.common.export.RetryPolicy;
import io.opentelemetry.sdk.logs.SdkLoggerProvider;
import io.opentelemetry.sdk.logs.export.BatchLogRecordProcessor;
import io.opentelemetry.sdk.metrics.Aggregation;
import io.opentelemetry.sdk.metrics.ExplicitBucketHistogramOptions;
import io.opentelemetry.sdk.metrics.InstrumentSelector;
import io.opentelemetry.sdk.metrics.SdkMeterProvider;
import io.opentelemetry.sdk.metrics.SdkMeterProviderBuilder;
import io.opentelemetry.sdk.metrics.View;
import io.opentelemetry.sdk.metrics.ViewBuilder;
import io.opentelemetry.sdk.metrics.export.PeriodicMetricReader;
import io.opentelemetry.sdk.resources.Resource;
import java.lang.System.Logger.Level;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Exports {@code metric} instances as OTLP metrics and {@code logentry} instances as OTLP log
 * records, over gRPC with the OpenTelemetry SDK.
 *
 * <p>Metrics: a {@link SdkMeterProvider} with a {@link PeriodicMetricReader} that exports the
 * cumulative state every {@code exportInterval}; built only when {@code metrics} are configured.
 * Logs: a {@link SdkLoggerProvider} with a {@link BatchLogRecordProcessor} whose exporter is a
 * {@link RetryingLogExporter} around the OTLP one; built on the first log entry. Recording and
 * emitting are in-memory, so {@link #report} completes before it returns.
 *
 * <p>Log records are admitted only while fewer than {@code maxQueueSize} are buffered (in the
 * processor's queue or the retry FIFO, not yet delivered or dropped); the rest are dropped at once.
 * Drops are counted in {@code arbiter_otel_dropped_total{handler,signal}} ({@code logs}: refused
 * at admission, refused by the collector for good, left at shutdown; {@code metrics}: metric
 * instances no metric takes or whose value is not a finite number, or negative for a counter),
 * failed exports in {@code arbiter_otel_export_failures_total{handler,signal}}, label sets beyond a
 * metric's {@code maxSeries} in {@code arbiter_otel_metric_overflow_total{handler,metric}}; {@code
 * arbiter_otel_log_buffered{handler}} is the number of log records buffered.
 *
 * <p>Threads: the SDK runs the reader and the batch processor on a thread each, and the exporters'
 * HTTP/2 client has its own; {@link #close} shuts them all down. Thread-safe.
 */
final class OtelHandler implements ReportHandler {
  private static final CompletionStage<Void> DONE = CompletableFuture.completedStage(null);
  static final String DROPPED = "arbiter_otel_dropped_total";
  static final String FAILURES = "arbiter_otel_export_failures_total";
  static final String OVERFLOW = "arbiter_otel_metric_overflow_total";
  static final String BUFFERED = "arbiter_otel_log_buffered";
  private static final String SCOPE = "io.arbiter";

  /** The log side, built on first use. */
  private record LogPipeline(SdkLoggerProvider provider, Logger logger, RetryingLogExporter exporter) {}

  private final String name;
  private final OtelConfig config;
  private final AdapterContext context;
  private final Clock clock;
  private final System.Logger log;
  private final LogLimiter logLimiter = new LogLimiter(1);
  private final Resource resource;
  private final SdkMeterProvider meterProvider;
  private final Map<String, MetricRecorder[]> byInstance;
  private final AtomicInteger pending = new AtomicInteger();
  private final Counter droppedLogs;
  private final Counter droppedMetrics;
  private final Counter failedLogExports;
  private final AutoCloseable bufferedGauge;
  private final Object lock = new Object();
  private volatile LogPipeline logs; // guarded by lock for writes
  private volatile boolean closed;
  private final AtomicBoolean closeCalled = new AtomicBoolean();

  OtelHandler(OtelConfig config, AdapterContext context) {
    this.name = context.handlerName();
    this.config = config;
    this.context = context;
    this.clock = context.clock();
    this.log = context.logger();
    Metrics metrics = context.metrics();
    String droppedHelp = "Telemetry an otel handler dropped, by signal: log records beyond"
        + " maxQueueSize or refused by the collector, metric values it could not record.";
    droppedLogs = metrics.counter(DROPPED, droppedHelp, "handler", name, "signal", "logs");
    droppedMetrics = metrics.counter(DROPPED, droppedHelp, "handler", name, "signal", "metrics");
    String failHelp = "Exports of an otel handler that failed (after the SDK's retries), by signal.";
    failedLogExports = metrics.counter(FAILURES, failHelp, "handler", name, "signal", "logs");
    Counter failedMetricExports =
        metrics.counter(FAILURES, failHelp, "handler", name, "signal", "metrics");
    AttributesBuilder attrs = Attributes.builder();
    config.resource().forEach(attrs::put);
    this.resource = Resource.getDefault().merge(Resource.create(attrs.build()));
    if (config.metrics().isEmpty()) {
      meterProvider = null;
      byInstance = Map.of();
    } else {
      OtlpGrpcMetricExporterBuilder b = OtlpGrpcMetricExporter.builder()
          .setEndpoint(config.endpoint())
          .setTimeout(config.timeout())
          .setCompression(config.compression())
          .setRetryPolicy(retryPolicy(config.retry()));
      config.headers().forEach(b::addHeader);
      CountingMetricExporter exporter =
          new CountingMetricExporter(b.build(), failedMetricExports, this::warn);
      SdkMeterProviderBuilder mb = SdkMeterProvider.builder()
          .setResource(resource)
          .setClock(new SdkClock(clock))
          .registerMetricReader(PeriodicMetricReader.builder(exporter)
              .setInterval(config.exportInterval())
              .build());
      for (MetricSpec spec : config.metrics()) {
        ViewBuilder view = View.builder().setCardinalityLimit(spec.maxSeries() + 2);
        if (spec.kind() == MetricSpec.Kind.DISTRIBUTION && !spec.buckets().isEmpty()) {
          view.setAggregation(Aggregation.explicitBucketHistogram(
              ExplicitBucketHistogramOptions.builder().setBucketBoundaries(spec.buckets()).build()));
        }
        mb.registerView(InstrumentSelector.builder().setName(spec.name()).build(), view.build());
      }
      meterProvider = mb.build();
      var meter = meterProvider.get(SCOPE);
      String overflowHelp = "Observations of an otel handler's metric that went to its overflow"
          + " attribute set (every label 'other') because it already had maxSeries label sets.";
      Map<String, List<MetricRecorder>> grouped = new HashMap<>();
      for (MetricSpec spec : config.metrics()) {
        Counter overflow = metrics.counter(OVERFLOW, overflowHelp, "handler", name, "metric", spec.name());
        grouped.computeIfAbsent(spec.instance(), k -> new ArrayList<>())
            .add(new MetricRecorder(spec, meter, overflow));
      }
      Map<String, MetricRecorder[]> index = new HashMap<>();
      grouped.forEach((k, v) -> index.put(k, v.toArray(new MetricRecorder[0])));
      byInstance = Map.copyOf(index);
    }
    bufferedGauge = metrics.gauge(BUFFERED,
        "Log records an otel handler holds: admitted, not yet delivered or dropped.",
        pending::get, "handler", name);
  }

  static RetryPolicy retryPolicy(OtelConfig.Retry retry) {
    return RetryPolicy.builder()
        .setMaxAttempts(retry.maxAttempts())
        .setInitialBackoff(retry.initialBackoff())
        .setMaxBackoff(retry.maxBackoff())
        .setBackoffMultiplier(retry.backoffMultiplier())
        .build();
  }

  /** Records metrics and emits log records; completes at once. */
  @Override
  public CompletionStage<Void> report(List<Instance> instances) {
    if (closed) {
      for (Instance i : instances) {
        (i instanceof Instance.LogEntry ? droppedLogs : droppedMetrics).inc();
      }
      warn("closed; dropped " + instances.size() + " instances reported after close");
      return DONE;
    }
    int refused = 0;
    for (Instance instance : instances) {
      if (instance instanceof Instance.Metric metric) {
        record(metric);
      } else if (instance instanceof Instance.LogEntry entry) {
        if (!emit(entry)) {
          refused++;
        }
      } else {
        droppedMetrics.inc();
        warn("takes metric and logentry instances, not " + instance.getClass().getSimpleName());
      }
    }
    if (refused > 0) {
      droppedLogs.inc(refused);
      warn("dropped " + refused + " log records: " + config.maxQueueSize()
          + " (maxQueueSize) are buffered already");
    }
    return DONE;
  }

  private void record(Instance.Metric metric) {
    MetricRecorder[] recorders = byInstance.get(metric.name());
    if (recorders == null) {
      droppedMetrics.inc();
      warn("no metric is fed by instance '" + metric.name() + "' (metrics name instances "
          + byInstance.keySet() + ")");
      return;
    }
    for (MetricRecorder r : recorders) {
      if (r.record(metric.value(), metric.dimensions()) != MetricRecorder.Outcome.RECORDED) {
        droppedMetrics.inc();
        warn("metric '" + r.spec().name() + "': instance '" + metric.name() + "' gave "
            + metric.value() + ", not a finite number"
            + (r.spec().kind() == MetricSpec.Kind.COUNTER ? " >= 0" : ""));
      }
    }
  }

  /** Emits one log record if the buffer bound allows; false if refused. */
  private boolean emit(Instance.LogEntry entry) {
    if (pending.incrementAndGet() > config.maxQueueSize()) {
      pending.decrementAndGet();
      return false;
    }
    LogPipeline p = logs();
    if (p == null) {
      pending.decrementAndGet();
      return false;
    }
    Instant now = clock.instant();
    LogRecordBuilder b = p.logger().logRecordBuilder()
        .setTimestamp(entry.timestamp() == null ? now : entry.timestamp())
        .setObservedTimestamp(now)
        .setSeverity(LogRecords.severity(entry.severity()))
        .setBody(entry.name())
        .setAllAttributes(LogRecords.attributes(entry.variables()));
    if (entry.severity() != null) {
      b.setSeverityText(entry.severity());
    }
    b.emit();
    return true;
  }

  private LogPipeline logs() {
    LogPipeline p = logs;
    if (p != null) {
      return p;
    }
    synchronized (lock) {
      if (logs == null && !closed) {
        logs = buildLogs();
      }
      return logs;
    }
  }

  private LogPipeline buildLogs() {
    OtlpGrpcLogRecordExporterBuilder b = OtlpGrpcLogRecordExporter.builder()
        .setEndpoint(config.endpoint())
        .setTimeout(config.timeout())
        .setCompression(config.compression())
        .setRetryPolicy(retryPolicy(config.retry()));
    config.headers().forEach(b::addHeader);
    RetryingLogExporter exporter = new RetryingLogExporter(b.build(), context.scheduler(), pending,
        droppedLogs, failedLogExports, config.retry(), this::warn);
    SdkLoggerProvider provider = SdkLoggerProvider.builder()
        .setResource(resource)
        .setClock(new SdkClock(clock))
        .addLogRecordProcessor(BatchLogRecordProcessor.builder(exporter)
            .setMaxQueueSize(config.maxQueueSize())
            .setMaxExportBatchSize(Math.min(512, config.maxQueueSize()))
            .build())
        .build();
    return new LogPipeline(provider, provider.get(SCOPE), exporter);
  }

  /**
   * Exports now: collects and exports the metrics, and sends every buffered log record, skipping a
   * retry backoff in progress. The result completes when that is done (failed if an export failed).
   */
  CompletableResultCode flush() {
    List<CompletableResultCode> results = new ArrayList<>();
    if (meterProvider != null) {
      results.add(meterProvider.forceFlush());
    }
    LogPipeline p = logs;
    if (p != null) {
      CompletableResultCode done = new CompletableResultCode();
      p.provider().forceFlush().whenComplete(() ->
          p.exporter().flush().whenComplete(() -> {
            if (p.exporter().held() == 0) {
              done.succeed();
            } else {
              done.fail();
            }
          }));
      results.add(done);
    }
    return CompletableResultCode.ofAll(results);
  }

  /** Log records buffered: admitted, not yet delivered or dropped. */
  int buffered() {
    return pending.get();
  }

  /**
   * Starts shutting down: the last metrics are exported and buffered log records sent. The result
   * completes when both are done; {@link #close} bounds the wait.
   */
  CompletableResultCode shutdown() {
    synchronized (lock) {
      closed = true;
    }
    List<CompletableResultCode> results = new ArrayList<>();
    if (meterProvider != null) {
      results.add(meterProvider.shutdown());
    }
    LogPipeline p = logs;
    if (p != null) {
      results.add(p.provider().shutdown());
    }
    return CompletableResultCode.ofAll(results);
  }

  /**
   * Exports the last metrics and sends the buffered log records, waiting up to {@code timeout} for
   * the collector; what is still undelivered then is dropped and counted. Shuts down the SDK's
   * threads and the exporters' connections. Idempotent.
   */
  @Override
  public void close() {
    if (!closeCalled.compareAndSet(false, true)) {
      return;
    }
    CompletableResultCode done = shutdown();
    done.join(config.timeout().toMillis(), TimeUnit.MILLISECONDS);
    LogPipeline p = logs;
    if (p != null) {
      p.exporter().abandon();
    }
    try {
      bufferedGauge.close();
    } catch (Exception e) {
      // Metrics' gauge registrations do not throw.
    }
    if (!done.isDone() || !done.isSuccess()) {
      log.log(Level.WARNING, "otel handler ''{0}'': closed before the collector at {1} took"
          + " everything", name, config.endpoint());
    }
  }

  private void warn(String message) {
    long suppressed = logLimiter.tryAcquire(clock.millis());
    if (suppressed >= 0) {
      log.log(Level.WARNING, "otel handler ''{0}'' ({1}): {2}{3}", name, config.endpoint(), message,
          suppressed > 0 ? " (" + suppressed + " similar messages suppressed)" : "");
    }
  }

  /** The SDK's clock reading the context's: timestamps follow the engine's time source. */
  private record SdkClock(Clock clock) implements io.opentelemetry.sdk.common.Clock {
    @Override
    public long now() {
      Instant i = clock.instant();
      return TimeUnit.SECONDS.toNanos(i.getEpochSecond()) + i.getNano();
    }

    @Override
    public long nanoTime() {
      return System.nanoTime();
    }
  }
}
