package io.arbiter.engine;

import static io.arbiter.engine.testing.TestEngines.check;
import static io.arbiter.engine.testing.TestEngines.compile;
import static org.assertj.core.api.Assertions.assertThat;

import io.arbiter.engine.metrics.Metrics;
import io.arbiter.engine.spi.Code;
import io.arbiter.engine.spi.HeaderValue;
import io.arbiter.engine.testing.FakeAdapter;
import io.arbiter.engine.testing.MutableClock;
import java.io.StringWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The check decision cache as the engine uses it: what is reused, for how long, and what never is. */
class DecisionCacheTest {
  private final FakeAdapter fake = new FakeAdapter();
  private final MutableClock clock = new MutableClock();
  private final Metrics metrics = new Metrics();

  private PolicyEngine engine(String yaml) {
    PolicyEngine engine = new PolicyEngine(
        EngineServices.create(Map.of("fake", fake), clock, metrics));
    try {
      engine.apply(compile(engine, yaml));
    } catch (Exception e) {
      throw new AssertionError(e);
    }
    return engine;
  }

  private static AttributeBag request(String path, Map<String, String> headers, String requestId) {
    return AttributeBag.builder()
        .put("request.path", path)
        .put("request.headers", headers)
        .put("request.id", requestId)
        .build();
  }

  private long counter(String series) {
    StringWriter out = new StringWriter();
    metrics.writePrometheus(out);
    for (String line : out.toString().split("\n")) {
      if (line.startsWith(series + " ")) {
        return (long) Double.parseDouble(line.substring(series.length() + 1));
      }
    }
    return 0;
  }

  private static final String USERS =
      """
      handlers:
        - name: users
          adapter: fake
          params: {denyValues: [mallory]}
      instances:
        - name: user
          template: listentry
          params: {value: "request.headers['x-user']"}
      rules:
        - name: admin-needs-user
          match: "request.path.startsWith('/admin')"
          allow: "'x-user' in request.headers"
          actions: [{handler: users, instances: [user]}]
        - name: tag
          match: "'x-user' in request.headers"
          requestHeadersToAdd: {x-arbiter-user: "request.headers['x-user']"}
      """;

  @Test
  void callsThatDifferOnlyInUnreadAttributesShareOneDecision() {
    PolicyEngine engine = engine(USERS);
    CheckDecision first = check(engine, request("/admin/a", Map.of("x-user", "alice", "x-trace", "1"), "r1"));
    CheckDecision second = check(engine, request("/admin/a", Map.of("x-user", "alice", "x-trace", "2"), "r2"));
    assertThat(first.cached()).isFalse();
    assertThat(second.cached()).isTrue();
    assertThat(second.result()).isEqualTo(first.result());
    assertThat(second.matchedRules()).isEqualTo(first.matchedRules());
    assertThat(second.id()).isNotEqualTo(first.id());
    assertThat(fake.seen).hasSize(1);
    assertThat(counter("arbiter_check_cache_lookups_total{result=\"hit\"}")).isEqualTo(1);
    assertThat(counter("arbiter_check_cache_lookups_total{result=\"miss\"}")).isEqualTo(1);
  }

  @Test
  void aReadAttributeThatDiffersIsNeverAnotherCallsHit() {
    PolicyEngine engine = engine(USERS);
    CheckDecision alice = check(engine, request("/admin/a", Map.of("x-user", "alice"), "r1"));
    CheckDecision mallory = check(engine, request("/admin/a", Map.of("x-user", "mallory"), "r2"));
    CheckDecision nobody = check(engine, request("/admin/a", Map.of(), "r3"));
    CheckDecision empty = check(engine, request("/admin/a", Map.of("x-user", ""), "r4"));
    assertThat(alice.result().allowed()).isTrue();
    assertThat(alice.result().requestHeadersToAdd()).containsExactly(new HeaderValue("x-arbiter-user", "alice", false));
    assertThat(mallory.cached()).isFalse();
    assertThat(mallory.result().code()).isEqualTo(Code.PERMISSION_DENIED);
    assertThat(nobody.cached()).isFalse();
    assertThat(nobody.result().allowed()).as("absence of the header is read too").isFalse();
    assertThat(empty.cached()).as("an empty header is not an absent one").isFalse();
    assertThat(empty.result().allowed()).isTrue();
  }

  @Test
  void aDecisionOnAnotherPathReadsLessAndIsSharedMoreWidely() {
    PolicyEngine engine = engine(USERS);
    check(engine, request("/public", Map.of(), "r1"));
    // '/public' never evaluates the admin rule's allow or instance: only path and the x-user key.
    CheckDecision again = check(engine, request("/public", Map.of("x-other", "y"), "r2"));
    assertThat(again.cached()).isTrue();
    CheckDecision withUser = check(engine, request("/public", Map.of("x-user", "bob"), "r3"));
    assertThat(withUser.cached()).isFalse();
    assertThat(withUser.matchedRules()).containsExactly("tag");
  }

  @Test
  void validityIsTheSmallestOfResultsSettingsAndRuleCaps() {
    PolicyEngine engine = engine(
        """
        settings:
          cache: {maxValidDuration: 30s}
        handlers:
          - name: short
            adapter: fake
            params: {validDuration: 5s, validUseCount: 2}
        rules:
          - name: r
            actions: [{handler: short}]
        """);
    AttributeBag bag = request("/", Map.of(), "r");
    assertThat(check(engine, bag).cached()).isFalse();
    assertThat(check(engine, bag).cached()).isTrue();
    assertThat(check(engine, bag).cached()).isTrue();
    assertThat(check(engine, bag).cached()).as("two reuses, then evaluated again").isFalse();
    clock.advance(Duration.ofMillis(4999));
    assertThat(check(engine, bag).cached()).isTrue();
    clock.advance(Duration.ofMillis(2));
    assertThat(check(engine, bag).cached()).as("5s after it was taken").isFalse();
    assertThat(fake.seen).hasSize(3);
  }

  @Test
  void aRuleCapOfZeroKeepsItsDecisionsOutOfTheCache() {
    PolicyEngine engine = engine(
        """
        rules:
          - name: fresh
            match: "request.path == '/fresh'"
            cache: {validUseCount: 0}
          - name: capped
            match: "request.path == '/capped'"
            cache: {validDuration: 1s}
        """);
    AttributeBag fresh = request("/fresh", Map.of(), "r");
    check(engine, fresh);
    assertThat(check(engine, fresh).cached()).isFalse();
    AttributeBag capped = request("/capped", Map.of(), "r");
    check(engine, capped);
    assertThat(check(engine, capped).cached()).isTrue();
    clock.advance(Duration.ofSeconds(1));
    assertThat(check(engine, capped).cached()).isFalse();
  }

  @Test
  void failedDecisionsAndQuotaAreNeverReused() {
    PolicyEngine engine = engine(
        """
        handlers:
          - name: down
            adapter: fake
            params: {behavior: fail}
        rules:
          - name: r
            match: "request.path == '/down'"
            actions: [{handler: down}]
          - name: bad
            match: "request.path == '/bad'"
            allow: "request.headers['missing'] == 'x'"
        """);
    for (String path : List.of("/down", "/bad")) {
      AttributeBag bag = request(path, Map.of(), "r");
      assertThat(check(engine, bag).failed()).isTrue();
      CheckDecision again = check(engine, bag);
      assertThat(again.cached()).as(path).isFalse();
      assertThat(again.failed()).as(path).isTrue();
    }
    assertThat(counter("arbiter_check_cache_uncacheable_total")).isEqualTo(4);
  }

  @Test
  void aReloadStartsAnEmptyCache() throws Exception {
    PolicyEngine engine = engine(USERS);
    AttributeBag bag = request("/admin/a", Map.of("x-user", "alice"), "r");
    check(engine, bag);
    assertThat(check(engine, bag).cached()).isTrue();
    engine.apply(compile(engine, USERS.replace("[mallory]", "[alice]")));
    CheckDecision after = check(engine, bag);
    assertThat(after.cached()).isFalse();
    assertThat(after.result().allowed()).isFalse();
  }

  @Test
  void warmingUpEvaluatesExpressionsButCallsCountsAndCachesNothing() {
    PolicyEngine engine = engine(USERS);
    AttributeBag bag = request("/admin/a", Map.of("x-user", "alice"), "r");
    engine.warmUp(bag);
    engine.warmUp(AttributeBag.empty()); // errs inside (a missing header): ignored
    assertThat(fake.seen).isEmpty();
    assertThat(counter("arbiter_rule_matches_total{rule=\"admin-needs-user\"}")).isZero();
    assertThat(counter("arbiter_checks_total{result=\"allow\"}")).isZero();
    assertThat(check(engine, bag).cached()).isFalse();
  }

  @Test
  void theCacheStaysWithinItsEntryBound() {
    PolicyEngine engine = engine(USERS + "settings:\n  cache: {maxEntries: 10}\n");
    for (int i = 0; i < 200; i++) {
      check(engine, request("/admin/a", Map.of("x-user", "user-" + i), "r"));
    }
    assertThat(counter("arbiter_check_cache_entries")).isLessThanOrEqualTo(10);
    assertThat(counter("arbiter_check_cache_evictions_total{cause=\"size\"}")).isGreaterThanOrEqualTo(190);
  }

  @Test
  void theCacheCanBeTurnedOff() {
    PolicyEngine engine = engine(USERS + "settings:\n  cache: {enabled: false}\n");
    AttributeBag bag = request("/admin/a", Map.of("x-user", "alice"), "r");
    check(engine, bag);
    assertThat(check(engine, bag).cached()).isFalse();
    assertThat(fake.seen).hasSize(2);
  }

  @Test
  void identicalChecksInFlightCauseOneEvaluation() throws Exception {
    PolicyEngine engine = engine(
        """
        handlers:
          - name: slow
            adapter: fake
            params: {delay: 200ms}
        rules:
          - name: r
            actions: [{handler: slow}]
        settings: {handlerTimeout: 5s}
        """);
    int n = 32;
    ExecutorService pool = Executors.newFixedThreadPool(8);
    try {
      CountDownLatch go = new CountDownLatch(1);
      List<CompletableFuture<CheckDecision>> all = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        String id = "r" + i;
        all.add(CompletableFuture.supplyAsync(() -> {
          try {
            go.await();
          } catch (InterruptedException e) {
            throw new AssertionError(e);
          }
          return engine.check(request("/", Map.of(), id)).toCompletableFuture().join();
        }, pool));
      }
      go.countDown();
      for (CompletableFuture<CheckDecision> f : all) {
        CheckDecision d = f.get(10, TimeUnit.SECONDS);
        assertThat(d.result().allowed()).isTrue();
        assertThat(d.failed()).isFalse();
      }
    } finally {
      pool.shutdownNow();
    }
    assertThat(fake.seen).as("one evaluation for all").hasSize(1);
    assertThat(counter("arbiter_check_cache_lookups_total{result=\"merged\"}")
        + counter("arbiter_check_cache_lookups_total{result=\"hit\"}")).isEqualTo(n - 1);
  }

  @Test
  void waitersOfAOneTimeResultEvaluateOnTheirOwn() throws Exception {
    PolicyEngine engine = engine(
        """
        handlers:
          - name: once
            adapter: fake
            params: {delay: 100ms, validUseCount: 0}
        rules:
          - name: r
            actions: [{handler: once}]
        settings: {handlerTimeout: 5s}
        """);
    List<CompletableFuture<CheckDecision>> all = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      all.add(engine.check(request("/", Map.of(), "r" + i)).toCompletableFuture());
    }
    for (CompletableFuture<CheckDecision> f : all) {
      assertThat(f.get(10, TimeUnit.SECONDS).cached()).isFalse();
    }
    assertThat(fake.seen).hasSize(5);
  }
}
