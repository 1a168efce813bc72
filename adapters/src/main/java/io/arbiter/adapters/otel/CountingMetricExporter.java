package io.arbiter.adapters.otel;

import com.codahale.metrics.Counter;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.common.export.MemoryMode;
import io.opentelemetry.sdk.metrics.Aggregation;
import io.opentelemetry.sdk.metrics.InstrumentType;
import io.opentelemetry.sdk.metrics.data.AggregationTemporality;
import io.opentelemetry.sdk.metrics.data.MetricData;
import io.opentelemetry.sdk.metrics.export.MetricExporter;
import java.util.Collection;
import java.util.function.Consumer;

/**
 * The OTLP metric exporter, with its failed exports counted and logged. Nothing is retried here:
 * the exporter's temporality is cumulative, so each export carries the totals since the handler
 * started and the next successful one makes up for a failed one (only the resolution in time of the
 * gap is lost). Thread-safe.
 */
final class CountingMetricExporter implements MetricExporter {
  private final MetricExporter delegate;
  private final Counter failures;
  private final Consumer<String> warn;

  CountingMetricExporter(MetricExporter delegate, Counter failures, Consumer<String> warn) {
    this.delegate = delegate;
    this.failures = failures;
    this.warn = warn;
  }

  @Override
  public CompletableResultCode export(Collection<MetricData> metrics) {
    CompletableResultCode result = delegate.export(metrics);
    result.whenComplete(() -> {
      if (!result.isSuccess()) {
        failures.inc();
        Throwable t = result.getFailureThrowable();
        warn.accept("export of " + metrics.size() + " metrics failed"
            + (t == null ? "" : ": " + t.getMessage())
            + "; the next export carries their totals");
      }
    });
    return result;
  }

  @Override
  public AggregationTemporality getAggregationTemporality(InstrumentType instrumentType) {
    return delegate.getAggregationTemporality(instrumentType);
  }

  @Override
  public Aggregation getDefaultAggregation(InstrumentType instrumentType) {
    return delegate.getDefaultAggregation(instrumentType);
  }

  @Override
  public MemoryMode getMemoryMode() {
    return delegate.getMemoryMode();
  }

  @Override
  public CompletableResultCode flush() {
    return delegate.flush();
  }

  @Override
  public CompletableResultCode shutdown() {
    return delegate.shutdown();
  }
}
