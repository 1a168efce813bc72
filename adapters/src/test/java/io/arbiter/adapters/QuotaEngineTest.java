package io.arbiter.adapters;

import static org.assertj.core.api.Assertions.assertThat;

import io.arbiter.adapters.memquota.MemQuotaAdapter;
import io.arbiter.adapters.redisquota.RedisQuotaAdapter;
import io.arbiter.engine.testing.MutableClock;
import io.arbiter.engine.AttributeBag;
import io.arbiter.engine.CheckDecision;
import io.arbiter.engine.EngineServices;
import io.arbiter.engine.PolicyEngine;
import io.arbiter.engine.QuotaDecision;
import io.arbiter.engine.config.ConfigException;
import io.arbiter.engine.config.ConfigLoader;
import io.arbiter.engine.metrics.Metrics;
import io.arbiter.engine.spi.Adapter;
import io.arbiter.engine.spi.Code;
import io.arbiter.engine.spi.HeaderValue;
import io.arbiter.engine.spi.QuotaRequest;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The quota config, as operators write it, through the real engine with memquota. */
class QuotaEngineTest {
  @TempDir Path dir;
  private final MutableClock clock = new MutableClock();
  private final EngineServices services = EngineServices.create(
      Map.<String, Adapter>of("memquota", new MemQuotaAdapter(), "redisquota",
          new RedisQuotaAdapter()),
      clock, new Metrics());
  private final PolicyEngine engine = new PolicyEngine(services);

  private static final String CONFIG = """
      handlers:
        - name: local-quota
          adapter: memquota
          params:
            quotas:
              - {name: per-user, maxAmount: 10, validDuration: 60s, algorithm: FIXED_WINDOW,
                 overrides: [{dimensions: {user: "vip"}, maxAmount: 1000}]}
              - {name: per-client, maxAmount: 2, validDuration: 1h, algorithm: TOKEN_BUCKET}
      instances:
        - name: per-user
          template: quota
          params: {dimensions: {user: "ratelimit.descriptor['user']"}}
        - name: per-client
          template: quota
          params: {dimensions: {client: "request.headers['x-client']"}}
      rules:
        - name: limit-users
          match: "ratelimit.domain == 'edge' && 'user' in ratelimit.descriptor"
          actions: [{handler: local-quota, instances: [per-user]}]
        - name: limit-clients
          match: "'x-client' in request.headers"
          actions: [{handler: local-quota, instances: [per-client]}]
      """;

  @AfterEach
  void tearDown() {
    engine.close();
    services.close();
  }

  private void apply(String yaml) throws Exception {
    engine.apply(engine.compile(List.of(ConfigLoader.parse(dir.resolve("quota.yaml"), yaml))));
  }

  private QuotaDecision quota(String user, long hits) {
    AttributeBag bag = AttributeBag.builder().put("ratelimit.domain", "edge")
        .put("ratelimit.descriptor", Map.of("user", user)).build();
    return engine.quota(bag, QuotaRequest.of(hits)).toCompletableFuture().join();
  }

  @Test
  void rateLimitCallsAllocatePerUserWithTheVipOverride() throws Exception {
    apply(CONFIG);

    assertThat(quota("alice", 9).overLimit()).isFalse();
    QuotaDecision tenth = quota("alice", 1);
    assertThat(tenth.outcomes()).singleElement().satisfies(o -> {
      assertThat(o.handler()).isEqualTo("local-quota");
      assertThat(o.instance()).isEqualTo("per-user");
      assertThat(o.result().limit()).isEqualTo(10);
      assertThat(o.result().remaining()).isZero();
      assertThat(o.result().window()).isEqualTo(Duration.ofSeconds(60));
    });
    assertThat(quota("alice", 1).overLimit()).isTrue();
    assertThat(quota("vip", 500).overLimit()).isFalse();
    clock.advance(Duration.ofSeconds(60));
    assertThat(quota("alice", 10).overLimit()).isFalse();
  }

  @Test
  void checksConsumeQuotaAndAreDeniedWith429WhenItIsExhausted() throws Exception {
    apply(CONFIG);
    AttributeBag request =
        AttributeBag.builder().put("request.headers", Map.of("x-client", "c1")).build();

    for (int i = 0; i < 2; i++) {
      assertThat(check(request).result().allowed()).isTrue();
    }
    CheckDecision third = check(request);
    assertThat(third.result().code()).isEqualTo(Code.RESOURCE_EXHAUSTED);
    assertThat(third.result().effectiveHttpStatus()).isEqualTo(429);
    // 2 an hour: the next token in 30 minutes.
    assertThat(third.result().responseHeadersToAdd()).containsExactly(
        new HeaderValue("ratelimit-limit", "2", false),
        new HeaderValue("ratelimit-remaining", "0", false),
        new HeaderValue("ratelimit-reset", "1800", false));
    clock.advance(Duration.ofMinutes(30));
    assertThat(check(request).result().allowed()).isTrue();
  }

  @Test
  void badQuotaParamsAreConfigErrorsNamedByPath() {
    String bad = CONFIG.replace("maxAmount: 1000}", "maxAmount: -1}")
        .replace("algorithm: TOKEN_BUCKET", "algorithm: TOKEN_BUCKETS");
    Throwable t = org.assertj.core.api.Assertions.catchThrowable(() -> apply(bad));

    assertThat(t).isInstanceOf(ConfigException.class);
    assertThat(t.getMessage())
        .contains("quotas[0].overrides[0].maxAmount: must be between 1 and 4503599627370496, was -1")
        .contains("quotas[1].algorithm: 'TOKEN_BUCKETS' is not one of");
  }

  private CheckDecision check(AttributeBag bag) {
    return engine.check(bag).toCompletableFuture().join();
  }
}
