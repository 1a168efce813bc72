package io.arbiter.it;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.nio.file.Path;
import java.time.Duration;

/**
 * Runs {@code integration-tests/js/rls.js} ({@link NodeClients}): Envoy's {@code rls.proto}
 * loaded from its {@code .proto} sources, {@code RateLimitService/ShouldRateLimit} called once per
 * request, in order, or concurrently against several servers.
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
   * {@code target} one after another and returns the decoded responses.
   */
  static Run shouldRateLimit(Path protoDir, String target, JsonArray requests) throws Exception {
    JsonObject input = new JsonObject();
    input.addProperty("target", target);
    input.addProperty("deadlineMs", 20_000);
    input.add("requests", requests);
    return run(protoDir, input);
  }

  /**
   * Sends {@code requests} round-robin to {@code targets}, {@code concurrency} calls in flight at
   * once; result {@code i} still answers request {@code i} and names its target's index.
   */
  static Run concurrently(Path protoDir, JsonArray targets, int concurrency, JsonArray requests)
      throws Exception {
    JsonObject input = new JsonObject();
    input.add("targets", targets);
    input.addProperty("concurrency", concurrency);
    input.addProperty("deadlineMs", 20_000);
    input.add("requests", requests);
    return run(protoDir, input);
  }

  private static Run run(Path protoDir, JsonObject input) throws Exception {
    NodeClients.Output out = NodeClients.run("rls.js", protoDir, input, Duration.ofMinutes(2));
    return new Run(out.exitCode(), out.json().getAsJsonArray("results"), out.stdout(), out.stderr());
  }

  private RateLimitJsClient() {}
}
