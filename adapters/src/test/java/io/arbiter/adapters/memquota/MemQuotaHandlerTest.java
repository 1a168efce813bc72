package io.arbiter.adapters.memquota;

import static io.arbiter.adapters.testing.Stages.failure;
import static io.arbiter.adapters.testing.Stages.value;
import static org.assertj.core.api.Assertions.assertThat;

import io.arbiter.adapters.quota.UnknownQuotaException;
import io.arbiter.adapters.testing.TestContext;
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
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The memquota handler with an injected clock and a manual scheduler. */
class MemQuotaHandlerTest {
  private final TestContext ctx = new TestContext("local-quota");
  private final List<MemQuotaHandler> handlers = new ArrayList<>();

  @AfterEach
  void close() {
    handlers.forEach(MemQuotaHandler::close);
  }

  private MemQuotaHandler handler(Map<String, ?> params) {
    MemQuotaHandler h = (MemQuotaHandler) new MemQuotaAdapter().create(new Params(params), ctx);
    handlers.add(h);
    return h;
  }

  private static Map<String, Object> quota(Object... kv) {
    Map<String, Object> m = new LinkedHashMap<>();
    for (int i = 0; i < kv.length; i += 2) {
      m.put((String) kv[i], kv[i + 1]);
    }
    return m;
  }

  private static Instance.Quota user(String user) {
    return new Instance.Quota("per-user", Map.of("user", user));
  }

  private static QuotaResult take(QuotaHandler h, Instance.Quota q, long amount) {
    return value(h.allocate(q, QuotaRequest.of(amount)));
  }

  private void advance(Duration d) {
    ctx.mutableClock().advance(d);
  }

  @Test
  void allocatesPerDimensionsWithOverridesAndCountsResults() {
    MemQuotaHandler h = handler(Map.of("quotas", List.of(quota(
        "name", "per-user", "maxAmount", 2, "validDuration", "60s",
        "overrides", List.of(quota("dimensions", Map.of("user", "vip"), "maxAmount", 3))))));

    assertThat(take(h, user("alice"), 1))
        .isEqualTo(new QuotaResult(1, 2, 1, Duration.ofSeconds(60), Duration.ofSeconds(60)));
    assertThat(take(h, user("alice"), 1).remaining()).isZero();
    assertThat(take(h, user("alice"), 1))
        .isEqualTo(new QuotaResult(0, 2, 0, Duration.ofSeconds(60), Duration.ofSeconds(60)));
    assertThat(take(h, user("bob"), 2).granted()).isEqualTo(2);
    assertThat(take(h, user("vip"), 3))
        .isEqualTo(new QuotaResult(3, 3, 0, Duration.ofSeconds(60), Duration.ofSeconds(60)));

    assertThat(ctx.counter("arbiter_quota_allocations_total{handler=\"local-quota\",result=\"granted\"}"))
        .isEqualTo(4);
    assertThat(ctx.counter(
        "arbiter_quota_allocations_total{handler=\"local-quota\",result=\"over_limit\"}"))
        .isEqualTo(1);
    assertThat(ctx.gauge("arbiter_memquota_keys{handler=\"local-quota\"}")).isEqualTo(3);
  }

  @Test
  void theWindowResetsAtItsEdge() {
    MemQuotaHandler h = handler(Map.of("quotas", List.of(
        quota("name", "per-user", "maxAmount", 1, "validDuration", "1500ms"))));
    // The clock starts at 2030-01-01T00:00:00Z, a multiple of 1.5 s.

    assertThat(take(h, user("a"), 1).granted()).isEqualTo(1);
    advance(Duration.ofMillis(1499));
    assertThat(take(h, user("a"), 1)).satisfies(r -> {
      assertThat(r.overLimit()).isTrue();
      assertThat(r.resetAfter()).isEqualTo(Duration.ofMillis(1));
    });
    advance(Duration.ofMillis(1));
    assertThat(take(h, user("a"), 1).granted()).isEqualTo(1);
  }

  @Test
  void bestEffortGetsWhatIsLeft() {
    MemQuotaHandler h = handler(Map.of("quotas", List.of(quota(
        "name", "per-user", "maxAmount", 5, "validDuration", "1m", "algorithm", "TOKEN_BUCKET"))));

    assertThat(take(h, user("a"), 4).granted()).isEqualTo(4);
    assertThat(value(h.allocate(user("a"), new QuotaRequest(3, true, null))).granted()).isEqualTo(1);
    assertThat(value(h.allocate(user("a"), new QuotaRequest(3, true, null))).granted()).isZero();
  }

  @Test
  void aCallersLimitGetsItsOwnBucket() {
    MemQuotaHandler h = handler(Map.of("quotas", List.of(
        quota("name", "per-user", "maxAmount", 1, "validDuration", "1m"))));
    QuotaRequest envoyLimit = new QuotaRequest(1, false, new QuotaRequest.Limit(3, 1));

    assertThat(take(h, user("a"), 1).granted()).isEqualTo(1);
    assertThat(value(h.allocate(user("a"), envoyLimit)))
        .isEqualTo(new QuotaResult(1, 3, 2, Duration.ofSeconds(1), Duration.ofSeconds(1)));
    assertThat(take(h, user("a"), 1).overLimit()).isTrue();
    assertThat(value(h.allocate(user("a"), new QuotaRequest(1, false,
        new QuotaRequest.Limit(0, 60))))).isEqualTo(
            new QuotaResult(0, 0, 0, Duration.ofSeconds(60), Duration.ofSeconds(60)));
  }

  @Test
  void anInstanceWithoutAQuotaFailsAndIsLoggedAtMostOnceASecond() {
    MemQuotaHandler h = handler(Map.of("quotas", List.of(
        quota("name", "per-user", "maxAmount", 1, "validDuration", "1m"))));
    Instance.Quota perIp = new Instance.Quota("per-ip", Map.of("ip", "10.0.0.1"));

    for (int i = 0; i < 3; i++) {
      assertThat(failure(h.allocate(perIp, QuotaRequest.of(1))))
          .isInstanceOf(UnknownQuotaException.class)
          .hasMessageContaining("no entry for quota instance 'per-ip'");
    }
    advance(Duration.ofSeconds(1));
    failure(h.allocate(perIp, QuotaRequest.of(1)));

    assertThat(ctx.logger().messages(Level.WARNING)).containsExactly(
        "memquota 'local-quota': quota handler 'local-quota' has no entry for quota instance"
            + " 'per-ip' in its params.quotas (it has [per-user])",
        "memquota 'local-quota': quota handler 'local-quota' has no entry for quota instance"
            + " 'per-ip' in its params.quotas (it has [per-user]) (2 similar messages suppressed)");
  }

  @Test
  void idleBucketsAreSweptOnTheSchedulerAndThoseInUseKept() {
    MemQuotaHandler h = handler(Map.of("quotas", List.of(
        quota("name", "per-user", "maxAmount", 2, "validDuration", "10s"),
        quota("name", "per-day", "maxAmount", 2, "validDuration", "1d",
            "algorithm", "TOKEN_BUCKET"))));
    take(h, user("a"), 1);
    take(h, new Instance.Quota("per-day", Map.of()), 1);
    assertThat(ctx.manualScheduler().pending()).singleElement()
        .satisfies(t -> assertThat(t.delay()).isEqualTo(Duration.ofSeconds(10)));

    advance(Duration.ofSeconds(9));
    ctx.manualScheduler().runPending();
    assertThat(h.store().size()).isEqualTo(2);

    advance(Duration.ofSeconds(1));
    ctx.manualScheduler().runPending();
    assertThat(h.store().size()).isEqualTo(1);
    // Half a day refills the one token taken (2 per day): then the bucket is idle too.
    advance(Duration.ofHours(12));
    ctx.manualScheduler().runPending();
    assertThat(h.store().size()).isZero();
    assertThat(ctx.manualScheduler().pending()).hasSize(1);
  }

  @Test
  void aFullStoreDropsIdleBucketsFirstThenEvictsTheLeastRecentlyUsed() {
    MemQuotaHandler h = handler(Map.of("maxKeys", 10, "quotas", List.of(
        quota("name", "per-user", "maxAmount", 2, "validDuration", "1h"),
        quota("name", "short", "maxAmount", 2, "validDuration", "1s"))));
    take(h, new Instance.Quota("short", Map.of()), 1); // idle after 1 s
    for (int i = 0; i < 9; i++) {
      advance(Duration.ofSeconds(1));
      take(h, user("u" + i), 2);
    }
    assertThat(h.store().size()).isEqualTo(10);

    // An 11th key when the store is full: the idle bucket makes room; nothing is evicted.
    advance(Duration.ofSeconds(1));
    take(h, user("new"), 1);
    assertThat(h.store().size()).isEqualTo(10);
    assertThat(ctx.counter("arbiter_memquota_evictions_total{handler=\"local-quota\"}")).isZero();

    // Full again and nothing idle: the least recently used (u1, since u0 was just used) goes.
    advance(Duration.ofSeconds(1));
    assertThat(take(h, user("u0"), 1).overLimit()).isTrue();
    take(h, user("new2"), 1);

    assertThat(h.store().size()).isEqualTo(10);
    assertThat(ctx.counter("arbiter_memquota_evictions_total{handler=\"local-quota\"}"))
        .isEqualTo(1);
    assertThat(h.store().contains(
        "arbiter:quota:local-quota:per-user:user=u1:fw-2-3600000")).isFalse();
    assertThat(take(h, user("u0"), 1).overLimit()).isTrue();
    // An evicted key starts afresh, with its whole limit.
    assertThat(take(h, user("u1"), 2).granted()).isEqualTo(2);
  }

  @Test
  void concurrentAllocationsNeverGrantMoreThanTheLimit() throws Exception {
    MemQuotaHandler h = handler(Map.of("quotas", List.of(quota(
        "name", "per-user", "maxAmount", 1000, "validDuration", "1h",
        "algorithm", "ROLLING_WINDOW"))));
    ExecutorService pool = Executors.newFixedThreadPool(8);
    CountDownLatch start = new CountDownLatch(1);
    List<Future<Long>> results = new ArrayList<>();
    for (int t = 0; t < 8; t++) {
      results.add(pool.submit(() -> {
        start.await();
        long granted = 0;
        for (int i = 0; i < 500; i++) {
          granted += take(h, user("shared"), 1).granted();
        }
        return granted;
      }));
    }
    start.countDown();
    long total = 0;
    for (Future<Long> f : results) {
      total += f.get(30, TimeUnit.SECONDS);
    }
    pool.shutdown();

    assertThat(total).isEqualTo(1000);
  }

  @Test
  void closeDropsTheBucketsTheSweepAndTheGauge() {
    MemQuotaHandler h = handler(Map.of("quotas", List.of(
        quota("name", "per-user", "maxAmount", 1, "validDuration", "1m"))));
    take(h, user("a"), 1);

    h.close();

    assertThat(h.store().size()).isZero();
    assertThat(ctx.manualScheduler().pending()).isEmpty();
    assertThat(ctx.gauge("arbiter_memquota_keys{handler=\"local-quota\"}")).isNull();
  }
}
