package io.arbiter.it;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.envoyproxy.envoy.service.accesslog.v3.StreamAccessLogsMessage;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;

/**
 * Runs {@code integration-tests/js/als.js}: a Node client on {@code @grpc/grpc-js} and {@code
 * @grpc/proto-loader} that loads Envoy's {@code als.proto} and OpenTelemetry's {@code
 * logs_service.proto} from the {@code .proto} sources inside the {@code
 * io.envoyproxy.controlplane:api} jar, streams access-log messages the way Envoy does and exports
 * OTLP logs. (The same machinery as {@code GrpcJsClient}, for the access-log services.)
 *
 * <p>It needs {@code node} (18 or later) on the PATH and {@code npm ci} run in {@code
 * integration-tests/js}; {@link #unavailableReason()} says what is missing.
 */
final class AccessLogGrpcJsClient {
  static Path jsDir() {
    return ArbiterProcess.root().resolve("integration-tests").resolve("js");
  }

  /** Null when the client can run here, else what is missing and how to install it. */
  static String unavailableReason() {
    String install = "install Node.js 18+ and run `npm ci` in " + jsDir();
    try {
      Process p = new ProcessBuilder("node", "--version").redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
      if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
        return "`node --version` failed (" + out + "): " + install;
      }
    } catch (IOException | InterruptedException e) {
      return "no `node` on the PATH (" + e.getMessage() + "): " + install;
    }
    for (String module : List.of("@grpc/grpc-js", "@grpc/proto-loader")) {
      if (!Files.isDirectory(jsDir().resolve("node_modules").resolve(module))) {
        return jsDir().resolve("node_modules").resolve(module) + " is missing: " + install;
      }
    }
    return null;
  }

  /**
   * Extracts every {@code .proto} file of the Envoy API jar under {@code dir}, for {@code
   * --proto-path}; the {@code google/protobuf/} well-known types come from proto-loader's copies.
   */
  static Path extractEnvoyProtos(Path dir) throws IOException {
    Path jar;
    try {
      jar = Path.of(StreamAccessLogsMessage.class.getProtectionDomain().getCodeSource()
          .getLocation().toURI());
    } catch (java.net.URISyntaxException e) {
      throw new IOException(e);
    }
    try (ZipInputStream zip = new ZipInputStream(Files.newInputStream(jar))) {
      for (ZipEntry e; (e = zip.getNextEntry()) != null; ) {
        if (e.isDirectory() || !e.getName().endsWith(".proto")) {
          continue;
        }
        Path out = dir.resolve(e.getName()).normalize();
        if (!out.startsWith(dir)) {
          throw new IOException("entry outside the target directory: " + e.getName());
        }
        Files.createDirectories(out.getParent());
        Files.copy(zip, out);
      }
    }
    for (String proto : List.of("envoy/service/accesslog/v3/als.proto",
        "opentelemetry/proto/collector/logs/v1/logs_service.proto")) {
      if (!Files.isRegularFile(dir.resolve(proto))) {
        throw new IOException(jar + " holds no " + proto);
      }
    }
    return dir;
  }

  /** What one run printed and how it ended. */
  record Run(int exitCode, JsonObject output, String stdout, String stderr) {}

  /**
   * Sends {@code input} ({@code target}, {@code streams}, {@code otlp}; see als.js) and returns
   * what came back. Waits at most three minutes for the process, as a guard against a hang.
   */
  static Run run(Path protoDir, JsonObject input) throws Exception {
    Process p = new ProcessBuilder("node", "als.js", "--proto-path", protoDir.toString())
        .directory(jsDir().toFile()).start();
    try {
      CompletableFuture<String> out = readAsync(p.getInputStream());
      CompletableFuture<String> err = readAsync(p.getErrorStream());
      try (OutputStream stdin = p.getOutputStream()) {
        stdin.write(input.toString().getBytes(StandardCharsets.UTF_8));
      }
      if (!p.waitFor(3, TimeUnit.MINUTES)) {
        throw new AssertionError("node als.js did not finish; stderr so far:\n" + err.getNow(""));
      }
      String stdout = out.get(30, TimeUnit.SECONDS);
      String stderr = err.get(30, TimeUnit.SECONDS);
      if (p.exitValue() == 2 || stdout.isBlank()) {
        throw new AssertionError("node als.js exited with " + p.exitValue()
            + "; stderr:\n" + stderr + "\nstdout:\n" + stdout);
      }
      return new Run(p.exitValue(), JsonParser.parseString(stdout).getAsJsonObject(), stdout, stderr);
    } finally {
      if (p.isAlive()) {
        p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
    }
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

  private static CompletableFuture<String> readAsync(InputStream in) {
    return CompletableFuture.supplyAsync(() -> {
      try (in) {
        return new String(in.readAllBytes(), StandardCharsets.UTF_8);
      } catch (IOException e) {
        return "(read failed: " + e + ")";
      }
    }, r -> {
      Thread t = new Thread(r, "als-client-output");
      t.setDaemon(true);
      t.start();
    });
  }

  private AccessLogGrpcJsClient() {}
}
