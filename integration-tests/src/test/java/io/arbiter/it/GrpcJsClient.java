package io.arbiter.it;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.nio.file.Path;
import java.time.Duration;

/**
 * Runs {@code integration-tests/js/check.js} ({@link NodeClients}): Envoy's {@code
 * external_auth.proto} loaded from its {@code .proto} sources, {@code Authorization/Check} called
 * once per request, in order.
 */
final class GrpcJsClient {
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
   * base64) to {@code target} and returns the decoded responses.
   */
  static Run check(Path protoDir, String target, JsonArray requests) throws Exception {
    JsonObject input = new JsonObject();
    input.addProperty("target", target);
    input.addProperty("deadlineMs", 20_000);
    input.add("requests", requests);
    NodeClients.Output out = NodeClients.run("check.js", protoDir, input, Duration.ofMinutes(2));
    return new Run(out.exitCode(), out.json().getAsJsonArray("results"), out.stdout(), out.stderr());
  }

  private GrpcJsClient() {}
}
