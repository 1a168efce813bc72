package io.arbiter.adapters.redisquota;

import static io.arbiter.adapters.testing.Stages.value;
import static org.assertj.core.api.Assertions.assertThat;

import io.arbiter.adapters.memquota.MemQuotaAdapter;
import io.arbiter.adapters.quota.Algorithm;
import io.arbiter.adapters.testing.RedisServer;
import io.arbiter.adapters.testing.TestContext;
import io.arbiter.engine.spi.Handler;
import io.arbiter.engine.spi.Instance;
import io.arbiter.engine.spi.Params;
import io.arbiter.engine.spi.QuotaHandler;
import io.arbiter.engine.spi.QuotaRequest;
import io.arbiter.engine.spi.QuotaResult;
import java.lang.System.Logger.Level;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * redisquota against a real redis-server that the test starts on a free loopback port. Where a
 * test compares with memquota it drives both with one injected clock (the script's test hook in
 * place of Redis's TIME); the others use Redis's TIME and real, short waits for functional
 * outcomes only.
 */
class RedisQuotaTest {
  private static RedisServer redis;

  private final List<Handler> handlers = new ArrayList<>();

  @BeforeAll
  static void startRedis() throws Exception {
    RedisServer.requireInstalled();
    redis = RedisServer.start();
  }

  @AfterAll
  static void stopRedis() {
    if (redis != null) {
      redis.close();
    }
  }

  @BeforeEach
  void flush() throws Exception {
    redis.redisCli("FLUSHALL");
  }

  private final List<TestContext> contexts = new ArrayList<>();

  @AfterEach
  void closeHandlers() {
    handlers.forEach(Handler::close);
    // What the handlers logged, in the test's report, to explain a failure.
    for (TestContext c : contexts) {
      c.logger().lines().forEach(l -> System.out.println(
          c.handlerName() + " " + l.level() + " " + l.message()
              + (l.thrown() == null ? "" : " " + l.thrown())));
    }
  }

  static Map<String, Object> map(Object... kv) {
    Map<String, Object> m = new LinkedHashMap<>();
    for (int i = 0; i < kv.length; i += 2) {
      m.put((String) kv[i], kv[i + 1]);
    }
    return m;
  }

  private RedisQuotaHandler redisHandler(
      TestContext ctx, List<Map<String, Object>> quotas, Map<String, Object> redisParams,
      Supplier<Long> testNow) {
    Map<String, Object> params = map("quotas", quotas, "redis", redisParams);
    contexts.add(ctx);
    RedisQuotaHandler h = RedisQuotaAdapter.create(
        new Params(params), ctx, testNow == null ? null : testNow::get);
    handlers.add(h);
    value(h.initialized());
    return h;
  }

  /**
   * A handler on the shared server. Tests not about timeouts allow 2 s: a loaded machine can
   * delay a reply on loopback past the default 50 ms.
   */
  private RedisQuotaHandler redisHandler(TestContext ctx, List<Map<String, Object>> quotas) {
    return redisHandler(ctx, quotas, map("url", redis.url(), "timeout", "2s"), null);
  }

  private static Instance.Quota user(String user) {
    return new Instance.Quota("per-user", Map.of("user", user));
  }

  private static QuotaResult take(QuotaHandler h, Instance.Quota q, long amount) {
    return value(h.allocate(q, QuotaRequest.of(amount)));
  }

  @ParameterizedTest
  @EnumSource(Algorithm.class)
  void givesTheSameResultsAsMemquotaForTheSameSequence(Algorithm algorithm) {
    List<Map<String, Object>> quotas = List.of(map(
        "name", "per-user", "maxAmount", 7, "validDuration", "60s", "algorithm", algorithm.name(),
        "overrides", List.of(
            map("dimensions", Map.of("user", "vip"), "maxAmount", 20, "validDuration", "90s"))));
    if (algorithm == Algorithm.ROLLING_WINDOW) {
      quotas.get(0).put("buckets", 4);
    }
    TestContext memCtx = new TestContext("parity-" + algorithm);
    Handler mem = new MemQuotaAdapter().create(new Params(map("quotas", quotas)), memCtx);
    handlers.add(mem);
    TestContext redisCtx = new TestContext("parity-" + algorithm);
    QuotaHandler rq = redisHandler(redisCtx, quotas, map("url", redis.url(), "timeout", "5s"),
        () -> memCtx.mutableClock().millis());
    Random random = new Random(42 + algorithm.ordinal());
    long[] steps = {0, 0, 1, 7, 333, 999, 5_000, 14_999, 15_000, 30_000, 60_000, 3_600_000};
    String[] users = {"a", "b", "vip"};

    for (int i = 0; i < 600; i++) {
      memCtx.mutableClock().advance(Duration.ofMillis(steps[random.nextInt(steps.length)]));
      Instance.Quota q = user(users[random.nextInt(users.length)]);
      QuotaRequest.Limit envoyLimit =
          random.nextInt(8) == 0 ? new QuotaRequest.Limit(5, 30) : null;
      QuotaRequest request =
          new QuotaRequest(1 + random.nextInt(4), random.nextInt(3) == 0, envoyLimit);

      QuotaResult expected = value(((QuotaHandler) mem).allocate(q, request));
      QuotaResult actual = value(rq.allocate(q, request));

      assertThat(actual).as("step %d: %s %s at %s", i, q, request, memCtx.clock().instant())
          .isEqualTo(expected);
    }
    assertThat(redisCtx.counter(
        "arbiter_redisquota_errors_total{handler=\"parity-" + algorithm + "\",outcome=\"fail_closed\"}"))
        .isZero();
  }

  /** {@code calls} of {@code cmdstat_<command>} in Redis's INFO commandstats; 0 if never run. */
  static long commandCalls(RedisServer server, String command) throws Exception {
    for (String line : server.redisCli("INFO", "commandstats").lines().toList()) {
      if (line.startsWith("cmdstat_" + command + ":")) {
        for (String field : line.substring(line.indexOf(':') + 1).split(",")) {
          if (field.startsWith("calls=")) {
            return Long.parseLong(field.substring("calls=".length()));
          }
        }
      }
    }
    return 0;
  }

  private static List<QuotaResult> takeAll(QuotaHandler h, List<QuotaHandler.Allocation> batch) {
    return h.allocateAll(batch).stream().map(s -> value(s)).toList();
  }

  @Test
  void aBatchOfAllocationsIsOneScriptCallThatTakesThemInOrder() throws Exception {
    TestContext ctx = new TestContext("rq");
    QuotaHandler h = redisHandler(ctx, List.of(
        map("name", "per-user", "maxAmount", 2, "validDuration", "1h"),
        map("name", "tokens", "maxAmount", 10, "validDuration", "1h", "algorithm", "TOKEN_BUCKET"),
        map("name", "rolling", "maxAmount", 3, "validDuration", "1h",
            "algorithm", "ROLLING_WINDOW", "buckets", 4)));
    List<QuotaHandler.Allocation> batch = List.of(
        new QuotaHandler.Allocation(user("alice"), QuotaRequest.of(1)),
        new QuotaHandler.Allocation(new Instance.Quota("tokens", Map.of("ip", "10.0.0.1")), QuotaRequest.of(4)),
        new QuotaHandler.Allocation(user("alice"), QuotaRequest.of(1)),
        new QuotaHandler.Allocation(new Instance.Quota("rolling", Map.of()), QuotaRequest.of(2)),
        new QuotaHandler.Allocation(user("alice"), QuotaRequest.of(1)),
        new QuotaHandler.Allocation(user("bob"), QuotaRequest.of(1)),
        new QuotaHandler.Allocation(new Instance.Quota("rolling", Map.of()), QuotaRequest.of(2)));
    redis.redisCli("CONFIG", "RESETSTAT");

    List<QuotaResult> results = takeAll(h, batch);

    assertThat(commandCalls(redis, "evalsha")).as("script calls for 7 allocations").isEqualTo(1);
    assertThat(commandCalls(redis, "eval")).isZero();
    assertThat(results).extracting(QuotaResult::granted).containsExactly(1L, 4L, 1L, 2L, 0L, 1L, 0L);
    assertThat(results).extracting(QuotaResult::remaining).containsExactly(1L, 6L, 0L, 1L, 0L, 1L, 1L);
    assertThat(redis.redisCli("KEYS", "*").lines().sorted()).containsExactly(
        "arbiter:quota:rq:per-user:user=alice:fw-2-3600000",
        "arbiter:quota:rq:per-user:user=bob:fw-2-3600000",
        "arbiter:quota:rq:rolling:-:rw-3-3600000-4",
        "arbiter:quota:rq:tokens:ip=10.0.0.1:tb-10-3600000");

    // A second batch: again one call; one allocation from a single take is one call too.
    takeAll(h, batch);
    take(h, user("carol"), 1);
    assertThat(commandCalls(redis, "evalsha")).isEqualTo(3);
    long[] roundTrips = ((io.arbiter.engine.metrics.BucketHistogram) ctx.metrics().registry()
        .getMetrics().get("arbiter_redisquota_round_trip_seconds{handler=\"rq\"}")).cumulativeCounts();
    assertThat(roundTrips[roundTrips.length - 1]).as("round trips timed").isEqualTo(3);
  }

  @Test
  void inABatchWhatIsAnsweredWithoutRedisIsAnsweredAndTheRestIsOneCall() throws Exception {
    QuotaHandler h = redisHandler(new TestContext("rq"), List.of(
        map("name", "per-user", "maxAmount", 2, "validDuration", "1h")));
    redis.redisCli("CONFIG", "RESETSTAT");

    List<CompletableFuture<QuotaResult>> stages = h.allocateAll(List.of(
        new QuotaHandler.Allocation(user("a"), QuotaRequest.of(1)),
        new QuotaHandler.Allocation(new Instance.Quota("nobody", Map.of()), QuotaRequest.of(1)),
        new QuotaHandler.Allocation(user("a"), new QuotaRequest(1, false, new QuotaRequest.Limit(0, 60))),
        new QuotaHandler.Allocation(user("b"), QuotaRequest.of(1))))
        .stream().map(s -> s.toCompletableFuture()).toList();

    assertThat(value(stages.get(0)).remaining()).isEqualTo(1);
    assertThat(stages.get(1)).isCompletedExceptionally();
    assertThat(stages.get(1).handle((r, t) -> t.getMessage()).join())
        .contains("has no entry for quota instance 'nobody'");
    assertThat(value(stages.get(2)).overLimit()).as("a caller's limit of 0").isTrue();
    assertThat(value(stages.get(3)).remaining()).isEqualTo(1);
    assertThat(commandCalls(redis, "evalsha")).isEqualTo(1);
  }

  @ParameterizedTest
  @EnumSource(Algorithm.class)
  void batchesGiveTheSameResultsAsMemquotaOneByOne(Algorithm algorithm) {
    List<Map<String, Object>> quotas = List.of(map(
        "name", "per-user", "maxAmount", 7, "validDuration", "60s", "algorithm", algorithm.name(),
        "overrides", List.of(
            map("dimensions", Map.of("user", "vip"), "maxAmount", 20, "validDuration", "90s"))));
    TestContext memCtx = new TestContext("batch-" + algorithm);
    QuotaHandler mem = (QuotaHandler) new MemQuotaAdapter().create(new Params(map("quotas", quotas)), memCtx);
    handlers.add(mem);
    QuotaHandler rq = redisHandler(new TestContext("batch-" + algorithm), quotas,
        map("url", redis.url(), "timeout", "5s"), () -> memCtx.mutableClock().millis());
    Random random = new Random(99 + algorithm.ordinal());
    long[] steps = {0, 0, 1, 999, 15_000, 60_000};
    String[] users = {"a", "b", "vip"};

    for (int i = 0; i < 150; i++) {
      memCtx.mutableClock().advance(Duration.ofMillis(steps[random.nextInt(steps.length)]));
      List<QuotaHandler.Allocation> batch = new ArrayList<>();
      for (int k = random.nextInt(5); k >= 0; k--) {
        batch.add(new QuotaHandler.Allocation(user(users[random.nextInt(users.length)]),
            new QuotaRequest(1 + random.nextInt(4), random.nextInt(3) == 0,
                random.nextInt(8) == 0 ? new QuotaRequest.Limit(5, 30) : null)));
      }
      List<QuotaResult> expected =
          batch.stream().map(a -> value(mem.allocate(a.quota(), a.request()))).toList();

      assertThat(takeAll(rq, batch)).as("step %d: %s", i, batch).isEqualTo(expected);
    }
  }

  @Test
  void fixedWindowOnRedisTimeResetsAtTheWindowEdgeAndItsKeyExpires() throws Exception {
    QuotaHandler h = redisHandler(new TestContext("rq"), List.of(
        map("name", "per-user", "maxAmount", 3, "validDuration", "1s")));
    QuotaResult first = take(h, user("alice"), 3);
    while (first.resetAfter().compareTo(Duration.ofMillis(500)) < 0) {
      // Too close to the edge to see the next call in the same window: start in the next one.
      Thread.sleep(first.resetAfter().toMillis() + 5);
      redis.redisCli("FLUSHALL");
      first = take(h, user("alice"), 3);
    }
    assertThat(first.granted()).isEqualTo(3);
    assertThat(first.remaining()).isZero();

    QuotaResult over = take(h, user("alice"), 1);
    assertThat(over.overLimit()).isTrue();
    assertThat(over.resetAfter()).isPositive().isLessThanOrEqualTo(Duration.ofSeconds(1));

    Thread.sleep(over.resetAfter().toMillis() + 20);
    assertThat(redis.redisCli("EXISTS", "arbiter:quota:rq:per-user:user=alice:fw-3-1000"))
        .isEqualTo("0");
    assertThat(take(h, user("alice"), 1).granted()).isEqualTo(1);
  }

  @Test
  void keysAreNamespacedAndLiveNoLongerThanTheirBucketMatters() throws Exception {
    QuotaHandler h = redisHandler(new TestContext("rq"), List.of(
        map("name", "per-user", "maxAmount", 10, "validDuration", "1h"),
        map("name", "tokens", "maxAmount", 10, "validDuration", "1h", "algorithm", "TOKEN_BUCKET"),
        map("name", "rolling", "maxAmount", 10, "validDuration", "1h",
            "algorithm", "ROLLING_WINDOW", "buckets", 4)));
    take(h, user("alice"), 1);
    take(h, new Instance.Quota("tokens", Map.of("ip", "10.0.0.1")), 3);
    take(h, new Instance.Quota("rolling", Map.of()), 1);
    value(h.allocate(new Instance.Quota("tokens", Map.of("ip", "10.0.0.1")),
        new QuotaRequest(1, false, new QuotaRequest.Limit(100, 60))));

    assertThat(redis.redisCli("KEYS", "*").lines().sorted()).containsExactly(
        "arbiter:quota:rq:per-user:user=alice:fw-10-3600000",
        "arbiter:quota:rq:rolling:-:rw-10-3600000-4",
        "arbiter:quota:rq:tokens:ip=10.0.0.1:tb-10-3600000",
        "arbiter:quota:rq:tokens:ip=10.0.0.1:tb-100-60000");
    // Fixed: until the window ends. Rolling: until the slot used leaves (≤ the window).
    // Token bucket: until refilled, 3 tokens at 10 an hour = 18 min; 1 at 100 a minute = 0.6 s.
    assertThat(pttl("arbiter:quota:rq:per-user:user=alice:fw-10-3600000"))
        .isBetween(1L, 3_600_000L);
    assertThat(pttl("arbiter:quota:rq:rolling:-:rw-10-3600000-4")).isBetween(2_700_000L, 3_600_000L);
    assertThat(pttl("arbiter:quota:rq:tokens:ip=10.0.0.1:tb-10-3600000"))
        .isBetween(1_000_000L, 1_080_000L);
    assertThat(pttl("arbiter:quota:rq:tokens:ip=10.0.0.1:tb-100-60000")).isBetween(-2L, 600L);
  }

  private static long pttl(String key) throws Exception {
    return Long.parseLong(redis.redisCli("PTTL", key));
  }

  @Test
  void tokenBucketOnRedisTimeRefills() throws Exception {
    QuotaHandler h = redisHandler(new TestContext("rq"), List.of(map(
        "name", "per-user", "maxAmount", 4, "validDuration", "1s", "algorithm", "TOKEN_BUCKET")));

    assertThat(take(h, user("a"), 4).granted()).isEqualTo(4);
    QuotaResult over = take(h, user("a"), 1);
    assertThat(over.overLimit()).isTrue();
    assertThat(over.resetAfter()).isPositive().isLessThanOrEqualTo(Duration.ofMillis(250));

    Thread.sleep(over.resetAfter().toMillis() + 10);
    assertThat(take(h, user("a"), 1).granted()).isEqualTo(1);
  }

  @Test
  void concurrentAllocationsOnOneKeyNeverGrantMoreThanTheLimit() throws Exception {
    TestContext ctx = new TestContext("rq");
    // Units come back only after 6 days: time cannot add any while the test runs.
    QuotaHandler h = redisHandler(ctx, List.of(map("name", "per-user", "maxAmount", 300,
        "validDuration", "7d", "algorithm", "ROLLING_WINDOW", "buckets", 7)),
        map("url", redis.url(), "timeout", "5s"), null);
    int threads = 8;
    int perThread = 100;
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    CountDownLatch start = new CountDownLatch(1);
    List<CompletableFuture<Long>> results = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      results.add(CompletableFuture.supplyAsync(() -> {
        try {
          start.await();
        } catch (InterruptedException e) {
          throw new IllegalStateException(e);
        }
        List<CompletableFuture<QuotaResult>> mine = new ArrayList<>();
        for (int i = 0; i < perThread; i++) {
          mine.add(h.allocate(user("shared"), QuotaRequest.of(1)).toCompletableFuture());
        }
        return mine.stream().mapToLong(f -> f.join().granted()).sum();
      }, pool));
    }
    start.countDown();
    long granted = 0;
    for (CompletableFuture<Long> f : results) {
      granted += f.get(60, TimeUnit.SECONDS);
    }
    pool.shutdown();

    assertThat(granted).isEqualTo(300);
    assertThat(ctx.counter("arbiter_quota_allocations_total{handler=\"rq\",result=\"granted\"}"))
        .isEqualTo(300);
    assertThat(ctx.counter("arbiter_quota_allocations_total{handler=\"rq\",result=\"over_limit\"}"))
        .isEqualTo(threads * perThread - 300);
    assertThat(ctx.counter("arbiter_redisquota_errors_total{handler=\"rq\",outcome=\"fail_closed\"}"))
        .isZero();
  }

  @Test
  void afterRedisLosesItsScriptsTheScriptIsSentAgain() throws Exception {
    QuotaHandler h = redisHandler(new TestContext("rq"), List.of(
        map("name", "per-user", "maxAmount", 5, "validDuration", "1h")));
    take(h, user("a"), 1);
    redis.redisCli("SCRIPT", "FLUSH");
    assertThat(redis.redisCli("SCRIPT", "EXISTS", RedisScript.ALLOCATE.sha1())).isEqualTo("0");

    assertThat(take(h, user("a"), 1).remaining()).isEqualTo(3);
    assertThat(redis.redisCli("SCRIPT", "EXISTS", RedisScript.ALLOCATE.sha1())).isEqualTo("1");
  }

  @Test
  void aPasswordInTheUrlIsUsedAndNeverLogged() throws Exception {
    try (RedisServer secured = RedisServer.start("--requirepass", "s3cret-pw")) {
      QuotaHandler ok = redisHandler(new TestContext("rq"), List.of(
          map("name", "per-user", "maxAmount", 1, "validDuration", "1h")),
          map("url", "redis://:s3cret-pw@127.0.0.1:" + secured.port(), "timeout", "2s"), null);
      assertThat(take(ok, user("a"), 1).granted()).isEqualTo(1);
      assertThat(take(ok, user("a"), 1).overLimit()).isTrue();

      TestContext ctx = new TestContext("wrong");
      QuotaHandler wrong = redisHandler(ctx, List.of(
          map("name", "per-user", "maxAmount", 1, "validDuration", "1h")),
          map("url", "redis://:not-the-pw@127.0.0.1:" + secured.port()), null);
      assertThat(take(wrong, user("b"), 1).overLimit()).isTrue();
      assertThat(ctx.logger().lines()).isNotEmpty().allSatisfy(
          l -> assertThat(l.message()).doesNotContain("not-the-pw"));
      assertThat(ctx.logger().messages(Level.WARNING)).anySatisfy(m -> assertThat(m)
          .contains("cannot connect to Redis at redis://***@127.0.0.1:" + secured.port()));
    }
  }

  @Test
  void redisStoppedGivesTheConfiguredOutcomeCountedAndRecoversWhenItReturns() throws Exception {
    try (RedisServer own = RedisServer.start()) {
      List<Map<String, Object>> quotas =
          List.of(map("name", "per-user", "maxAmount", 5, "validDuration", "1h"));
      TestContext closedCtx = new TestContext("closed");
      TestContext openCtx = new TestContext("open");
      QuotaHandler closed =
          redisHandler(closedCtx, quotas, map("url", own.url(), "timeout", "2s"), null);
      QuotaHandler open = redisHandler(
          openCtx, quotas, map("url", own.url(), "timeout", "2s", "failOpen", true), null);
      assertThat(take(closed, user("a"), 1).remaining()).isEqualTo(4);
      assertThat(take(open, user("a"), 1).remaining()).isEqualTo(4);

      own.stop();

      assertThat(take(closed, user("a"), 1)).isEqualTo(
          new QuotaResult(0, 5, 0, Duration.ofSeconds(1), Duration.ofHours(1)));
      assertThat(take(open, user("a"), 2)).isEqualTo(
          new QuotaResult(2, 5, 3, Duration.ZERO, Duration.ofHours(1)));
      assertThat(closedCtx.counter(
          "arbiter_redisquota_errors_total{handler=\"closed\",outcome=\"fail_closed\"}"))
          .isEqualTo(1);
      assertThat(openCtx.counter(
          "arbiter_redisquota_errors_total{handler=\"open\",outcome=\"fail_open\"}"))
          .isEqualTo(1);
      assertThat(closedCtx.logger().messages(Level.WARNING)).anySatisfy(m -> assertThat(m)
          .startsWith("redisquota 'closed': Redis at " + own.url() + " did not answer")
          .endsWith("answered fail-closed (over the limit)"));

      own.restart(); // empty: the buckets start afresh

      awaitTrue(() -> !take(closed, user("a"), 1).overLimit());
      String openErrors = "arbiter_redisquota_errors_total{handler=\"open\",outcome=\"fail_open\"}";
      awaitTrue(() -> {
        long before = openCtx.counter(openErrors);
        take(open, user("b"), 1);
        return openCtx.counter(openErrors) == before; // answered by Redis, not by failOpen
      });
      assertThat(own.redisCli("EXISTS", "arbiter:quota:closed:per-user:user=a:fw-5-3600000"))
          .isEqualTo("1");
      assertThat(closedCtx.gauge("arbiter_redisquota_connected{handler=\"closed\"}")).isEqualTo(1);
    }
  }

  @Test
  void aRedisThatDoesNotAnswerTimesOutToTheConfiguredOutcome() throws Exception {
    try (RedisServer own = RedisServer.start()) {
      TestContext ctx = new TestContext("frozen");
      QuotaHandler h = redisHandler(ctx, List.of(
          map("name", "per-user", "maxAmount", 1000, "validDuration", "1h")),
          map("url", own.url(), "timeout", "100ms"), null);
      String errors = "arbiter_redisquota_errors_total{handler=\"frozen\",outcome=\"fail_closed\"}";
      awaitTrue(() -> !take(h, user("a"), 1).overLimit());
      long before = ctx.counter(errors);

      own.pause();
      try {
        assertThat(take(h, user("a"), 1).overLimit()).isTrue();
        assertThat(ctx.counter(errors)).isEqualTo(before + 1);
        assertThat(ctx.logger().messages(Level.WARNING))
            .anySatisfy(m -> assertThat(m).contains("(no reply within 100ms)"));
      } finally {
        own.resume();
      }
      awaitTrue(() -> !take(h, user("a"), 1).overLimit());
    }
  }

  @Test
  void aRedisDownAtLoadIsNotAConfigErrorAndIsRetried() throws Exception {
    try (RedisServer own = RedisServer.start()) {
      own.stop();
      TestContext ctx = new TestContext("late");
      QuotaHandler h = redisHandler(ctx, List.of(
          map("name", "per-user", "maxAmount", 5, "validDuration", "1h")),
          map("url", own.url(), "timeout", "2s"), null);
      assertThat(take(h, user("a"), 1).overLimit()).isTrue();
      assertThat(ctx.manualScheduler().pending()).hasSize(1);

      own.restart();
      ctx.manualScheduler().runPending();

      awaitTrue(() -> !take(h, user("a"), 1).overLimit());
    }
  }

  @Test
  void closeReleasesTheConnectionAndTheGauge() {
    TestContext ctx = new TestContext("closing");
    RedisQuotaHandler h = redisHandler(ctx, List.of(
        map("name", "per-user", "maxAmount", 5, "validDuration", "1h")));
    assertThat(ctx.gauge("arbiter_redisquota_connected{handler=\"closing\"}")).isEqualTo(1);

    h.close();
    h.close();

    assertThat(ctx.gauge("arbiter_redisquota_connected{handler=\"closing\"}")).isNull();
    assertThat(take(h, user("a"), 1).overLimit()).isTrue();
  }

  /** Polls {@code condition} every 50 ms for up to 15 s; fails if it never holds. */
  private static void awaitTrue(Supplier<Boolean> condition) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
    while (System.nanoTime() < deadline) {
      if (condition.get()) {
        return;
      }
      Thread.sleep(50);
    }
    throw new AssertionError("the condition did not hold within 15 s");
  }
}
