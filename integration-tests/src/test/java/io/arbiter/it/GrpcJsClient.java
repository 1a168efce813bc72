package io.arbiter.it;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.envoyproxy.envoy.service.auth.v3.CheckRequest;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;

/**
 * Runs {@code integration-tests/js/check.js}: a Node client built on {@code @grpc/grpc-js} and
 * {@code @grpc/proto-loader} that loads Envoy's {@code external_auth.proto} from the {@code .proto}
 * sources inside the {@code io.envoyproxy.controlplane:api} jar and calls {@code
 * Authorization/Check} once per request.
 *
 * <p>It needs {@code node} (18 or later) on the PATH and {@code npm ci} run in {@code
 * integration-tests/js}; {@link #unavailableReason()} says what is missing.
 */
final class GrpcJsClient {
  /** Where the client and its {@code package-lock.json} live. */
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
   * Extracts every {@code .proto} file of the Envoy API jar (Envoy's, {@code udpa/}, {@code
   * xds/}, {@code validate/}, {@code google/api|rpc/} …) under {@code dir}, for {@code
   * --proto-path}. The {@code google/protobuf/} well-known types come from proto-loader's own
   * copies.
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
    if (!Files.isRegularFile(dir.resolve("envoy/service/auth/v3/external_auth.proto"))) {
      throw new IOException(jar + " holds no envoy/service/auth/v3/external_auth.proto ("
          + count + " protos extracted)");
    }
    return dir;
  }

  /** What one run printed and how it ended. */
  record Run(int exitCode, JsonArray results, String stdout, String stderr) {
    JsonObject result(int i) {
      return results.get(i).getAsJsonObject();
    }

    /** The CheckResponse of request {@code i}, failing with the run's output if the call failed. */
    JsonObject response(int i) {
      JsonObject r = result(i);
      if (!r.has("response")) {
        throw new AssertionError("call " + i + " failed: " + r + "\nstderr:\n" + stderr);
      }
      return r.getAsJsonObject("response");
    }
  }

  /**
   * Sends {@code requests} (CheckRequests as proto-loader objects: the .proto field names, bytes as
   * base64) to {@code target} and returns the decoded responses. Waits at most two minutes for the
   * process, as a guard against a hang, not as a measurement.
   */
  static Run check(Path protoDir, String target, JsonArray requests) throws Exception {
    JsonObject input = new JsonObject();
    input.addProperty("target", target);
    input.addProperty("deadlineMs", 20_000);
    input.add("requests", requests);
    List<String> cmd =
        new ArrayList<>(List.of("node", "check.js", "--proto-path", protoDir.toString()));
    Process p = new ProcessBuilder(cmd).directory(jsDir().toFile()).start();
    try {
      CompletableFuture<String> out = readAsync(p.getInputStream());
      CompletableFuture<String> err = readAsync(p.getErrorStream());
      try (OutputStream stdin = p.getOutputStream()) {
        stdin.write(input.toString().getBytes(StandardCharsets.UTF_8));
      }
      if (!p.waitFor(2, TimeUnit.MINUTES)) {
        throw new AssertionError("node check.js did not finish; stderr so far:\n" + err.getNow(""));
      }
      String stdout = out.get(30, TimeUnit.SECONDS);
      String stderr = err.get(30, TimeUnit.SECONDS);
      if (p.exitValue() == 2 || stdout.isBlank()) {
        throw new AssertionError("node check.js exited with " + p.exitValue()
            + "; stderr:\n" + stderr + "\nstdout:\n" + stdout);
      }
      JsonArray results =
          JsonParser.parseString(stdout).getAsJsonObject().getAsJsonArray("results");
      return new Run(p.exitValue(), results, stdout, stderr);
    } finally {
      if (p.isAlive()) {
        p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
    }
  }

  private static CompletableFuture<String> readAsync(InputStream in) {
    // One thread per stream (not the common pool, which may have a single worker): a full stderr
    // pipe must never block the process while stdout is being read.
    return CompletableFuture.supplyAsync(() -> {
      try (in) {
        return new String(in.readAllBytes(), StandardCharsets.UTF_8);
      } catch (IOException e) {
        return "(read failed: " + e + ")";
      }
    }, r -> {
      Thread t = new Thread(r, "grpcjs-client-output");
      t.setDaemon(true);
      t.start();
    });
  }

  private GrpcJsClient() {}
}
