package io.arbiter.it;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.envoyproxy.envoy.service.auth.v3.CheckRequest;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;

/**
 * Runs the independent Node clients of {@code integration-tests/js} ({@code check.js}, {@code
 * rls.js}, {@code als.js}): clients built on {@code @grpc/grpc-js} and {@code @grpc/proto-loader}
 * that load Envoy's and OpenTelemetry's {@code .proto} sources from the {@code
 * io.envoyproxy.controlplane:api} jar, read one JSON object on stdin and print one on stdout
 * (their shared part is {@code js/cli.js}).
 *
 * <p>They need {@code node} (18 or later) on the PATH and {@code npm ci} run in {@code
 * integration-tests/js}; {@link #unavailableReason()} says what is missing.
 */
final class NodeClients {
  /** The {@code .proto} files the clients load, all of which the API jar must hold. */
  private static final List<String> LOADED_PROTOS = List.of(
      "envoy/service/auth/v3/external_auth.proto",
      "envoy/service/ratelimit/v3/rls.proto",
      "envoy/service/accesslog/v3/als.proto",
      "opentelemetry/proto/collector/logs/v1/logs_service.proto");

  /** Where the clients and their {@code package-lock.json} live. */
  static Path jsDir() {
    return ArbiterProcess.root().resolve("integration-tests").resolve("js");
  }

  /** Null when the clients can run here, else what is missing and how to install it. */
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
   * Extracts every {@code .proto} file of the Envoy API jar (Envoy's, {@code udpa/}, {@code
   * xds/}, {@code validate/}, {@code opentelemetry/}, {@code google/api|rpc/} …) under {@code dir},
   * for {@code --proto-path}. The {@code google/protobuf/} well-known types come from
   * proto-loader's own copies.
   */
  static Path extractEnvoyProtos(Path dir) throws IOException {
    Path jar;
    try {
      jar = Path.of(CheckRequest.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    } catch (java.net.URISyntaxException e) {
      throw new IOException(e);
    }
    int count = 0;
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
        count++;
      }
    }
    for (String proto : LOADED_PROTOS) {
      if (!Files.isRegularFile(dir.resolve(proto))) {
        throw new IOException(jar + " holds no " + proto + " (" + count + " protos extracted)");
      }
    }
    return dir;
  }

  /** What one run printed and how it ended. */
  record Output(int exitCode, String stdout, String stderr) {
    /** The printed JSON object. */
    JsonObject json() {
      return JsonParser.parseString(stdout).getAsJsonObject();
    }
  }

  /**
   * Runs {@code node SCRIPT --proto-path protoDir} with {@code input} on stdin. Fails when it does
   * not finish within {@code timeout} (a guard against a hang, not a measurement), or ends with
   * exit code 2 (bad usage or input) or prints nothing; exit codes 0 and 1 (a call failed) are the
   * caller's to judge.
   */
  static Output run(String script, Path protoDir, JsonObject input, Duration timeout)
      throws Exception {
    Process p = new ProcessBuilder("node", script, "--proto-path", protoDir.toString())
        .directory(jsDir().toFile()).start();
    try {
      CompletableFuture<String> out = readAsync(p.getInputStream(), script);
      CompletableFuture<String> err = readAsync(p.getErrorStream(), script);
      try (OutputStream stdin = p.getOutputStream()) {
        stdin.write(input.toString().getBytes(StandardCharsets.UTF_8));
      }
      if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        throw new AssertionError("node " + script + " did not finish; stderr so far:\n"
            + err.getNow(""));
      }
      String stdout = out.get(30, TimeUnit.SECONDS);
      String stderr = err.get(30, TimeUnit.SECONDS);
      if (p.exitValue() == 2 || stdout.isBlank()) {
        throw new AssertionError("node " + script + " exited with " + p.exitValue()
            + "; stderr:\n" + stderr + "\nstdout:\n" + stdout);
      }
      return new Output(p.exitValue(), stdout, stderr);
    } finally {
      if (p.isAlive()) {
        p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
    }
  }

  private static CompletableFuture<String> readAsync(InputStream in, String script) {
    // One thread per stream (not the common pool, which may have a single worker): a full stderr
    // pipe must never block the process while stdout is being read.
    return CompletableFuture.supplyAsync(() -> {
      try (in) {
        return new String(in.readAllBytes(), StandardCharsets.UTF_8);
      } catch (IOException e) {
        return "(read failed: " + e + ")";
      }
    }, r -> {
      Thread t = new Thread(r, script + "-output");
      t.setDaemon(true);
      t.start();
    });
  }

  private NodeClients() {}
}
