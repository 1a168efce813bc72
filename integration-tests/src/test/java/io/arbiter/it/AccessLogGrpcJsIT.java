package io.arbiter.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Arbiter's access-log front end against an independent, non-Java client: Node's {@code
 * @grpc/grpc-js} with Envoy's own {@code als.proto} and OpenTelemetry's {@code
 * logs_service.proto} (see {@code integration-tests/js/als.js}), sending what Envoy's loggers send:
 * several {@code StreamAccessLogs} streams open at once, each with its {@code Identifier} on the
 * first message only and many entries per message (HTTP, gRPC and TCP), and OTLP {@code Export}
 * calls shaped like Envoy's OpenTelemetry access logger's.
 *
 * <p>The real jar carries no test adapter, so the first test proves the counts on Arbiter's own
 * {@code /metrics}: entries by protocol, reports evaluated, dispatched, none dropped, the rejected
 * OTLP records. The second proves each entry's attributes, its stream's identifier included,
 * through the {@code log} adapter's JSON lines; it runs once the jar has that adapter and is
 * skipped (with the reason) before.
 *
 * <p>Skipped when {@code node} or {@code js/node_modules} is missing, except on CI where that
 * fails; install them with {@code npm ci} in {@code integration-tests/js}.
 */
class AccessLogGrpcJsIT {
  /** The streams: each an Envoy (node id, cluster), a logger, its messages and entries. */
  private record StreamSpec(String prefix, String node, String cluster, String logName,
      boolean tcp, int messages, int perMessage, int grpcPerMessage) {
    int entries() {
      return messages * perMessage;
    }
  }

  private static final List<StreamSpec> STREAMS = List.of(
      new StreamSpec("s0", "ingress-1", "ingress", "http", false, 4, 50, 10),
      new StreamSpec("s1", "orders-7", "orders", "http", false, 5, 40, 0),
      new StreamSpec("s2", "ingress-1", "ingress", "tcp", true, 3, 30, 0));
  /** Envoy-shaped OTLP records in the one export, and records of another format beside them. */
  private static final int OTLP_RECORDS = 6;
  private static final int FOREIGN_RECORDS = 2;

  @RegisterExtension static final NodeClientsSetup node = new NodeClientsSetup();

  @TempDir Path dir;

  @Test
  void streamsAndOtlpExportsAreCountedExactlyOnMetrics() throws Exception {
    try (ArbiterProcess arbiter = ArbiterProcess.start(null)) {
      AccessLogGrpcJsClient.Run run = send(arbiter);
      try {
        assertStreamsAndExportAnswered(run);
        int http = 0;
        int grpc = 0;
        int tcp = 0;
        for (StreamSpec s : STREAMS) {
          if (s.tcp()) {
            tcp += s.entries();
          } else {
            grpc += s.messages() * s.grpcPerMessage();
            http += s.entries() - s.messages() * s.grpcPerMessage();
          }
        }
        http += OTLP_RECORDS;
        int total = http + grpc + tcp;
        String metrics = awaitMetric(arbiter, "arbiter_accesslog_dispatched_total", total);
        assertThat(metric(metrics, "arbiter_accesslog_entries_total{protocol=\"http\"}")).isEqualTo(http);
        assertThat(metric(metrics, "arbiter_accesslog_entries_total{protocol=\"grpc\"}")).isEqualTo(grpc);
        assertThat(metric(metrics, "arbiter_accesslog_entries_total{protocol=\"tcp\"}")).isEqualTo(tcp);
        assertThat(metric(metrics, "arbiter_accesslog_entries_total{protocol=\"other\"}")).isZero();
        assertThat(metric(metrics, "arbiter_reports_total")).isEqualTo(total);
        assertThat(metric(metrics, "arbiter_accesslog_rejected_total{reason=\"unmapped\"}"))
            .isEqualTo(FOREIGN_RECORDS);
        for (String reason : List.of("queue_full", "spill_full", "spill_error", "spill_corrupt", "shutdown")) {
          assertThat(metric(metrics, "arbiter_accesslog_dropped_total{reason=\"" + reason + "\"}"))
              .as(reason).isZero();
        }
        assertThat(metric(metrics, "arbiter_accesslog_queue_depth")).isZero();
        assertThat(metric(metrics, "arbiter_accesslog_streams")).isZero();
      } catch (AssertionError | RuntimeException e) {
        throw new AssertionError(e.getMessage() + "\nclient stderr:\n" + run.stderr()
            + "\narbiter log:\n" + arbiter.log(), e);
      }
    }
  }

  @Test
  void everyEntryCarriesItsStreamsIdentifierThroughTheLogAdapter() throws Exception {
    Path config = dir.resolve("policy.yaml");
    Files.writeString(config, """
        handlers:
          - {name: access-log, adapter: log, params: {sink: file, path: access.jsonl, flushInterval: 50ms}}
        instances:
          - name: access
            template: logentry
            params:
              severity: "'INFO'"
              variables:
                id: request.id
                node: context.reporter.node
                cluster: context.reporter.cluster
                logger: context.reporter.name
                protocol: context.protocol
                code: response.code
                user: "request.headers[?'x-user'].orValue('')"
                decision: "context.metadata[?'envoy.filters.http.ext_authz'].orValue({})[?'decision_id'].orValue('')"
        rules:
          - name: every-entry
            match: "true"
            actions: [{handler: access-log, instances: [access]}]
        """);
    String unavailable = logAdapterUnavailable(config);
    Assumptions.assumeTrue(unavailable == null,
        () -> "the jar under test has no usable log adapter yet: " + unavailable);

    Path logFile = dir.resolve("access.jsonl");
    AccessLogGrpcJsClient.Run run;
    int total = STREAMS.stream().mapToInt(StreamSpec::entries).sum() + OTLP_RECORDS;
    try (ArbiterProcess arbiter = ArbiterProcess.start(config)) {
      run = send(arbiter);
      assertStreamsAndExportAnswered(run);
      String metrics = awaitMetric(arbiter, "arbiter_accesslog_dispatched_total", total);
      assertThat(metric(metrics, "arbiter_rule_matches_total{rule=\"every-entry\"}")).isEqualTo(total);
    } // SIGTERM: the queue flushes, the handler writes what it buffered

    Map<String, JsonObject> byId = new LinkedHashMap<>();
    for (String line : Files.readAllLines(logFile, StandardCharsets.UTF_8)) {
      JsonObject o = variables(JsonParser.parseString(line).getAsJsonObject());
      assertThat(byId.put(o.get("id").getAsString(), o)).as("one line per entry: %s", line).isNull();
    }
    assertThat(byId).hasSize(total);
    for (StreamSpec s : STREAMS) {
      for (int i = 0; i < s.entries(); i++) {
        String id = s.prefix() + "-" + i;
        JsonObject o = byId.get(id);
        assertThat(o).as(id).isNotNull();
        assertThat(o.get("node").getAsString()).as(id).isEqualTo(s.node());
        assertThat(o.get("cluster").getAsString()).as(id).isEqualTo(s.cluster());
        assertThat(o.get("logger").getAsString()).as(id).isEqualTo(s.logName());
        String protocol = s.tcp() ? "tcp" : (i % s.perMessage()) < s.grpcPerMessage() ? "grpc" : "http";
        assertThat(o.get("protocol").getAsString()).as(id).isEqualTo(protocol);
        if (!s.tcp()) {
          assertThat(o.get("user").getAsString()).as(id).isEqualTo("alice");
          // what Arbiter's own Check put in the ext_authz filter's dynamic metadata
          assertThat(o.get("decision").getAsString()).as(id).isEqualTo("0123456789abcdef");
        }
      }
    }
    JsonObject otlp = byId.get("otlp-0");
    assertThat(otlp.get("node").getAsString()).isEqualTo("front-proxy-1");
    assertThat(otlp.get("logger").getAsString()).isEqualTo("otel");
    assertThat(otlp.get("code").getAsInt()).isEqualTo(200);
  }

  // --- what the client sends ---------------------------------------------------------------------

  private static AccessLogGrpcJsClient.Run send(ArbiterProcess arbiter) throws Exception {
    List<JsonObject> streams = new ArrayList<>();
    for (StreamSpec s : STREAMS) {
      List<JsonObject> entries = new ArrayList<>();
      for (int i = 0; i < s.entries(); i++) {
        String id = s.prefix() + "-" + i;
        entries.add(s.tcp() ? tcpEntry(id) : httpEntry(id, i % s.perMessage() < s.grpcPerMessage()));
      }
      streams.add(AccessLogGrpcJsClient.stream(
          s.node(), s.cluster(), s.logName(), s.tcp(), entries, s.perMessage()));
    }
    return AccessLogGrpcJsClient.send(node.protoDir(), arbiter, streams, List.of(otlpRequest()));
  }

  /**
   * A TCP entry has no request id of its own: a custom tag (Envoy's {@code custom_tags}, mapped
   * like OTLP attributes) gives it one, so the log lines can be told apart.
   */
  private static JsonObject tcpEntry(String id) {
    return json("""
        {"common_properties": {
           "sample_rate": 1,
           "downstream_remote_address": {"socket_address": {"address": "10.0.0.5", "port_value": 43210}},
           "upstream_remote_address": {"socket_address": {"address": "10.1.0.7", "port_value": 5432}},
           "upstream_cluster": "postgres",
           "start_time": {"seconds": "1700000000", "nanos": 0},
           "custom_tags": {"request.id": "%s", "context.reporter.kind": "inbound"}},
         "connection_properties": {"received_bytes": "512", "sent_bytes": "2048"}}
        """.formatted(id));
  }

  private static JsonObject httpEntry(String id, boolean grpc) {
    return json("""
        {"common_properties": {
           "sample_rate": 1,
           "downstream_remote_address": {"socket_address": {"address": "10.0.0.5", "port_value": 43210}},
           "downstream_local_address": {"socket_address": {"address": "10.0.0.9", "port_value": 8443}},
           "upstream_remote_address": {"socket_address": {"address": "10.1.0.7", "port_value": 8080}},
           "upstream_cluster": "orders",
           "route_name": "orders-route",
           "start_time": {"seconds": "1700000000", "nanos": 5000},
           "time_to_last_downstream_tx_byte": {"seconds": "0", "nanos": 12500000},
           "tls_properties": {
             "tls_sni_hostname": "orders.example.com",
             "peer_certificate_properties": {
               "subject_alt_name": [{"uri": "spiffe://cluster.local/ns/default/sa/frontend"}]}},
           "metadata": {"filter_metadata": {"envoy.filters.http.ext_authz": {
             "fields": {"decision_id": {"stringValue": "0123456789abcdef"}}}}}},
         "protocol_version": "HTTP2",
         "request": {
           "request_method": "%s", "scheme": "https", "authority": "orders.example.com",
           "path": "%s", "user_agent": "grpc-js-it", "request_id": "%s",
           "request_body_bytes": "17",
           "request_headers": {"content-type": "%s", "x-user": "alice"}},
         "response": {
           "response_code": {"value": 200}, "response_body_bytes": "1234",
           "response_headers": {"content-type": "%s"}%s}}
        """.formatted(grpc ? "POST" : "GET", grpc ? "/orders.v1.Orders/Get" : "/api/orders?id=" + id, id,
        grpc ? "application/grpc" : "application/json", grpc ? "application/grpc" : "application/json",
        grpc ? ", \"response_trailers\": {\"grpc-status\": \"0\"}" : ""));
  }

  /** An export as Envoy's OpenTelemetry logger sends it (envoy-configs/accesslog-otel.yaml). */
  private static JsonObject otlpRequest() {
    List<JsonObject> records = new ArrayList<>();
    for (int i = 0; i < OTLP_RECORDS; i++) {
      records.add(record(Map.of(
          "method", "GET", "path", "/otlp/" + i, "authority", "orders.example.com",
          "response_code", i == 0 ? "200" : "503", "response_flags", i == 0 ? "-" : "UH",
          "duration", "12", "downstream_remote_address", "10.0.0.5:43210",
          "upstream_host", "-", "x-request-id", "otlp-" + i, "http.request.header.x-user", "alice")));
    }
    for (int i = 0; i < FOREIGN_RECORDS; i++) {
      records.add(record(Map.of("logger", "com.example.App", "thread", "main")));
    }
    return AccessLogGrpcJsClient.otlpExport(Map.of("log_name", "otel", "node_name", "front-proxy-1",
        "cluster_name", "front-proxy", "zone_name", "eu-west-1a"), records);
  }

  private static JsonObject record(Map<String, String> attributes) {
    return AccessLogGrpcJsClient.otlpRecord("1700000000005000000", attributes);
  }

  // --- what comes back ---------------------------------------------------------------------------

  private static void assertStreamsAndExportAnswered(AccessLogGrpcJsClient.Run run) {
    JsonArray streams = run.output().getAsJsonArray("streams");
    assertThat(streams).as(run.stdout()).hasSize(STREAMS.size());
    for (int i = 0; i < STREAMS.size(); i++) {
      JsonObject s = streams.get(i).getAsJsonObject();
      assertThat(s.has("response")).as("stream %d: %s", i, s).isTrue();
      assertThat(s.get("sent").getAsInt()).isEqualTo(STREAMS.get(i).messages());
    }
    JsonObject export = run.output().getAsJsonArray("otlp").get(0).getAsJsonObject();
    JsonObject partial = export.getAsJsonObject("response").getAsJsonObject("partial_success");
    assertThat(partial.get("rejected_log_records").getAsString())
        .isEqualTo(String.valueOf(FOREIGN_RECORDS));
    assertThat(partial.get("error_message").getAsString()).contains("logger").contains("thread");
  }

  private static String awaitMetric(ArbiterProcess arbiter, String name, long expected) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    String metrics = arbiter.admin("/metrics");
    while (metric(metrics, name) < expected && System.nanoTime() < deadline) {
      Thread.sleep(50);
      metrics = arbiter.admin("/metrics");
    }
    assertThat(metric(metrics, name)).as(name + " in\n" + metrics).isEqualTo(expected);
    return metrics;
  }

  /** The value of one series on /metrics; 0 when it is not there. */
  private static long metric(String metrics, String series) {
    Matcher m = Pattern.compile("(?m)^" + Pattern.quote(series) + " (\\S+)$").matcher(metrics);
    return m.find() ? (long) Double.parseDouble(m.group(1)) : 0;
  }

  /** A log line's variables: at its top level (the log adapter's format), or under "variables". */
  private static JsonObject variables(JsonObject line) {
    JsonElement v = line.get("variables");
    return v != null && v.isJsonObject() ? v.getAsJsonObject() : line;
  }

  /** Null if the jar accepts the config (its log adapter exists), else why not. */
  private static String logAdapterUnavailable(Path config) throws Exception {
    List<String> cmd = new ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-jar", ArbiterProcess.jar().toString(), "validate", config.toString()));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(60, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      return "validate did not finish";
    }
    return p.exitValue() == 0 ? null : out.strip();
  }

  private static JsonObject json(String text) {
    return AccessLogGrpcJsClient.json(text);
  }
}
