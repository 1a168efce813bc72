package io.arbiter.it;

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
