package io.arbiter.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.envoyproxy.envoy.config.core.v3.HeaderValue;
import io.envoyproxy.envoy.extensions.common.ratelimit.v3.RateLimitDescriptor;
import io.envoyproxy.envoy.service.auth.v3.AttributeContext;
import io.envoyproxy.envoy.service.auth.v3.AuthorizationGrpc;
import io.envoyproxy.envoy.service.auth.v3.CheckRequest;
import io.envoyproxy.envoy.service.auth.v3.CheckResponse;
import io.envoyproxy.envoy.service.ratelimit.v3.RateLimitRequest;
import io.envoyproxy.envoy.service.ratelimit.v3.RateLimitResponse;
import io.envoyproxy.envoy.service.ratelimit.v3.RateLimitServiceGrpc;
import io.envoyproxy.envoy.type.v3.StatusCode;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Two real Arbiter processes sharing one real Redis (redisquota) enforce ONE limit under
 * concurrent load, on Envoy's rate-limit API ({@code ShouldRateLimit}) and on ext_authz checks
 * that consume quota; with Redis stopped both answer fail-closed, counted, and recover when it
 * returns. The clients are grpc-java stubs of Envoy's own protos.
 *
 * <p>Skipped (with the reason) when {@code redis-server} is not installed, except on CI
 * ({@code CI=true}) where that fails.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class RedisQuotaIT {
  private static String missing;
  private static RedisProcess redis;
  private static Path configDir;
  private static final List<ArbiterProcess> arbiters = new ArrayList<>();
  private static final List<ManagedChannel> channels = new ArrayList<>();

  @BeforeAll
  static void start() throws Exception {
    missing = RedisProcess.unavailableReason();
    if (missing != null) {
      System.err.println("RedisQuotaIT skipped: " + missing);
      return;
    }
    redis = RedisProcess.start();
    configDir = Files.createTempDirectory("redisquota-it");
    String policy;
    try (var in = RedisQuotaIT.class.getResourceAsStream("/redisquota-policy.yaml")) {
      policy = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    }
    Path config = configDir.resolve("policy.yaml");
    Files.writeString(config, policy.replace("REDIS_URL", redis.url()));
    for (int i = 0; i < 2; i++) {
      ArbiterProcess a = ArbiterProcess.start(config);
      arbiters.add(a);
      channels.add(Grpc.newChannelBuilder(
          "127.0.0.1:" + a.grpcPort, InsecureChannelCredentials.create()).build());
    }
  }

  @BeforeEach
  void requireRedis() {
    if (missing != null && "true".equals(System.getenv("CI"))) {
      throw new AssertionError("CI=true but " + missing);
    }
    Assumptions.assumeTrue(missing == null, () -> missing);
  }

  @AfterAll
  static void stop() throws Exception {
    for (ManagedChannel c : channels) {
      c.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
    }
    for (ArbiterProcess a : arbiters) {
      a.close();
    }
    if (redis != null) {
      redis.close();
    }
    if (configDir != null) {
      Files.deleteIfExists(configDir.resolve("policy.yaml"));
      Files.deleteIfExists(configDir);
    }
  }

  private static RateLimitResponse.Code rateLimit(int arbiter, String user) {
    RateLimitRequest request = RateLimitRequest.newBuilder()
        .setDomain("edge")
        .addDescriptors(RateLimitDescriptor.newBuilder()
            .addEntries(RateLimitDescriptor.Entry.newBuilder().setKey("user").setValue(user)))
        .setHitsAddend(1)
        .build();
    return RateLimitServiceGrpc.newBlockingStub(channels.get(arbiter))
        .withDeadlineAfter(10, TimeUnit.SECONDS)
        .shouldRateLimit(request)
        .getOverallCode();
  }

  private static CheckResponse check(int arbiter, String client) {
    CheckRequest request = CheckRequest.newBuilder()
        .setAttributes(AttributeContext.newBuilder().setRequest(AttributeContext.Request.newBuilder()
            .setHttp(AttributeContext.HttpRequest.newBuilder()
                .setMethod("GET").setPath("/orders").setHost("api.local").setProtocol("HTTP/1.1")
                .putHeaders("x-client", client))))
        .build();
    return AuthorizationGrpc.newBlockingStub(channels.get(arbiter))
        .withDeadlineAfter(10, TimeUnit.SECONDS)
        .check(request);
  }

  /** Sends {@code total} calls from 8 threads, alternating between the two processes. */
  private static <T> List<T> concurrently(int total, Function<Integer, T> call) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(8);
    try {
      List<Future<T>> futures = new ArrayList<>();
      for (int i = 0; i < total; i++) {
        int arbiter = i % 2;
        futures.add(pool.submit(() -> call.apply(arbiter)));
      }
      List<T> out = new ArrayList<>();
      for (Future<T> f : futures) {
        out.add(f.get(60, TimeUnit.SECONDS));
      }
      return out;
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  @Order(1)
  void twoProcessesEnforceOneRateLimitUnderConcurrentLoad() throws Exception {
    List<RateLimitResponse.Code> codes = concurrently(160, a -> rateLimit(a, "alice"));

    assertThat(codes.stream().filter(c -> c == RateLimitResponse.Code.OK).count()).isEqualTo(50);
    assertThat(codes.stream().filter(c -> c == RateLimitResponse.Code.OVER_LIMIT).count())
        .isEqualTo(110);
    assertThat(rateLimit(0, "bob")).isEqualTo(RateLimitResponse.Code.OK);
    assertThat(rateLimit(1, "alice")).isEqualTo(RateLimitResponse.Code.OVER_LIMIT);
  }

  @Test
  @Order(2)
  void aRequestWithManyDescriptorsIsOneRedisRoundTrip() throws Exception {
    RateLimitRequest.Builder request = RateLimitRequest.newBuilder().setDomain("edge");
    for (int i = 0; i < 8; i++) {
      request.addDescriptors(RateLimitDescriptor.newBuilder()
          .addEntries(RateLimitDescriptor.Entry.newBuilder().setKey("user").setValue("many-" + i)));
    }
    request.addDescriptors(RateLimitDescriptor.newBuilder()
        .addEntries(RateLimitDescriptor.Entry.newBuilder().setKey("user").setValue("many-0")));
    long before = redis.commandCalls("evalsha") + redis.commandCalls("eval");

    RateLimitResponse first = RateLimitServiceGrpc.newBlockingStub(channels.get(0))
        .withDeadlineAfter(10, TimeUnit.SECONDS).shouldRateLimit(request.build());
    RateLimitResponse second = RateLimitServiceGrpc.newBlockingStub(channels.get(1))
        .withDeadlineAfter(10, TimeUnit.SECONDS).shouldRateLimit(request.build());

    assertThat(redis.commandCalls("evalsha") + redis.commandCalls("eval") - before)
        .as("script calls for two requests of 9 descriptors").isEqualTo(2);
    assertThat(first.getOverallCode()).isEqualTo(RateLimitResponse.Code.OK);
    assertThat(first.getStatusesList()).hasSize(9);
    // many-0 twice per request, 4 from one bucket of 50: its remainder shows each took its turn.
    assertThat(first.getStatuses(0).getLimitRemaining()).isEqualTo(49);
    assertThat(first.getStatuses(8).getLimitRemaining()).isEqualTo(48);
    assertThat(second.getStatuses(0).getLimitRemaining()).isEqualTo(47);
    assertThat(second.getStatuses(1).getLimitRemaining()).isEqualTo(48);
  }

  @Test
  @Order(3)
  void checksOnTwoProcessesConsumeOneQuotaAndAreDeniedWith429() throws Exception {
    List<CheckResponse> responses = concurrently(100, a -> check(a, "c1"));

    assertThat(responses.stream().filter(r -> r.getStatus().getCode() == 0).count())
        .isEqualTo(40);
    List<CheckResponse> denied =
        responses.stream().filter(r -> r.getStatus().getCode() != 0).toList();
    assertThat(denied).hasSize(60).allSatisfy(r -> {
      assertThat(r.getStatus().getCode()).isEqualTo(8); // RESOURCE_EXHAUSTED
      assertThat(r.getDeniedResponse().getStatus().getCode())
          .isEqualTo(StatusCode.TooManyRequests);
      assertThat(r.getDeniedResponse().getHeadersList().stream()
          .map(h -> h.getHeader()).map(HeaderValue::getKey))
          .contains("ratelimit-limit", "ratelimit-remaining", "ratelimit-reset");
    });
  }

  @Test
  @Order(4)
  void redisStoppedFailsClosedOnBothCountedAndBothRecoverWhenItReturns() throws Exception {
    assertThat(rateLimit(0, "carol")).isEqualTo(RateLimitResponse.Code.OK);

    redis.stop();
    try {
      for (int a = 0; a < 2; a++) {
        assertThat(rateLimit(a, "carol")).isEqualTo(RateLimitResponse.Code.OVER_LIMIT);
        assertThat(check(a, "c2").getStatus().getCode()).isEqualTo(8);
        assertThat(errors(arbiters.get(a).admin("/metrics"))).isGreaterThanOrEqualTo(2);
      }
    } finally {
      redis.restart(); // empty: buckets start afresh
    }

    for (int a = 0; a < 2; a++) {
      int arbiter = a;
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
      while (rateLimit(arbiter, "dave-" + arbiter) != RateLimitResponse.Code.OK) {
        if (System.nanoTime() > deadline) {
          throw new AssertionError("Arbiter " + arbiter + " did not recover within 20 s; its log:\n"
              + arbiters.get(arbiter).log());
        }
        Thread.sleep(100);
      }
    }
  }

  private static final Pattern ERRORS = Pattern.compile(
      "(?m)^arbiter_redisquota_errors_total\\{handler=\"shared-quota\",outcome=\"fail_closed\"} (\\d+)$");

  private static long errors(String metrics) {
    Matcher m = ERRORS.matcher(metrics);
    return m.find() ? Long.parseLong(m.group(1)) : 0;
  }
}
