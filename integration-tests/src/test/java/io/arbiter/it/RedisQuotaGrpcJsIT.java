package io.arbiter.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.LongStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Issue 5's two-replica proof with an independent client: two real Arbiter processes sharing one
 * real Redis (redisquota) enforce ONE limit under concurrent load from grpc-js with Envoy's own
 * {@code rls.proto} ({@code integration-tests/js/rls.js} in its concurrent mode: one channel per
 * process, requests alternating between them, 32 calls in flight). {@link RedisQuotaIT} proves the
 * same with grpc-java stubs, and Redis loss and recovery.
 *
 * <p>Skipped (with the reason) when {@code redis-server} or the grpc-js client is missing, except
 * on CI ({@code CI=true}) where that fails.
 */
class RedisQuotaGrpcJsIT {
  @RegisterExtension
  static final NodeClientsSetup node = NodeClientsSetup.alsoNeeding(RedisProcess::unavailableReason);

  private static RedisProcess redis;
  private static Path configDir;
  private static final List<ArbiterProcess> arbiters = new ArrayList<>();

  @BeforeAll
  static void start() throws Exception {
    if (!node.available()) {
      return;
    }
    redis = RedisProcess.start();
    configDir = Files.createTempDirectory("redisquota-grpcjs-it");
    String policy;
    try (var in = RedisQuotaGrpcJsIT.class.getResourceAsStream("/redisquota-grpcjs.yaml")) {
      policy = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    Path config = configDir.resolve("policy.yaml");
    Files.writeString(config, policy.replace("REDIS_URL", redis.url()));
    for (int i = 0; i < 2; i++) {
      arbiters.add(ArbiterProcess.start(config));
    }
  }

  @AfterAll
  static void stop() throws Exception {
    for (ArbiterProcess a : arbiters) {
      a.close();
    }
    if (redis != null) {
      redis.close();
    }
    if (configDir != null) {
      try (Stream<Path> files = Files.walk(configDir)) {
        for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
          Files.deleteIfExists(p);
        }
      }
    }
  }

  @Test
  void fixedWindowPerUserIsOneLimitAcrossBothProcesses() throws Exception {
    JsonArray results = concurrently(200, () -> request(descriptor("user", "alice")));

    List<JsonObject> ok = withCode(results, "OK");
    assertThat(ok).hasSize(50);
    assertThat(withCode(results, "OVER_LIMIT")).hasSize(150);
    assertThat(perTarget(results)).containsExactly(100L, 100L);
    // One counter, not two: the 50 allowed calls saw each remaining count 49..0 exactly once,
    // whichever process answered them (limit_remaining 0 is absent with defaults: false).
    assertThat(ok.stream().map(r -> status(r).has("limit_remaining")
            ? status(r).get("limit_remaining").getAsLong() : 0L).sorted().toList())
        .isEqualTo(LongStream.range(0, 50).boxed().toList());
    assertThat(ok).allSatisfy(r ->
        assertThat(status(r).getAsJsonObject("current_limit").get("requests_per_unit").getAsLong())
            .isEqualTo(50));
    // Another user has its own bucket; alice stays over the limit on both processes.
    JsonArray after = concurrently(4, () -> request(descriptor("user", "bob")));
    assertThat(withCode(after, "OK")).hasSize(4);
    assertThat(withCode(concurrently(2, () -> request(descriptor("user", "alice"))), "OVER_LIMIT"))
        .hasSize(2);
  }

  @Test
  void tokenBucketPerAddressIsOneLimitAcrossBothProcesses() throws Exception {
    JsonArray results = concurrently(120, () -> request(descriptor("remote_address", "10.1.2.3")));

    assertThat(withCode(results, "OK")).hasSize(30);
    assertThat(withCode(results, "OVER_LIMIT")).hasSize(90);
    assertThat(perTarget(results)).containsExactly(60L, 60L);
  }

  private static JsonObject request(JsonObject descriptor) {
    JsonObject r = new JsonObject();
    r.addProperty("domain", "edge");
    JsonArray ds = new JsonArray();
    ds.add(descriptor);
    r.add("descriptors", ds);
    r.addProperty("hits_addend", 1);
    return r;
  }

  private static JsonObject descriptor(String key, String value) {
    JsonObject entry = new JsonObject();
    entry.addProperty("key", key);
    entry.addProperty("value", value);
    JsonArray entries = new JsonArray();
    entries.add(entry);
    JsonObject d = new JsonObject();
    d.add("entries", entries);
    return d;
  }

  private static JsonObject status(JsonObject result) {
    return result.getAsJsonObject("response").getAsJsonArray("statuses").get(0).getAsJsonObject();
  }

  /** The results whose call completed with this overall_code (OK when absent: the default 0 is UNKNOWN). */
  private static List<JsonObject> withCode(JsonArray results, String code) {
    List<JsonObject> out = new ArrayList<>();
    for (JsonElement e : results) {
      JsonObject r = e.getAsJsonObject();
      JsonElement c = r.getAsJsonObject("response").get("overall_code");
      if (c != null && c.getAsString().equals(code)) {
        out.add(r);
      }
    }
    return out;
  }

  /** How many calls each process answered, by target index. */
  private static List<Long> perTarget(JsonArray results) {
    long[] counts = new long[arbiters.size()];
    for (JsonElement e : results) {
      counts[e.getAsJsonObject().get("target").getAsInt()]++;
    }
    return LongStream.of(counts).boxed().toList();
  }

  /**
   * {@code n} copies of a request, sent by one {@code node rls.js} run concurrently (32 in flight)
   * to both processes alternately; fails if any call itself failed.
   */
  private static JsonArray concurrently(int n, java.util.function.Supplier<JsonObject> request)
      throws Exception {
    JsonArray targets = new JsonArray();
    for (ArbiterProcess a : arbiters) {
      targets.add("127.0.0.1:" + a.grpcPort);
    }
    JsonArray requests = new JsonArray();
    for (int i = 0; i < n; i++) {
      requests.add(request.get());
    }
    RateLimitJsClient.Run run = RateLimitJsClient.concurrently(node.protoDir(), targets, 32, requests);
    if (run.exitCode() != 0) {
      throw new AssertionError("node rls.js exited with " + run.exitCode()
          + "; stderr:\n" + run.stderr() + "\nstdout:\n" + run.stdout() + "\nArbiter logs:\n"
          + arbiters.get(0).log() + "\n" + arbiters.get(1).log());
    }
    assertThat(run.results()).hasSize(n);
    return run.results();
  }
}
