package io.arbiter.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonObject;
import io.opentelemetry.proto.logs.v1.LogRecord;
import io.opentelemetry.proto.metrics.v1.Metric;
import io.opentelemetry.proto.metrics.v1.NumberDataPoint;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code otel} adapter in the real jar against a real OTLP/gRPC receiver stood up in the test
 * ({@link OtlpReceiver}), fed by the grpc-js access-log client: metrics and logs arrive; the
 * receiver goes down, entries keep coming, it comes back on the same port, and every log record
 * within the buffer bound ({@code maxQueueSize}) is delivered while exactly those beyond it are
 * counted as dropped; the counter, a cumulative OTLP sum, ends at the count of every entry sent.
 *
 * <p>The adapters module's {@code OtelAdapterTest} proves the same of the handler alone; this test
 * proves it of what ships: the OpenTelemetry SDK and its OTLP exporter inside the shaded jar, the
 * engine's asynchronous batched dispatch from the access-log streams to the handler, and the
 * handler's gauges and counters on the admin {@code /metrics}.
 *
 * <p>The bound is filled exactly while the receiver is down (and the test waits until it is) before
 * the entries beyond it are sent, so which records are dropped does not depend on how the engine
 * interleaves its batches. Every wait polls for an outcome with a deadline; nothing is timed.
 */
class OtlpCollectorOutageIT {
  private static final int BOUND = 40;
  private static final int BEFORE = 30;
  private static final int DURING_WITHIN_BOUND = BOUND;
  private static final int DURING_BEYOND_BOUND = 15;
  private static final String HANDLER = "collector";

  @RegisterExtension static final NodeClientsSetup node = new NodeClientsSetup();

  @TempDir Path dir;

  @Test
  void recordsWithinTheBoundSurviveAReceiverOutageAndTheRestAreCounted() throws Exception {
    try (OtlpReceiver receiver = new OtlpReceiver(ArbiterProcess.freePort())) {
      receiver.start();
      Path config = dir.resolve("policy.yaml");
      Files.writeString(config, """
          handlers:
            - name: %s
              adapter: otel
              params:
                endpoint: "%s"
                exportInterval: 100ms
                timeout: 2s
                maxQueueSize: %d
                retry: {maxAttempts: 2, initialBackoff: 50ms, maxBackoff: 200ms}
                metrics:
                  - {name: requests_total, instance: request-count, kind: COUNTER, valueType: INT, labels: [destination, code]}
          instances:
            - name: request-count
              template: metric
              params: {value: "1", dimensions: {destination: "destination.service.host", code: "response.code"}}
            - name: access
              template: logentry
              params: {variables: {id: request.id, path: request.path}}
          rules:
            - name: http-telemetry
              match: "context.protocol == 'http' || context.protocol == 'grpc'"
              actions: [{handler: %1$s, instances: [request-count, access]}]
          """.formatted(HANDLER, receiver.endpoint(), BOUND));
      try (ArbiterProcess arbiter = ArbiterProcess.start(config)) {
        try {
          // 1. Up: metrics and logs arrive.
          List<String> before = ids("before", BEFORE);
          send(arbiter, before);
          await("the first records arrive", () -> distinctIds(receiver).size() == BEFORE);
          await("the counter reaches " + BEFORE, () -> requests(receiver) == BEFORE);
          assertThat(distinctIds(receiver)).containsExactlyInAnyOrderElementsOf(before);
          String text = MetricsText.awaitEqual(arbiter, buffered(), 0);

          // 2. Down: the bound fills, and the exporter has seen the receiver gone.
          receiver.stop();
          List<String> within = ids("within", DURING_WITHIN_BOUND);
          send(arbiter, within);
          text = MetricsText.awaitUntil(arbiter, t -> MetricsText.value(t, buffered()) == BOUND
              && MetricsText.value(t, failures("logs")) >= 2);
          assertThat(MetricsText.value(text, buffered())).as(text).isEqualTo(BOUND);
          assertThat(MetricsText.value(text, failures("logs"))).as(text).isGreaterThanOrEqualTo(2);
          assertThat(MetricsText.value(text, dropped("logs"))).isZero();

          // 3. Still down: every record beyond the bound is refused and counted, none silently.
          List<String> beyond = ids("beyond", DURING_BEYOND_BOUND);
          send(arbiter, beyond);
          MetricsText.await(arbiter, dropped("logs"), DURING_BEYOND_BOUND);
          text = MetricsText.await(arbiter, "arbiter_accesslog_dispatched_total",
              BEFORE + DURING_WITHIN_BOUND + DURING_BEYOND_BOUND);
          assertThat(MetricsText.value(text, buffered())).isEqualTo(BOUND);
          assertThat(distinctIds(receiver)).as("nothing arrives while the receiver is down")
              .hasSize(BEFORE);

          // 4. Back on the same port: everything within the bound arrives, the buffer empties.
          receiver.start();
          await("the buffered records arrive", () -> distinctIds(receiver).size() >= BEFORE + BOUND);
          text = MetricsText.awaitEqual(arbiter, buffered(), 0);
          Set<String> expected = new LinkedHashSet<>(before);
          expected.addAll(within);
          // Delivery is at least once (a batch whose export timed out is sent again), so ids are
          // compared as a set; which ones arrived, and that none beyond the bound did, is exact.
          assertThat(distinctIds(receiver)).containsExactlyInAnyOrderElementsOf(expected);
          assertThat(MetricsText.value(text, dropped("logs"))).isEqualTo(DURING_BEYOND_BOUND);
          assertThat(MetricsText.value(text, dropped("metrics"))).isZero();
          for (String reason : List.of("queue_full", "spill_full", "spill_error", "spill_corrupt", "shutdown")) {
            assertThat(MetricsText.value(text, "arbiter_accesslog_dropped_total{reason=\"" + reason + "\"}"))
                .as(reason).isZero();
          }
          // The counter is a cumulative sum: the outage costs it nothing, records dropped or not.
          int all = BEFORE + DURING_WITHIN_BOUND + DURING_BEYOND_BOUND;
          await("the counter reaches " + all, () -> requests(receiver) == all);
          Metric m = receiver.latestMetric("requests_total");
          assertThat(m.getSum().getIsMonotonic()).isTrue();
          assertThat(m.getSum().getDataPointsList()).singleElement().satisfies(p -> {
            assertThat(p.getAttributesList()).extracting(kv -> kv.getKey() + "=" + kv.getValue().getStringValue())
                .containsExactlyInAnyOrder("destination=orders.svc", "code=200");
            assertThat(p.getAsInt()).isEqualTo(all);
          });
        } catch (AssertionError | RuntimeException e) {
          throw new AssertionError(e.getMessage() + "\nreceived: " + distinctIds(receiver)
              + "\narbiter log:\n" + arbiter.log(), e);
        }
      }
    }
  }

  private static String buffered() {
    return "arbiter_otel_log_buffered{handler=\"" + HANDLER + "\"}";
  }

  private static String dropped(String signal) {
    return "arbiter_otel_dropped_total{handler=\"" + HANDLER + "\",signal=\"" + signal + "\"}";
  }

  private static String failures(String signal) {
    return "arbiter_otel_export_failures_total{handler=\"" + HANDLER + "\",signal=\"" + signal + "\"}";
  }

  private static List<String> ids(String phase, int n) {
    return IntStream.range(0, n).mapToObj(i -> phase + "-" + i).toList();
  }

  /** The {@code id} of every record received, each once, in order of first arrival. */
  private static Set<String> distinctIds(OtlpReceiver receiver) {
    Set<String> out = new LinkedHashSet<>();
    for (LogRecord r : receiver.logRecords()) {
      out.add(OtlpReceiver.attribute(r, "id"));
    }
    return out;
  }

  /** The total of the latest export of requests_total, -1 before the first. */
  private static long requests(OtlpReceiver receiver) {
    Metric m = receiver.latestMetric("requests_total");
    return m == null ? -1
        : m.getSum().getDataPointsList().stream().mapToLong(NumberDataPoint::getAsInt).sum();
  }

  /** One entry per id, over two streams of one Envoy, five entries a message. */
  private static void send(ArbiterProcess arbiter, List<String> ids) throws Exception {
    List<JsonObject> a = new ArrayList<>();
    List<JsonObject> b = new ArrayList<>();
    for (int i = 0; i < ids.size(); i++) {
      (i % 2 == 0 ? a : b).add(httpEntry(ids.get(i)));
    }
    AccessLogGrpcJsClient.send(node.protoDir(), arbiter, List.of(
        AccessLogGrpcJsClient.stream("ingress-1", "ingress", "http", false, a, 5),
        AccessLogGrpcJsClient.stream("ingress-1", "ingress", "http-2", false, b, 5)), List.of());
  }

  private static JsonObject httpEntry(String id) {
    return AccessLogGrpcJsClient.json("""
        {"common_properties": {
           "downstream_remote_address": {"socket_address": {"address": "10.0.0.5", "port_value": 43210}},
           "start_time": {"seconds": "1700000000", "nanos": 0},
           "time_to_last_downstream_tx_byte": {"seconds": "0", "nanos": 12500000}},
         "request": {"request_method": "GET", "authority": "orders.svc", "path": "/orders/%1$s",
           "request_id": "%1$s"},
         "response": {"response_code": {"value": 200}}}
        """.formatted(id));
  }

  private static void await(String what, BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting until " + what);
      }
      Thread.sleep(50);
    }
  }
}
