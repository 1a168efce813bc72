package io.arbiter.adapters.otel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.arbiter.engine.testing.MutableClock;
import io.arbiter.adapters.testing.Stages;
import io.arbiter.adapters.testing.TestContext;
import io.arbiter.adapters.testing.YamlParams;
import io.arbiter.engine.metrics.Metrics;
import io.arbiter.engine.spi.Instance;
import io.arbiter.engine.spi.ParamsException;
import io.grpc.Status;
import io.opentelemetry.proto.logs.v1.LogRecord;
import io.opentelemetry.proto.logs.v1.SeverityNumber;
import io.opentelemetry.proto.metrics.v1.AggregationTemporality;
import io.opentelemetry.proto.metrics.v1.HistogramDataPoint;
import io.opentelemetry.proto.metrics.v1.Metric;
import io.opentelemetry.proto.metrics.v1.NumberDataPoint;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The otel adapter against a real OTLP/gRPC receiver on a loopback port: what arrives, and what
 * happens to log records while the receiver is down. Waits poll for an outcome with a generous
 * bound; nothing asserts on timings.
 */
class OtelAdapterTest {
  private static final Instant T = Instant.parse("2030-01-01T12:00:00.250Z");
  private static final long T_NANOS = TimeUnit.SECONDS.toNanos(T.getEpochSecond()) + T.getNano();

  private OtlpReceiver receiver;
  private ScheduledThreadPoolExecutor scheduler;
  private TestContext ctx;
  private final List<OtelHandler> handlers = new ArrayList<>();

  @BeforeEach
  void setUp() throws Exception {
    receiver = OtlpReceiver.startOnFreePort();
    scheduler = new ScheduledThreadPoolExecutor(2);
    ctx = new TestContext("otel", Path.of("/nonexistent"), new MutableClock(), scheduler, null,
        new Metrics());
  }

  @AfterEach
  void tearDown() throws Exception {
    handlers.forEach(OtelHandler::close);
    scheduler.shutdownNow();
    receiver.close();
  }

  private OtelHandler handler(String yamlAfterEndpoint) {
    OtelHandler h = (OtelHandler) new OtelAdapter().create(
        YamlParams.of("{endpoint: '" + receiver.endpoint() + "', " + yamlAfterEndpoint + "}"), ctx);
    handlers.add(h);
    return h;
  }

  private static Instance.Metric metric(String instance, Object value, String... dims) {
    Map<String, String> d = new LinkedHashMap<>();
    for (int i = 0; i < dims.length; i += 2) {
      d.put(dims[i], dims[i + 1]);
    }
    return new Instance.Metric(instance, value, d);
  }

  private static Instance.LogEntry log(long seq) {
    return new Instance.LogEntry("access", "INFO", T, Map.of("seq", seq));
  }

  private static List<Instance> logs(int from, int to) {
    return IntStream.range(from, to).mapToObj(i -> (Instance) log(i)).toList();
  }

  private long dropped(String signal) {
    return ctx.counter("arbiter_otel_dropped_total{handler=\"otel\",signal=\"" + signal + "\"}");
  }

  private long failures(String signal) {
    return ctx.counter(
        "arbiter_otel_export_failures_total{handler=\"otel\",signal=\"" + signal + "\"}");
  }

  private static void await(String what, BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting until " + what);
      }
      Thread.sleep(20);
    }
  }

  private List<Long> receivedSeqs() {
    return receiver.logRecords().stream()
        .map(r -> (Long) OtlpReceiver.attributes(r.getAttributesList()).get("seq"))
        .toList();
  }

  /** The sequence numbers received, each at its first arrival. */
  private List<Long> distinctSeqs() {
    return receivedSeqs().stream().distinct().toList();
  }

  private static List<Long> range(long from, long to) {
    return java.util.stream.LongStream.range(from, to).boxed().toList();
  }

  @Test
  void metricsAndLogsArriveWithTheirNamesValuesAndAttributes() throws Exception {
    OtelHandler h = handler("""
        exportInterval: 100ms, resource: {deployment.environment: test},
        metrics: [
          {name: requests_total, instance: request-count, kind: COUNTER, valueType: INT,
           labels: [destination, code]},
          {name: queue.depth, instance: queue, kind: GAUGE, help: "Requests waiting."},
          {name: request.duration, instance: request-duration, kind: DISTRIBUTION,
           labels: [destination], buckets: [0.1, 1]}]
        """);
    Map<String, Object> vars = new LinkedHashMap<>();
    vars.put("path", "/a");
    vars.put("code", 503L);
    vars.put("took", Duration.ofMillis(1500));
    vars.put("headers", Map.of("user-agent", "curl/8"));
    vars.put("tags", List.of("x", "y"));
    vars.put("none", null);

    Stages.value(h.report(List.of(
        metric("request-count", 1L, "destination", "a.svc", "code", "200"),
        metric("request-count", 1L, "destination", "a.svc", "code", "200", "extra", "ignored"),
        metric("request-count", 1L, "destination", "a.svc", "code", "503"),
        metric("queue", 2.5),
        metric("request-duration", 0.0625, "destination", "a.svc"),
        metric("request-duration", 0.5, "destination", "a.svc"),
        metric("request-duration", 2L, "destination", "a.svc"),
        new Instance.LogEntry("access", "ERROR", T, vars))));
    h.flush().join(30, TimeUnit.SECONDS);
    await("the metrics arrive", () -> receiver.latestMetric("request.duration") != null
        && receiver.latestMetric("requests_total") != null && receiver.logRecords().size() == 1);

    Metric requests = receiver.latestMetric("requests_total");
    assertThat(requests.getSum().getIsMonotonic()).isTrue();
    assertThat(requests.getSum().getAggregationTemporality())
        .isEqualTo(AggregationTemporality.AGGREGATION_TEMPORALITY_CUMULATIVE);
    Map<Map<String, Object>, Long> counts = new LinkedHashMap<>();
    for (NumberDataPoint p : requests.getSum().getDataPointsList()) {
      counts.put(OtlpReceiver.attributes(p.getAttributesList()), p.getAsInt());
    }
    assertThat(counts).containsOnly(
        Map.entry(Map.of("destination", "a.svc", "code", "200"), 2L),
        Map.entry(Map.of("destination", "a.svc", "code", "503"), 1L));

    Metric queue = receiver.latestMetric("queue.depth");
    assertThat(queue.getDescription()).isEqualTo("Requests waiting.");
    assertThat(queue.getGauge().getDataPointsList()).singleElement()
        .satisfies(p -> assertThat(p.getAsDouble()).isEqualTo(2.5));

    HistogramDataPoint hist = receiver.latestMetric("request.duration").getHistogram()
        .getDataPointsList().get(0);
    assertThat(OtlpReceiver.attributes(hist.getAttributesList())).isEqualTo(Map.of("destination", "a.svc"));
    assertThat(hist.getExplicitBoundsList()).containsExactly(0.1, 1.0);
    assertThat(hist.getBucketCountsList()).containsExactly(1L, 1L, 1L);
    assertThat(hist.getCount()).isEqualTo(3);
    assertThat(hist.getSum()).isEqualTo(2.5625);

    LogRecord record = receiver.logRecords().get(0);
    assertThat(record.getBody().getStringValue()).isEqualTo("access");
    assertThat(record.getSeverityNumber()).isEqualTo(SeverityNumber.SEVERITY_NUMBER_ERROR);
    assertThat(record.getSeverityText()).isEqualTo("ERROR");
    assertThat(record.getTimeUnixNano()).isEqualTo(T_NANOS);
    assertThat(OtlpReceiver.attributes(record.getAttributesList())).containsOnly(
        Map.entry("path", "/a"),
        Map.entry("code", 503L),
        Map.entry("took", 1.5),
        Map.entry("headers.user-agent", "curl/8"),
        Map.entry("tags", List.of("x", "y")));
    Map<String, Object> resource = OtlpReceiver.attributes(
        receiver.logRequests().get(0).getResourceLogs(0).getResource().getAttributesList());
    assertThat(resource).containsEntry("service.name", "arbiter")
        .containsEntry("deployment.environment", "test")
        .containsEntry("telemetry.sdk.language", "java");
  }

  @Test
  void logRecordsWithinTheBoundSurviveAnOutageAndTheRestAreCounted() throws Exception {
    OtelHandler h = handler("""
        maxQueueSize: 100, exportInterval: 100ms, timeout: 5s,
        retry: {maxAttempts: 2, initialBackoff: 50ms, maxBackoff: 200ms},
        metrics: [{name: requests_total, instance: c, kind: COUNTER, valueType: INT}]
        """);
    List<Instance> first = new ArrayList<>(logs(0, 10));
    first.add(metric("c", 10L));
    Stages.value(h.report(first));
    h.flush().join(30, TimeUnit.SECONDS);
    await("the first 10 records are delivered", () -> h.buffered() == 0);
    assertThat(distinctSeqs()).isEqualTo(range(0, 10));

    receiver.stop();
    List<Instance> during = new ArrayList<>(logs(10, 60));
    during.add(metric("c", 50L));
    Stages.value(h.report(during));
    h.flush().join(30, TimeUnit.SECONDS);
    assertThat(h.buffered()).isEqualTo(50);
    assertThat(failures("logs")).isPositive();

    Stages.value(h.report(logs(60, 120)));
    assertThat(h.buffered()).isEqualTo(100);
    assertThat(dropped("logs")).isEqualTo(10);
    assertThat(ctx.gauge("arbiter_otel_log_buffered{handler=\"otel\"}")).isEqualTo(100);

    receiver.start();
    await("the buffered records arrive", () -> receiver.logRecords().size() >= 110);
    await("the buffer empties", () -> h.buffered() == 0);

    // Delivery is at least once: an export that timed out on a loaded machine is sent again.
    assertThat(distinctSeqs()).as("every record within the bound, in order").isEqualTo(range(0, 110));
    assertThat(dropped("logs")).isEqualTo(10);
    await("the counter's total arrives", () -> {
      Metric m = receiver.latestMetric("requests_total");
      return m != null && m.getSum().getDataPoints(0).getAsInt() == 60;
    });
  }

  @Test
  void batchesTheCollectorRefusesForGoodAreDroppedAndCounted() throws Exception {
    OtelHandler h = handler("retry: {maxAttempts: 2, initialBackoff: 50ms, maxBackoff: 100ms}");
    receiver.failWith(Status.INVALID_ARGUMENT.withDescription("bad batch"));

    Stages.value(h.report(logs(0, 5)));
    h.flush().join(30, TimeUnit.SECONDS);
    await("the refused batch is counted", () -> dropped("logs") == 5);
    assertThat(h.buffered()).isZero();
    assertThat(failures("logs")).isEqualTo(1);

    receiver.failWith(null);
    Stages.value(h.report(logs(5, 6)));
    h.flush().join(30, TimeUnit.SECONDS);
    await("the next batch arrives", () -> receiver.logRecords().size() == 1);
    assertThat(distinctSeqs()).containsExactly(5L);
  }

  @Test
  void retryableRefusalsAreRetriedUntilTheCollectorTakesThem() throws Exception {
    OtelHandler h = handler("retry: {maxAttempts: 2, initialBackoff: 50ms, maxBackoff: 100ms}");
    receiver.failWith(Status.UNAVAILABLE.withDescription("overloaded"));

    Stages.value(h.report(logs(0, 5)));
    h.flush().join(30, TimeUnit.SECONDS);
    await("an export failed", () -> failures("logs") > 0);
    receiver.failWith(null);

    await("the records arrive", () -> receiver.logRecords().size() == 5);
    assertThat(distinctSeqs()).isEqualTo(range(0, 5));
    assertThat(dropped("logs")).isZero();
  }

  @Test
  void closeDeliversWhatIsBufferedAndEndsTheSdkThreads() throws Exception {
    OtelHandler h = handler("metrics: [{name: requests_total, instance: c, kind: COUNTER}]");
    Stages.value(h.report(List.of(log(1), log(2), metric("c", 3L))));

    h.close();

    assertThat(distinctSeqs()).containsExactly(1L, 2L);
    assertThat(receiver.latestMetric("requests_total").getSum().getDataPoints(0).getAsDouble())
        .isEqualTo(3.0);
    await("the SDK's threads end", () -> Thread.getAllStackTraces().keySet().stream()
        .noneMatch(t -> t.getName().contains("BatchLogRecordProcessor")
            || t.getName().contains("PeriodicMetricReader")));
    Stages.value(h.report(List.of(log(3))));
    assertThat(dropped("logs")).isEqualTo(1);
  }

  @Test
  void closeWithTheCollectorDownWaitsAtMostTimeoutAndCountsWhatIsLeft() throws Exception {
    OtelHandler h = handler("timeout: 500ms, retry: {maxAttempts: 2, initialBackoff: 50ms, maxBackoff: 100ms}");
    receiver.stop();
    Stages.value(h.report(logs(0, 3)));

    h.close();

    assertThat(h.buffered()).isZero();
    assertThat(dropped("logs")).isEqualTo(3);
  }

  @Test
  void labelSetsBeyondMaxSeriesGoToOneOtherSetAndBadValuesAreCounted() throws Exception {
    OtelHandler h = handler("""
        metrics: [{name: requests_total, instance: c, kind: COUNTER, valueType: INT,
                   labels: [user], maxSeries: 2}]
        """);

    Stages.value(h.report(List.of(
        metric("c", 1L, "user", "ann"), metric("c", 1L, "user", "bob"),
        metric("c", 1L, "user", "cid"), metric("c", 1L, "user", "dan"),
        metric("c", -1L, "user", "ann"), metric("c", "x"), metric("unknown", 1L))));
    h.flush().join(30, TimeUnit.SECONDS);
    await("the metric arrives", () -> receiver.latestMetric("requests_total") != null);

    Map<Object, Long> byUser = new LinkedHashMap<>();
    for (NumberDataPoint p : receiver.latestMetric("requests_total").getSum().getDataPointsList()) {
      byUser.put(OtlpReceiver.attributes(p.getAttributesList()).get("user"), p.getAsInt());
    }
    assertThat(byUser).containsOnly(Map.entry("ann", 1L), Map.entry("bob", 1L), Map.entry("other", 2L));
    assertThat(ctx.counter(
        "arbiter_otel_metric_overflow_total{handler=\"otel\",metric=\"requests_total\"}")).isEqualTo(2);
    assertThat(dropped("metrics")).isEqualTo(3);
  }

  @Test
  void everyBadSettingIsReportedAtOnce() {
    Throwable t = catchThrowable(() -> new OtelAdapter().create(YamlParams.of("""
        {endpoint: "grpc://collector:4317", timeout: 0s, compression: zstd, exportInterval: 10ms,
         maxQueueSize: 0, headers: {a: [1]},
         retry: {maxAttempts: 9, initialBackoff: 2s, maxBackoff: 1s, backoffMultiplier: 0.5, jitter: 1},
         metrics: [{name: "bad name", instance: c, kind: COUNTER, valueType: FLOAT}]}
        """), ctx));

    assertThat(t).isInstanceOf(ParamsException.class);
    assertThat(((ParamsException) t).problems()).map(Object::toString).containsExactly(
        "endpoint: 'grpc://collector:4317' is not an http(s) URL: the scheme must be http or https",
        "headers.a: must be a string",
        "timeout: must be more than 0",
        "compression: must be none or gzip, was 'zstd'",
        "metrics[0].name: 'bad name' is not a valid metric name (a letter, then letters, digits,"
            + " '_', '.', '-' or '/', at most 255 characters)",
        "metrics[0].valueType: 'FLOAT' is not one of [INT, DOUBLE]",
        "exportInterval: must be at least 100ms, was 10ms",
        "maxQueueSize: must be between 1 and 10000000, was 0",
        "retry.maxAttempts: must be between 2 and 5, was 9",
        "retry.maxBackoff: must be at least initialBackoff 2s",
        "retry.backoffMultiplier: must be a number of at least 1, was '0.5'",
        "retry.jitter: unknown setting (known: [maxAttempts, initialBackoff, maxBackoff,"
            + " backoffMultiplier])");
  }
}
