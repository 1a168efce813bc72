package io.arbiter.it;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * Runs {@code integration-tests/js/als.js} ({@link NodeClients}): Envoy's {@code als.proto} and
 * OpenTelemetry's {@code logs_service.proto} loaded from their {@code .proto} sources, access-log
 * messages streamed the way Envoy does and OTLP logs exported; and builds what it sends.
 */
final class AccessLogGrpcJsClient {
  /** What one run printed and how it ended. */
  record Run(int exitCode, JsonObject output, String stdout, String stderr) {}

  /**
   * Sends {@code input} ({@code target}, {@code streams}, {@code otlp}; see als.js) and returns
   * what came back. Waits at most three minutes for the process, as a guard against a hang.
   */
  static Run run(Path protoDir, JsonObject input) throws Exception {
    NodeClients.Output out = NodeClients.run("als.js", protoDir, input, Duration.ofMinutes(3));
    return new Run(out.exitCode(), out.json(), out.stdout(), out.stderr());
  }

  /**
   * Sends {@code streams} (each from {@link #stream}) and then {@code otlp} exports to {@code
   * arbiter}'s gRPC port; fails, with the client's output and Arbiter's log, unless every call
   * completed.
   */
  static Run send(Path protoDir, ArbiterProcess arbiter, List<JsonObject> streams,
      List<JsonObject> otlp) throws Exception {
    JsonObject input = new JsonObject();
    input.addProperty("target", "127.0.0.1:" + arbiter.grpcPort);
    input.addProperty("deadlineMs", 60_000);
    JsonArray s = new JsonArray();
    streams.forEach(s::add);
    input.add("streams", s);
    JsonArray o = new JsonArray();
    otlp.forEach(o::add);
    input.add("otlp", o);
    Run run = run(protoDir, input);
    if (run.exitCode() != 0) {
      throw new AssertionError("als.js failed:\n" + run.stdout() + "\n" + run.stderr()
          + "\narbiter log:\n" + arbiter.log());
    }
    return run;
  }

  // --- what als.js sends: proto-loader JSON with the .proto field names ---------------------------

  /**
   * One {@code StreamAccessLogs} stream as Envoy's gRPC access logger writes it: the {@code
   * Identifier} (node id and cluster, log name) on the first message only, then {@code entries} in
   * messages of {@code perMessage} ({@code tcp_logs} or {@code http_logs}).
   */
  static JsonObject stream(String node, String cluster, String logName, boolean tcp,
      List<JsonObject> entries, int perMessage) {
    JsonArray messages = new JsonArray();
    for (int from = 0; from < entries.size(); from += perMessage) {
      JsonObject message = new JsonObject();
      if (from == 0) {
        message.add("identifier", json("""
            {"node": {"id": "%s", "cluster": "%s"}, "log_name": "%s"}
            """.formatted(node, cluster, logName)));
      }
      JsonArray batch = new JsonArray();
      entries.subList(from, Math.min(entries.size(), from + perMessage)).forEach(batch::add);
      JsonObject list = new JsonObject();
      list.add("log_entry", batch);
      message.add(tcp ? "tcp_logs" : "http_logs", list);
      messages.add(message);
    }
    JsonObject stream = new JsonObject();
    stream.add("messages", messages);
    return stream;
  }

  /**
   * An OTLP {@code ExportLogsServiceRequest} as Envoy's OpenTelemetry access logger sends it: one
   * resource with {@code resource}'s attributes, one scope holding {@code records}.
   */
  static JsonObject otlpExport(Map<String, String> resource, List<JsonObject> records) {
    JsonObject r = new JsonObject();
    r.add("attributes", keyValues(resource));
    JsonArray recs = new JsonArray();
    records.forEach(recs::add);
    JsonObject scope = new JsonObject();
    scope.add("log_records", recs);
    JsonArray scopes = new JsonArray();
    scopes.add(scope);
    JsonObject resourceLogs = new JsonObject();
    resourceLogs.add("resource", r);
    resourceLogs.add("scope_logs", scopes);
    JsonArray all = new JsonArray();
    all.add(resourceLogs);
    JsonObject request = new JsonObject();
    request.add("resource_logs", all);
    return request;
  }

  /** An OTLP log record: its time (fixed64, as decimal text) and string attributes. */
  static JsonObject otlpRecord(String timeUnixNano, Map<String, String> attributes) {
    JsonObject r = new JsonObject();
    r.addProperty("time_unix_nano", timeUnixNano);
    r.add("attributes", keyValues(attributes));
    return r;
  }

  /** OTLP {@code KeyValue}s of string values. */
  static JsonArray keyValues(Map<String, String> values) {
    JsonArray out = new JsonArray();
    values.forEach((k, v) -> {
      JsonObject kv = new JsonObject();
      kv.addProperty("key", k);
      JsonObject any = new JsonObject();
      any.addProperty("string_value", v);
      kv.add("value", any);
      out.add(kv);
    });
    return out;
  }

  static JsonObject json(String text) {
    return JsonParser.parseString(text).getAsJsonObject();
  }

  private AccessLogGrpcJsClient() {}
}
