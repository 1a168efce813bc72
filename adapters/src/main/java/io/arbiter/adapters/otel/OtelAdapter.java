package io.arbiter.adapters.otel;

import io.arbiter.engine.spi.Adapter;
import io.arbiter.engine.spi.AdapterContext;
import io.arbiter.engine.spi.Handler;
import io.arbiter.engine.spi.Params;
import io.arbiter.engine.spi.Template;
import java.util.Set;

/**
 * The {@code otel} adapter: {@code metric} and {@code logentry} instances exported to an
 * OpenTelemetry collector over OTLP/gRPC with the OpenTelemetry SDK.
 *
 * <p>Params (all optional):
 *
 * <ul>
 *   <li>{@code endpoint}: the collector's OTLP/gRPC URL; default {@code http://127.0.0.1:4317}
 *       ({@code https://} for TLS with the JVM's trust store).
 *   <li>{@code headers}: a map of headers sent with every export (an API key, say).
 *   <li>{@code timeout}: the deadline of one export attempt; default {@code 10s}. Closing a handler
 *       waits at most this long for the collector to take what is buffered.
 *   <li>{@code compression}: {@code none} (default) or {@code gzip}.
 *   <li>{@code metrics}: as the {@code prometheus} adapter's ({@code name}, {@code instance},
 *       {@code kind}, {@code labels}, {@code buckets}, {@code help}, {@code maxSeries}), with OTel
 *       instrument names ({@code [A-Za-z][A-Za-z0-9_./-]*}, at most 255) and one more field, {@code
 *       valueType}: {@code DOUBLE} (default) or {@code INT} (values rounded to integers). COUNTER is
 *       a counter, GAUGE a synchronous gauge, DISTRIBUTION an explicit-bucket histogram (the SDK's
 *       default buckets if none are given). Exported with cumulative temporality.
 *   <li>{@code resource}: a map of resource attributes; {@code service.name} defaults to {@code
 *       arbiter}. The SDK's {@code telemetry.sdk.*} attributes are added.
 *   <li>{@code exportInterval}: how often metrics are exported; default {@code 10s}, at least
 *       {@code 100ms}.
 *   <li>{@code maxQueueSize}: the most log records held while undelivered (the batch processor's
 *       queue and the retry buffer together); default 20000. Further records are dropped and
 *       counted in {@code arbiter_otel_dropped_total{handler,signal="logs"}}.
 *   <li>{@code retry}: {@code {maxAttempts: 5, initialBackoff: 1s, maxBackoff: 5s,
 *       backoffMultiplier: 1.5}}, the SDK's retry policy for one export ({@code maxAttempts} 2 to
 *       5); log batches that still fail are re-sent after the same backoff until delivered.
 * </ul>
 *
 * <p>Log records: body the instance's name, timestamp the entry's, severity mapped from its text
 * (which is kept), attributes the variables flattened ({@link LogRecords}); the SDK keeps at most
 * 128 attributes per record. While the collector is down, log records are buffered up to {@code
 * maxQueueSize} and delivered, in order, when it returns ({@link RetryingLogExporter}); metrics
 * need no buffer, each export carries the totals.
 *
 * <p>Stateless and thread-safe. Each handler has its own SDK providers (and threads: {@link
 * OtelHandler}); a reload that rebuilds it starts its cumulative metrics again from zero, with a new
 * start time.
 */
public final class OtelAdapter implements Adapter {

  /** For {@link java.util.ServiceLoader}. */
  public OtelAdapter() {}

  @Override
  public String name() {
    return "otel";
  }

  @Override
  public Set<Template> templates() {
    return Set.of(Template.METRIC, Template.LOGENTRY);
  }

  /**
   * Validates the params and builds the metric pipeline (the log one is built on the first entry).
   * Connects lazily: a collector that is down at load is not an error.
   *
   * @throws io.arbiter.engine.spi.ParamsException naming every bad setting: unknown keys, an
   *     endpoint that is not an http(s) URL, bad durations, metrics as for {@code prometheus},
   *     retry settings out of range
   */
  @Override
  public Handler create(Params params, AdapterContext context) {
    OtelConfig config = OtelConfig.parse(params);
    params.validate();
    return new OtelHandler(config, context);
  }
}
