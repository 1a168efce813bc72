package io.arbiter.it;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Runs {@code integration-tests/js/rls.js}: the same kind of Node client as {@link GrpcJsClient}
 * ({@code @grpc/grpc-js} and {@code @grpc/proto-loader}, Envoy's {@code .proto} sources extracted
 * by {@link GrpcJsClient#extractEnvoyProtos}), calling {@code
 * RateLimitService/ShouldRateLimit} once per request, in order. Needs what {@link
 * GrpcJsClient#unavailableReason()} checks.
 */
final class RateLimitJsClient {
  /** What one run printed and how it ended. */
  record Run(int exitCode, JsonArray results, String stdout, String stderr) {
    /** The RateLimitResponse of request {@code i}; fails with the run's output if the call did. */
    JsonObject response(int i) {
      JsonObject r = results.get(i).getAsJsonObject();
      if (!r.has("response")) {
        throw new AssertionError("call " + i + " failed: " + r + "\nstderr:\n" + stderr);
      }
      return r.getAsJsonObject("response");
    }
  }

  /**
   * Sends {@code requests} (RateLimitRequests as proto-loader objects: the .proto field names) to
   * {@code target} one after another and returns the decoded responses. Waits at most two minutes
   * for the process, as a guard against a hang, not as a measurement.
   */
  static Run shouldRateLimit(Path protoDir, String target, JsonArray requests) throws Exception {
    JsonObject input = new JsonObject();
    input.addProperty("target", target);
    input.addProperty("deadlineMs", 20_000);
    input.add("requests", requests);
    List<String> cmd = List.of("node", "rls.js", "--proto-path", protoDir.toString());
    Process p = new ProcessBuilder(cmd).directory(GrpcJsClient.jsDir().toFile()).start();
    try {
      CompletableFuture<String> out = readAsync(p.getInputStream());
      CompletableFuture<String> err = readAsync(p.getErrorStream());
      try (OutputStream stdin = p.getOutputStream()) {
        stdin.write(input.toString().getBytes(StandardCharsets.UTF_8));
      }
      if (!p.waitFor(2, TimeUnit.MINUTES)) {
        throw new AssertionError("node rls.js did not finish; stderr so far:\n" + err.getNow(""));
      }
      String stdout = out.get(30, TimeUnit.SECONDS);
      String stderr = err.get(30, TimeUnit.SECONDS);
      if (p.exitValue() == 2 || stdout.isBlank()) {
        throw new AssertionError("node rls.js exited with " + p.exitValue()
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
    // One thread per stream: a full stderr pipe must never block the process while stdout is read.
    return CompletableFuture.supplyAsync(() -> {
      try (in) {
        return new String(in.readAllBytes(), StandardCharsets.UTF_8);
      } catch (IOException e) {
        return "(read failed: " + e + ")";
      }
    }, r -> {
      Thread t = new Thread(r, "rls-client-output");
      t.setDaemon(true);
      t.start();
    });
  }

  private RateLimitJsClient() {}
}
