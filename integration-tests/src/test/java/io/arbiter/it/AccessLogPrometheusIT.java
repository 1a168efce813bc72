package io.arbiter.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue #4's operator config, verbatim, in the real jar, fed by the independent grpc-js client
 * ({@code js/als.js} with Envoy's own protos) the way Envoy feeds it: several {@code
 * StreamAccessLogs} streams, each with its {@code Identifier} on the first message only and several
 * entries per message, HTTP, gRPC and TCP entries, plus an OTLP export shaped like Envoy's
 * OpenTelemetry access logger's. What a scraper reads on {@code /metrics} and what the {@code log}
 * adapter prints are asserted exactly, against values worked out by hand from the entries below.
 *
 * <p>The entries are chosen so that a wrong mapping fails: every {@code requests_total} series has
 * a count no other series has (a swapped or wrong label moves a count); the durations sit in every
 * bucket, three of them exactly on a bound (0.5 s, 1 s and 5 s: {@code le} is inclusive, so a
 * {@code <} instead of {@code <=} moves them up a bucket) and two more on non-binary bounds (0.005
 * s and 0.1 s); durations counted in milliseconds instead of seconds would land every one but the
 * smallest in {@code +Inf}; the OTLP records give their {@code duration} in milliseconds, as
 * Envoy's {@code %DURATION%} does; the TCP entries do not match the rule ({@code context.protocol
 * == 'tcp'}) and must appear in neither metric nor log. Every duration but the two non-binary ones
 * is a binary fraction, so each {@code _sum} is exact whatever order the observations were added
 * in (the destination with the two non-binary ones has only those two, and a sum of two is the
 * same in either order).
 *
 * <p>Skipped when {@code node} or {@code js/node_modules} is missing, except on CI where that
 * fails; install them with {@code npm ci} in {@code integration-tests/js}.
 */
class AccessLogPrometheusIT {

  /** Issue #4's "config operators write", unchanged. */
  private static final String CONFIG = """
      handlers:
        - name: prom
          adapter: prometheus
          params:
            metrics:
              - {name: requests_total, instance: request-count, kind: COUNTER, labels: [destination, code]}
              - {name: request_duration_seconds, instance: request-duration, kind: DISTRIBUTION, labels: [destination], buckets: [0.005, 0.01, 0.05, 0.1, 0.5, 1, 5]}
        - name: json-log
          adapter: log
          params: {sink: stdout}
      instances:
        - name: request-count
          template: metric
          params: {value: "1", dimensions: {destination: "destination.service.host", code: "response.code"}}
        - name: request-duration
          template: metric
          params: {value: "response.duration", dimensions: {destination: "destination.service.host"}}
        - name: access
          template: logentry
          params: {severity: "response.code >= 500 ? 'ERROR' : 'INFO'", variables: {path: "request.path", code: "response.code", user: "request.headers['x-user']"}}
      rules:          # the same rules list as for checks
        - name: http-metrics
          match: "context.protocol == 'http' || context.protocol == 'grpc'"
          actions: [{handler: prom, instances: [request-count, request-duration]}, {handler: json-log, instances: [access]}]
      """;

  /**
   * One HTTP request Envoy logged: its authority (destination.service.host), status, duration in
   * nanoseconds ({@code time_to_last_downstream_tx_byte}), whether it was gRPC, its x-user header.
   */
  private record Req(String host, int code, long nanos, boolean grpc, String user) {}

  private static final long MS = 1_000_000L;
  private static final long S = 1_000_000_000L;

  /** Sent over the access-log streams. Per destination: the durations, then what they make. */
  private static final List<Req> HTTP = List.of(
      // orders.svc: 200 x7, 500 x3.
      //   0.00390625 | 0.0078125 x2 | 0.0625 x3 | 0.5 (on a bound) | 2.5 x2 | 7.5 (+Inf)
      new Req("orders.svc", 200, 3_906_250L, false, "alice"),
      new Req("orders.svc", 200, 7_812_500L, true, "alice"),
      new Req("orders.svc", 200, 7_812_500L, false, "bob"),
      new Req("orders.svc", 200, 62_500_000L, true, "alice"),
      new Req("orders.svc", 200, 62_500_000L, false, "bob"),
      new Req("orders.svc", 200, 2_500_000_000L, true, "carol"),
      new Req("orders.svc", 200, 500 * MS, false, "alice"),
      new Req("orders.svc", 500, 62_500_000L, false, "bob"),
      new Req("orders.svc", 500, 2_500_000_000L, false, "carol"),
      new Req("orders.svc", 500, 7_500_000_000L, false, "alice"),
      // users.svc: 200 x4 (and 2 more over OTLP), 404 x5.
      //   0.001953125 | 0.0078125 | 0.03125 x2 | 0.25 x3 (+1 OTLP) | 1 (on a bound; +1 OTLP) | 5 (on a bound)
      new Req("users.svc", 200, 31_250_000L, false, "dave"),
      new Req("users.svc", 200, 31_250_000L, true, "dave"),
      new Req("users.svc", 200, 1 * S, false, "erin"),
      new Req("users.svc", 200, 7_812_500L, false, "erin"),
      new Req("users.svc", 404, 250 * MS, false, "dave"),
      new Req("users.svc", 404, 250 * MS, false, "erin"),
      new Req("users.svc", 404, 250 * MS, true, "dave"),
      new Req("users.svc", 404, 5 * S, false, "frank"),
      new Req("users.svc", 404, 1_953_125L, false, "frank"),
      // pay.svc: 504 x2, on the non-binary bounds 0.005 and 0.1.
      new Req("pay.svc", 504, 5 * MS, false, "grace"),
      new Req("pay.svc", 504, 100 * MS, false, "grace"));

  /** Sent in one OTLP export: users.svc, 200, {@code duration} in milliseconds (250 and 1000). */
  private static final List<String> OTLP_DURATIONS_MS = List.of("250", "1000");

  /** TCP entries, on a stream of their own: counted by Arbiter, matched by no rule. */
  private static final int TCP_ENTRIES = 4;

  /** What a scraper must read: every sample of the two families, worked out by hand. */
  private static final Map<String, Double> EXPECTED_REQUESTS = expected(
      "requests_total{destination=\"orders.svc\",code=\"200\"}", 7,
      "requests_total{destination=\"orders.svc\",code=\"500\"}", 3,
      "requests_total{destination=\"users.svc\",code=\"200\"}", 6,
      "requests_total{destination=\"users.svc\",code=\"404\"}", 5,
      "requests_total{destination=\"pay.svc\",code=\"504\"}", 2);

  private static final Map<String, Double> EXPECTED_DURATIONS = expected(
      "request_duration_seconds_bucket{destination=\"orders.svc\",le=\"0.005\"}", 1,
      "request_duration_seconds_bucket{destination=\"orders.svc\",le=\"0.01\"}", 3,
      "request_duration_seconds_bucket{destination=\"orders.svc\",le=\"0.05\"}", 3,
      "request_duration_seconds_bucket{destination=\"orders.svc\",le=\"0.1\"}", 6,
      "request_duration_seconds_bucket{destination=\"orders.svc\",le=\"0.5\"}", 7,
      "request_duration_seconds_bucket{destination=\"orders.svc\",le=\"1\"}", 7,
      "request_duration_seconds_bucket{destination=\"orders.svc\",le=\"5\"}", 9,
      "request_duration_seconds_bucket{destination=\"orders.svc\",le=\"+Inf\"}", 10,
      "request_duration_seconds_sum{destination=\"orders.svc\"}", 13.20703125,
      "request_duration_seconds_count{destination=\"orders.svc\"}", 10,
      "request_duration_seconds_bucket{destination=\"users.svc\",le=\"0.005\"}", 1,
      "request_duration_seconds_bucket{destination=\"users.svc\",le=\"0.01\"}", 2,
      "request_duration_seconds_bucket{destination=\"users.svc\",le=\"0.05\"}", 4,
      "request_duration_seconds_bucket{destination=\"users.svc\",le=\"0.1\"}", 4,
      "request_duration_seconds_bucket{destination=\"users.svc\",le=\"0.5\"}", 8,
      "request_duration_seconds_bucket{destination=\"users.svc\",le=\"1\"}", 10,
      "request_duration_seconds_bucket{destination=\"users.svc\",le=\"5\"}", 11,
      "request_duration_seconds_bucket{destination=\"users.svc\",le=\"+Inf\"}", 11,
      "request_duration_seconds_sum{destination=\"users.svc\"}", 8.072265625,
      "request_duration_seconds_count{destination=\"users.svc\"}", 11,
      "request_duration_seconds_bucket{destination=\"pay.svc\",le=\"0.005\"}", 1,
      "request_duration_seconds_bucket{destination=\"pay.svc\",le=\"0.01\"}", 1,
      "request_duration_seconds_bucket{destination=\"pay.svc\",le=\"0.05\"}", 1,
      "request_duration_seconds_bucket{destination=\"pay.svc\",le=\"0.1\"}", 2,
      "request_duration_seconds_bucket{destination=\"pay.svc\",le=\"0.5\"}", 2,
      "request_duration_seconds_bucket{destination=\"pay.svc\",le=\"1\"}", 2,
      "request_duration_seconds_bucket{destination=\"pay.svc\",le=\"5\"}", 2,
      "request_duration_seconds_bucket{destination=\"pay.svc\",le=\"+Inf\"}", 2,
      "request_duration_seconds_sum{destination=\"pay.svc\"}", 0.005 + 0.1,
      "request_duration_seconds_count{destination=\"pay.svc\"}", 2);

  @RegisterExtension static final NodeClientsSetup node = new NodeClientsSetup();

  @TempDir Path dir;

  @Test
  void theIssuesConfigGivesExactSeriesOnMetricsAndExactLogLines() throws Exception {
    Path config = dir.resolve("policy.yaml");
    Files.writeString(config, CONFIG);
    int matched = HTTP.size() + OTLP_DURATIONS_MS.size();
    try (ArbiterProcess arbiter = ArbiterProcess.start(config)) {
      try {
        send(arbiter);
        // Every entry through the queue and the engine, every line written by the log handler and
        // every observation recorded (the handlers of one batch run one after the other, and the
        // log handler writes on its own schedule, so neither count implies the other).
        MetricsText.await(arbiter, "arbiter_accesslog_dispatched_total", matched + TCP_ENTRIES);
        String text = MetricsText.awaitUntil(arbiter, t ->
            MetricsText.value(t, "arbiter_log_entries_total{handler=\"json-log\"}") >= matched
                && total(MetricsText.family(t, "requests_total")) >= matched
                && total(MetricsText.family(t, "request_duration_seconds_count")) >= matched);
        assertThat(MetricsText.value(text, "arbiter_log_entries_total{handler=\"json-log\"}"))
            .isEqualTo(matched);

        assertThat(MetricsText.value(text, "arbiter_rule_matches_total{rule=\"http-metrics\"}"))
            .isEqualTo(matched);
        assertThat(MetricsText.value(text, "arbiter_accesslog_entries_total{protocol=\"tcp\"}"))
            .isEqualTo(TCP_ENTRIES);

        assertThat(MetricsText.meta(text, "requests_total")).containsExactly(
            "# HELP requests_total User-defined counter fed by instance 'request-count'.",
            "# TYPE requests_total counter");
        assertThat(MetricsText.family(text, "requests_total"))
            .as("requests_total in\n%s", text)
            .containsExactlyInAnyOrderEntriesOf(EXPECTED_REQUESTS);

        assertThat(MetricsText.meta(text, "request_duration_seconds")).containsExactly(
            "# HELP request_duration_seconds User-defined distribution fed by instance"
                + " 'request-duration'.",
            "# TYPE request_duration_seconds histogram");
        assertThat(MetricsText.family(text, "request_duration_seconds"))
            .as("request_duration_seconds in\n%s", text)
            .containsExactlyInAnyOrderEntriesOf(EXPECTED_DURATIONS);

        // Nothing was refused, dropped or overflowed on the way.
        for (String series : MetricsText.samples(text).keySet()) {
          if (series.startsWith("arbiter_prometheus_rejected_total")
              || series.startsWith("arbiter_metric_overflow_total")
              || series.startsWith("arbiter_log_dropped_total")
              || series.startsWith("arbiter_accesslog_dropped_total")) {
            assertThat(MetricsText.value(text, series)).as(series).isZero();
          }
        }

        assertThat(accessLines(arbiter.log())).as("the log adapter's lines")
            .containsExactlyInAnyOrderElementsOf(expectedLines());
      } catch (AssertionError | RuntimeException e) {
        throw new AssertionError(e.getMessage() + "\narbiter log:\n" + arbiter.log(), e);
      }
    }
  }

  // --- what is sent ------------------------------------------------------------------------------

  /**
   * The HTTP and gRPC entries spread round-robin over three streams of two Envoys (three entries
   * a message), the TCP entries on a fourth, then the OTLP export.
   */
  private static void send(ArbiterProcess arbiter) throws Exception {
    List<List<JsonObject>> perStream = List.of(new ArrayList<>(), new ArrayList<>(), new ArrayList<>());
    for (int i = 0; i < HTTP.size(); i++) {
      perStream.get(i % 3).add(httpEntry(i, HTTP.get(i)));
    }
    List<JsonObject> tcp = new ArrayList<>();
    for (int i = 0; i < TCP_ENTRIES; i++) {
      tcp.add(tcpEntry());
    }
    List<JsonObject> streams = List.of(
        AccessLogGrpcJsClient.stream("ingress-1", "ingress", "http", false, perStream.get(0), 3),
        AccessLogGrpcJsClient.stream("ingress-2", "ingress", "http", false, perStream.get(1), 3),
        AccessLogGrpcJsClient.stream("orders-7", "orders", "http", false, perStream.get(2), 3),
        AccessLogGrpcJsClient.stream("ingress-1", "ingress", "tcp", true, tcp, 3));
    List<JsonObject> records = new ArrayList<>();
    for (int i = 0; i < OTLP_DURATIONS_MS.size(); i++) {
      Map<String, String> attributes = new LinkedHashMap<>();
      attributes.put("method", "GET");
      attributes.put("path", "/users/otlp-" + i);
      attributes.put("authority", "users.svc");
      attributes.put("response_code", "200");
      attributes.put("duration", OTLP_DURATIONS_MS.get(i));
      attributes.put("x-request-id", "otlp-" + i);
      attributes.put("http.request.header.x-user", "heidi");
      records.add(AccessLogGrpcJsClient.otlpRecord(otlpNanos(i), attributes));
    }
    AccessLogGrpcJsClient.Run run = AccessLogGrpcJsClient.send(node.protoDir(), arbiter, streams,
        List.of(AccessLogGrpcJsClient.otlpExport(Map.of("log_name", "otel", "node_name", "front-proxy-1",
            "cluster_name", "front-proxy"), records)));
    assertThat(run.output().getAsJsonArray("otlp").get(0).getAsJsonObject().has("response"))
        .as(run.stdout()).isTrue();
  }

  /** Entry {@code i} started at a second of its own, so its log line's {@code ts} is its own. */
  private static Instant start(int i) {
    return Instant.ofEpochSecond(1_700_000_000L + i, 1_000L * i);
  }

  private static String otlpNanos(int i) {
    return String.valueOf((1_800_000_000L + i) * 1_000_000_000L + 250_000_000L);
  }

  /**
   * The logged path of entry {@code i}. Every third non-gRPC entry is sent with a query string
   * after it, which {@code request.path} leaves out.
   */
  private static String path(int i, Req r) {
    return r.grpc() ? "/" + r.host() + ".v1.Api/Call" + i : "/api/" + r.host() + "/" + i;
  }

  private static JsonObject httpEntry(int i, Req r) {
    Instant start = start(i);
    String target = path(i, r) + (!r.grpc() && i % 3 == 0 ? "?debug=1&i=" + i : "");
    String type = r.grpc() ? "application/grpc" : "application/json";
    return AccessLogGrpcJsClient.json("""
        {"common_properties": {
           "sample_rate": 1,
           "downstream_remote_address": {"socket_address": {"address": "10.0.0.5", "port_value": 43210}},
           "upstream_remote_address": {"socket_address": {"address": "10.1.0.7", "port_value": 8080}},
           "upstream_cluster": "%1$s",
           "start_time": {"seconds": "%2$d", "nanos": %3$d},
           "time_to_last_downstream_tx_byte": {"seconds": "%4$d", "nanos": %5$d}},
         "protocol_version": "HTTP2",
         "request": {
           "request_method": "%6$s", "scheme": "https", "authority": "%1$s",
           "path": "%7$s", "request_id": "req-%8$d",
           "request_headers": {"content-type": "%9$s", "x-user": "%10$s"}},
         "response": {
           "response_code": {"value": %11$d},
           "response_headers": {"content-type": "%9$s"}%12$s}}
        """.formatted(r.host(), start.getEpochSecond(), start.getNano(),
        r.nanos() / S, r.nanos() % S, r.grpc() ? "POST" : "GET", target, i, type, r.user(),
        r.code(), r.grpc() ? ", \"response_trailers\": {\"grpc-status\": \"0\"}" : ""));
  }

  private static JsonObject tcpEntry() {
    return AccessLogGrpcJsClient.json("""
        {"common_properties": {
           "sample_rate": 1,
           "downstream_remote_address": {"socket_address": {"address": "10.0.0.5", "port_value": 43210}},
           "upstream_remote_address": {"socket_address": {"address": "10.1.0.8", "port_value": 5432}},
           "upstream_cluster": "postgres",
           "start_time": {"seconds": "1700000000", "nanos": 0},
           "time_to_last_downstream_tx_byte": {"seconds": "0", "nanos": 7812500}},
         "connection_properties": {"received_bytes": "512", "sent_bytes": "2048"}}
        """);
  }

  // --- what must come out ------------------------------------------------------------------------

  /**
   * The line the log adapter prints for each matched entry: {@code ts} its start time, severity
   * ERROR from 500 up, the instance's name, then the variables in config order.
   */
  private static List<String> expectedLines() {
    List<String> out = new ArrayList<>();
    String format = "{\"ts\":\"%s\",\"severity\":\"%s\",\"name\":\"access\",\"path\":\"%s\","
        + "\"code\":%d,\"user\":\"%s\"}";
    for (int i = 0; i < HTTP.size(); i++) {
      Req r = HTTP.get(i);
      out.add(format.formatted(start(i), r.code() >= 500 ? "ERROR" : "INFO", path(i, r), r.code(),
          r.user()));
    }
    out.add(format.formatted("2027-01-15T08:00:00.250Z", "INFO", "/users/otlp-0", 200, "heidi"));
    out.add(format.formatted("2027-01-15T08:00:01.250Z", "INFO", "/users/otlp-1", 200, "heidi"));
    return out;
  }

  /** The log adapter's lines among Arbiter's output (its own log lines have no instance name). */
  private static List<String> accessLines(String output) {
    return output.lines().filter(l -> l.startsWith("{\"ts\":") && l.contains("\"name\":\"access\""))
        .toList();
  }

  private static double total(Map<String, Double> samples) {
    return samples.values().stream().mapToDouble(Double::doubleValue).sum();
  }

  private static Map<String, Double> expected(Object... seriesAndValues) {
    Map<String, Double> out = new LinkedHashMap<>();
    for (int i = 0; i < seriesAndValues.length; i += 2) {
      out.put((String) seriesAndValues[i], ((Number) seriesAndValues[i + 1]).doubleValue());
    }
    return out;
  }
}
