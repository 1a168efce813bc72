package io.arbiter.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.TestInstance;

/**
 * Arbiter's {@code RateLimitService/ShouldRateLimit} against an independent, non-Java client:
 * Node's {@code @grpc/grpc-js} with {@code @grpc/proto-loader} loading Envoy's own {@code
 * rls.proto} (see {@code integration-tests/js/rls.js}), calling a real Arbiter process the way
 * Envoy's rate-limit filter does. The responses decode field by field in a client that shares no
 * code with Arbiter.
 *
 * <p>Skipped (with the reason) when {@code node} or {@code js/node_modules} is missing, except on
 * CI where that fails; install them with {@code npm ci} in {@code integration-tests/js}.
 */
class RateLimitGrpcJsIT {
  @RegisterExtension static final NodeClientsSetup node = new NodeClientsSetup();

  /** The embedded default config has no quota rules: every descriptor is unmatched, so OK. */
  @Nested
  @TestInstance(TestInstance.Lifecycle.PER_CLASS)
  class WithNoQuotaRules {
    private ArbiterProcess arbiter;

    @BeforeAll
    void start() throws Exception {
      if (node.available()) {
        arbiter = ArbiterProcess.start(null);
      }
    }

    @AfterAll
    void stop() throws Exception {
      if (arbiter != null) {
        arbiter.close();
      }
    }

    @Test
    void everyDescriptorIsOkInOrderWithItsOwnDecision() throws Exception {
      RateLimitJsClient.Run run = call(arbiter,
          request("edge", descriptor("user", "alice"), descriptor("remote_address", "10.0.0.5"),
              descriptor("generic_key", "api", "user", "bob")),
          json("{\"domain\": \"edge\"}"));

      JsonObject r = run.response(0);
      assertThat(r.get("overall_code").getAsString()).isEqualTo("OK");
      JsonArray statuses = r.getAsJsonArray("statuses");
      assertThat(statuses).hasSize(3);
      for (JsonElement s : statuses) {
        // Code only: no rule matched, so no current_limit (and remaining 0 is not on the wire).
        assertThat(s.getAsJsonObject().keySet()).containsExactly("code");
        assertThat(s.getAsJsonObject().get("code").getAsString()).isEqualTo("OK");
      }
      assertThat(r.has("response_headers_to_add")).isFalse();
      List<String> ids = metadataStrings(r.getAsJsonObject("dynamic_metadata"), "decision_ids");
      assertThat(ids).hasSize(3).doesNotHaveDuplicates()
          .allMatch(id -> id.matches("[0-9a-f]{16}"));
      assertThat(metadataStrings(r.getAsJsonObject("dynamic_metadata"), "matched_rules")).isEmpty();

      JsonObject none = run.response(1);
      assertThat(none.get("overall_code").getAsString()).isEqualTo("OK");
      assertThat(none.has("statuses")).isFalse();

      assertThat(arbiter.admin("/metrics"))
          .contains("arbiter_ratelimit_descriptors_total{result=\"unmatched\"} 3");
    }
  }

  /**
   * Issue 5's memquota config ({@code ratelimit-memquota.yaml}): 3 a minute per user, 1000 for
   * {@code vip}. Skipped, with the reason, when the jar under test has no memquota adapter (one
   * built before adapters/ had it); on CI that fails instead. The same gRPC path is also tested
   * without memquota by server's {@code ArbiterServerRateLimitTest}.
   */
  @Nested
  @TestInstance(TestInstance.Lifecycle.PER_CLASS)
  class WithMemquota {
    private ArbiterProcess arbiter;

    private String noMemquota;

    @BeforeAll
    void start() throws Exception {
      noMemquota = memquotaMissing();
      if (node.available() && noMemquota == null) {
        arbiter = ArbiterProcess.start(resource("ratelimit-memquota.yaml"));
      }
    }

    /** Per test, so each is reported as skipped with the reason. */
    @BeforeEach
    void requireMemquota() {
      if (noMemquota != null && "true".equals(System.getenv("CI"))) {
        throw new AssertionError("CI=true but " + noMemquota);
      }
      Assumptions.assumeTrue(noMemquota == null, () -> noMemquota);
    }

    @AfterAll
    void stop() throws Exception {
      if (arbiter != null) {
        arbiter.close();
      }
    }

    @Test
    void aUserGetsThreeAMinuteThenIsOverTheLimitUntilTheWindowResets() throws Exception {
      // A fixed window may roll over between the calls; then the run starts again, once, with
      // another user (a new window of 60s cannot roll over again within one run).
      RateLimitJsClient.Run run = null;
      for (int attempt = 0; attempt < 2; attempt++) {
        JsonObject alice = request("edge", descriptor("user", "alice-" + attempt));
        run = call(arbiter, alice, alice, alice, alice);
        if (run.response(3).get("overall_code").getAsString().equals("OVER_LIMIT")) {
          break;
        }
      }

      for (int i = 0; i < 3; i++) {
        JsonObject r = run.response(i);
        assertThat(r.get("overall_code").getAsString()).as("call %d", i).isEqualTo("OK");
        JsonObject s = r.getAsJsonArray("statuses").get(0).getAsJsonObject();
        assertThat(s.get("code").getAsString()).isEqualTo("OK");
        assertThat(s.getAsJsonObject("current_limit").get("requests_per_unit").getAsInt())
            .isEqualTo(3);
        assertThat(s.getAsJsonObject("current_limit").get("unit").getAsString())
            .isEqualTo("MINUTE");
        assertThat(remaining(s)).as("limit_remaining of call %d", i).isEqualTo(2 - i);
        assertThat(headers(r)).containsEntry("ratelimit-limit", "3")
            .containsEntry("ratelimit-remaining", Integer.toString(2 - i))
            .containsKey("ratelimit-reset");
      }
      JsonObject fourth = run.response(3);
      assertThat(fourth.get("overall_code").getAsString()).isEqualTo("OVER_LIMIT");
      JsonObject s = fourth.getAsJsonArray("statuses").get(0).getAsJsonObject();
      assertThat(s.get("code").getAsString()).isEqualTo("OVER_LIMIT");
      assertThat(remaining(s)).isZero();
      assertThat(resetMillis(s)).isPositive();
      assertThat(Long.parseLong(headers(fourth).get("ratelimit-reset"))).isPositive();
      assertThat(metadataStrings(fourth.getAsJsonObject("dynamic_metadata"), "matched_rules"))
          .containsExactly("limit-users");
    }

    @Test
    void theVipOverrideOfTheConfigGivesAThousand() throws Exception {
      JsonObject vip = request("edge", descriptor("user", "vip"));
      RateLimitJsClient.Run run = call(arbiter, vip, vip, vip, vip, vip);

      for (int i = 0; i < 5; i++) {
        JsonObject s = run.response(i).getAsJsonArray("statuses").get(0).getAsJsonObject();
        assertThat(s.get("code").getAsString()).isEqualTo("OK");
        assertThat(s.getAsJsonObject("current_limit").get("requests_per_unit").getAsInt())
            .isEqualTo(1000);
      }
      JsonObject last = run.response(4).getAsJsonArray("statuses").get(0).getAsJsonObject();
      assertThat(remaining(last)).isEqualTo(995);
    }

    @Test
    void aDescriptorsOwnLimitOverridesTheConfiguredOne() throws Exception {
      JsonObject carol = request("edge", descriptor("user", "carol"));
      carol.getAsJsonArray("descriptors").get(0).getAsJsonObject()
          .add("limit", json("{\"requests_per_unit\": 5, \"unit\": \"HOUR\"}"));
      RateLimitJsClient.Run run = call(arbiter, carol);

      JsonObject s = run.response(0).getAsJsonArray("statuses").get(0).getAsJsonObject();
      assertThat(s.get("code").getAsString()).isEqualTo("OK");
      assertThat(s.getAsJsonObject("current_limit").get("requests_per_unit").getAsInt())
          .isEqualTo(5);
      assertThat(s.getAsJsonObject("current_limit").get("unit").getAsString()).isEqualTo("HOUR");
      assertThat(remaining(s)).isEqualTo(4);
    }

    @Test
    void anUnmatchedDomainIsOkAndHitsAddendCounts() throws Exception {
      JsonObject other = request("internal", descriptor("user", "dave"));
      JsonObject three = request("edge", descriptor("user", "erin"));
      three.addProperty("hits_addend", 3);
      RateLimitJsClient.Run run = call(arbiter, other, three, three);

      assertThat(run.response(0).get("overall_code").getAsString()).isEqualTo("OK");
      assertThat(run.response(0).getAsJsonArray("statuses").get(0).getAsJsonObject().keySet())
          .containsExactly("code");
      assertThat(remaining(run.response(1).getAsJsonArray("statuses").get(0).getAsJsonObject()))
          .isZero();
      assertThat(run.response(1).get("overall_code").getAsString()).isEqualTo("OK");
      assertThat(run.response(2).get("overall_code").getAsString()).isEqualTo("OVER_LIMIT");
    }
  }

  // ---------------------------------------------------------------------------------------------

  /** Null when the jar under test holds the memquota adapter, else what is missing. */
  private static String memquotaMissing() throws Exception {
    Path jar = ArbiterProcess.jar();
    try (java.util.zip.ZipFile zip = new java.util.zip.ZipFile(jar.toFile())) {
      return zip.getEntry("io/arbiter/adapters/memquota/MemQuotaAdapter.class") != null
          ? null
          : jar + " has no memquota adapter (build adapters/ and server/ again)";
    }
  }

  private static RateLimitJsClient.Run call(ArbiterProcess arbiter, JsonObject... requests)
      throws Exception {
    JsonArray array = new JsonArray();
    for (JsonObject r : requests) {
      array.add(r);
    }
    try {
      RateLimitJsClient.Run run =
          RateLimitJsClient.shouldRateLimit(node.protoDir(), "127.0.0.1:" + arbiter.grpcPort, array);
      assertThat(run.results()).as(run.stdout()).hasSize(requests.length);
      assertThat(run.exitCode()).as(run.stdout()).isZero();
      return run;
    } catch (AssertionError | RuntimeException e) {
      throw new AssertionError(e.getMessage() + "\narbiter log:\n" + arbiter.log(), e);
    }
  }

  /** A RateLimitRequest as Envoy's filter sends it (hits_addend unset: 0, which means 1). */
  private static JsonObject request(String domain, JsonObject... descriptors) {
    JsonObject r = new JsonObject();
    r.addProperty("domain", domain);
    JsonArray ds = new JsonArray();
    for (JsonObject d : descriptors) {
      ds.add(d);
    }
    r.add("descriptors", ds);
    return r;
  }

  private static JsonObject descriptor(String... keyValues) {
    JsonArray entries = new JsonArray();
    for (int i = 0; i < keyValues.length; i += 2) {
      JsonObject e = new JsonObject();
      e.addProperty("key", keyValues[i]);
      e.addProperty("value", keyValues[i + 1]);
      entries.add(e);
    }
    JsonObject d = new JsonObject();
    d.add("entries", entries);
    return d;
  }

  /** limit_remaining: a uint32, absent when 0 (defaults: false). */
  private static long remaining(JsonObject status) {
    return status.has("limit_remaining") ? status.get("limit_remaining").getAsLong() : 0;
  }

  /** duration_until_reset in milliseconds (seconds is an int64: a decimal string). */
  private static long resetMillis(JsonObject status) {
    JsonObject d = status.getAsJsonObject("duration_until_reset");
    if (d == null) {
      return 0;
    }
    long seconds = d.has("seconds") ? Long.parseLong(d.get("seconds").getAsString()) : 0;
    long nanos = d.has("nanos") ? d.get("nanos").getAsLong() : 0;
    return seconds * 1000 + nanos / 1_000_000;
  }

  /** response_headers_to_add (HeaderValue: key, value) as a map; each name appears once. */
  private static Map<String, String> headers(JsonObject response) {
    Map<String, String> out = new LinkedHashMap<>();
    JsonArray hs = response.getAsJsonArray("response_headers_to_add");
    if (hs != null) {
      for (JsonElement e : hs) {
        JsonObject h = e.getAsJsonObject();
        assertThat(out.put(h.get("key").getAsString(), h.get("value").getAsString()))
            .as("header %s once", h).isNull();
      }
    }
    return out;
  }

  /** A list of strings in dynamic_metadata (a Struct: camelCase names, see rls.js). */
  private static List<String> metadataStrings(JsonObject md, String field) {
    JsonObject v = md.getAsJsonObject("fields").getAsJsonObject(field);
    assertThat(v).as("dynamic_metadata.%s in %s", field, md).isNotNull();
    List<String> out = new ArrayList<>();
    JsonArray values = v.getAsJsonObject("listValue").getAsJsonArray("values");
    if (values != null) {
      for (JsonElement e : values) {
        out.add(e.getAsJsonObject().get("stringValue").getAsString());
      }
    }
    return out;
  }

  private static JsonObject json(String text) {
    return JsonParser.parseString(text).getAsJsonObject();
  }

  private static Path resource(String name) throws Exception {
    return Path.of(RateLimitGrpcJsIT.class.getResource("/" + name).toURI());
  }
}
