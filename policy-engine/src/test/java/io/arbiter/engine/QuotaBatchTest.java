package io.arbiter.engine;

import static io.arbiter.engine.testing.TestEngines.engine;
import static org.assertj.core.api.Assertions.assertThat;

import io.arbiter.engine.spi.Adapter;
import io.arbiter.engine.spi.AdapterContext;
import io.arbiter.engine.spi.Handler;
import io.arbiter.engine.spi.Instance;
import io.arbiter.engine.spi.Params;
import io.arbiter.engine.spi.QuotaHandler;
import io.arbiter.engine.spi.QuotaRequest;
import io.arbiter.engine.spi.QuotaResult;
import io.arbiter.engine.spi.Template;
import io.arbiter.engine.testing.CountingQuotaAdapter;
import io.arbiter.engine.testing.TestEngines;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * {@link PolicyEngine#quota(List)}: the descriptors of one request decided together, one {@code
 * allocateAll} per handler, each call its own decision exactly as if decided alone.
 */
class QuotaBatchTest {

  /**
   * A test adapter named {@code batch} that implements {@code allocateAll} itself and records each
   * batch it gets (as "label:instance:user:amount" strings). Each label grants {@code limit} units
   * per user, forever. {@code behavior}: {@code count} (default); {@code throw} (allocateAll
   * throws); {@code short} (answers one stage too few); {@code pending} (stages that never
   * complete). A user named {@code bad} gets a failed stage, {@code late} an open stage the test
   * completes ({@link #late}), {@code stuck} one that never completes; the others are answered.
   */
  static final class BatchAdapter implements Adapter {
    final List<List<String>> batches = new CopyOnWriteArrayList<>();
    /** Stages of users named {@code late} (left open for the test) and {@code stuck} (never). */
    final java.util.concurrent.BlockingQueue<CompletableFuture<QuotaResult>> late =
        new java.util.concurrent.LinkedBlockingQueue<>();

    @Override
    public String name() {
      return "batch";
    }

    @Override
    public Set<Template> templates() {
      return Set.of(Template.QUOTA);
    }

    @Override
    public Handler create(Params params, AdapterContext context) {
      long limit = params.integer("limit", 2, 0, Long.MAX_VALUE);
      String behavior = params.string("behavior", "count");
      String label = params.string("label", "");
      params.validate();
      Map<String, Long> used = new HashMap<>();
      return new QuotaHandler() {
        @Override
        public CompletionStage<QuotaResult> allocate(Instance.Quota quota, QuotaRequest request) {
          throw new AssertionError("the engine must call allocateAll");
        }

        @Override
        public synchronized List<CompletionStage<QuotaResult>> allocateAll(List<Allocation> all) {
          batches.add(all.stream().map(a -> label + ":" + a.quota().name() + ":"
              + a.quota().dimensions().get("user") + ":" + a.request().amount()).toList());
          if (behavior.equals("throw")) {
            throw new IllegalStateException("batch blew up");
          }
          List<CompletionStage<QuotaResult>> out = new ArrayList<>();
          for (Allocation a : all) {
            String user = a.quota().dimensions().get("user");
            if (behavior.equals("pending") || "stuck".equals(user)) {
              out.add(new CompletableFuture<>());
            } else if ("late".equals(user)) {
              CompletableFuture<QuotaResult> f = new CompletableFuture<>();
              late.add(f);
              out.add(f);
            } else if ("bad".equals(user)) {
              out.add(CompletableFuture.failedFuture(new IllegalStateException("bad bucket")));
            } else {
              long before = used.getOrDefault(user, 0L);
              long amount = a.request().amount();
              QuotaResult r = before + amount > limit
                  ? new QuotaResult(0, limit, limit - before, Duration.ofSeconds(5), Duration.ofMinutes(1))
                  : new QuotaResult(amount, limit, limit - before - amount, Duration.ofSeconds(5), Duration.ofMinutes(1));
              used.put(user, before + r.granted());
              out.add(CompletableFuture.completedFuture(r));
            }
          }
          return behavior.equals("short") ? out.subList(0, out.size() - 1) : out;
        }
      };
    }
  }

  private final BatchAdapter batch = new BatchAdapter();

  private static final String TWO_HANDLERS =
      """
      handlers:
      - {name: users, adapter: batch, params: {limit: 2, label: u}}
      - {name: paths, adapter: batch, params: {limit: 100, label: p}}
      instances:
      - {name: user, template: quota, params: {dimensions: {user: "ratelimit.descriptor['user']"}}}
      - {name: path, template: quota, params: {dimensions: {user: "ratelimit.descriptor['path']"}}}
      rules:
      - name: limit-users
        match: "'user' in ratelimit.descriptor"
        actions: [{handler: users, instances: [user]}]
      - name: limit-paths
        match: "'path' in ratelimit.descriptor"
        actions: [{handler: paths, instances: [path]}]
      """;

  private static QuotaCall call(String key, String value, long amount) {
    return new QuotaCall(
        AttributeBag.builder().put("ratelimit.descriptor", Map.of(key, value)).build(),
        QuotaRequest.of(amount));
  }

  private static QuotaCall both(String user, String path) {
    return new QuotaCall(
        AttributeBag.builder().put("ratelimit.descriptor", Map.of("user", user, "path", path)).build(),
        QuotaRequest.of(1));
  }

  private static List<QuotaDecision> decide(PolicyEngine engine, List<QuotaCall> calls) {
    try {
      return engine.quota(calls).toCompletableFuture().get(10, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  private static long counter(PolicyEngine engine, String name, String... labels) {
    return engine.services().metrics().counter(name, "", labels).getCount();
  }

  @Test
  void eachHandlerGetsOneBatchWithItsAllocationsInCallOrder() {
    PolicyEngine engine = engine(TWO_HANDLERS, batch);

    List<QuotaDecision> d = decide(engine, List.of(
        call("user", "a", 1), call("path", "/x", 3), call("other", "z", 1), both("b", "/y"),
        call("user", "c", 2)));

    assertThat(batch.batches).containsExactlyInAnyOrder(
        List.of("u:user:a:1", "u:user:b:1", "u:user:c:2"),
        List.of("p:path:/x:3", "p:path:/y:1"));
    assertThat(d).hasSize(5);
    assertThat(d).extracting(QuotaDecision::matchedRules).containsExactly(
        List.of("limit-users"), List.of("limit-paths"), List.of(),
        List.of("limit-users", "limit-paths"), List.of("limit-users"));
    assertThat(d.get(0).outcomes()).singleElement().satisfies(o -> {
      assertThat(o.rule()).isEqualTo("limit-users");
      assertThat(o.handler()).isEqualTo("users");
      assertThat(o.instance()).isEqualTo("user");
      assertThat(o.result().remaining()).isEqualTo(1);
    });
    assertThat(d.get(1).outcomes()).singleElement()
        .satisfies(o -> assertThat(o.result().remaining()).isEqualTo(97));
    assertThat(d.get(2).outcomes()).isEmpty();
    assertThat(d.get(3).outcomes()).extracting(QuotaDecision.Outcome::instance)
        .containsExactly("user", "path");
    assertThat(d).extracting(QuotaDecision::id).doesNotHaveDuplicates()
        .allMatch(id -> id.matches("[0-9a-f]{16}"));
    assertThat(d).extracting(QuotaDecision::configVersion)
        .containsOnly(engine.current().orElseThrow().version());
    assertThat(d).allSatisfy(x -> assertThat(x.errors()).isEmpty());
    assertThat(counter(engine, "arbiter_quota_calls_total", "result", "ok")).isEqualTo(5);
  }

  @Test
  void callsOnOneBucketTakeFromItInListOrder() {
    PolicyEngine engine = engine(TWO_HANDLERS, batch);

    List<QuotaDecision> d = decide(engine,
        List.of(call("user", "a", 1), call("user", "a", 1), call("user", "a", 1)));

    assertThat(batch.batches).hasSize(1);
    assertThat(d).extracting(QuotaDecision::overLimit).containsExactly(false, false, true);
    assertThat(counter(engine, "arbiter_quota_calls_total", "result", "ok")).isEqualTo(2);
    assertThat(counter(engine, "arbiter_quota_calls_total", "result", "over_limit")).isEqualTo(1);
  }

  @Test
  void aFailedAllocationFailsOnlyItsOwnCallByTheFailurePolicy() {
    PolicyEngine closed = engine(TWO_HANDLERS, batch);
    List<QuotaDecision> d = decide(closed, List.of(call("user", "a", 1), call("user", "bad", 1)));
    assertThat(d.get(0).overLimit()).isFalse();
    assertThat(d.get(0).errors()).isEmpty();
    assertThat(d.get(1).overLimit()).isTrue();
    assertThat(d.get(1).errors()).singleElement().asString()
        .isEqualTo("rule 'limit-users': handler 'users': java.lang.IllegalStateException: bad bucket");
    assertThat(counter(closed, "arbiter_quota_errors_total")).isEqualTo(1);

    PolicyEngine open = engine("settings: {failurePolicy: FAIL_OPEN}\n" + TWO_HANDLERS, batch);
    List<QuotaDecision> o = decide(open, List.of(call("user", "bad", 1), call("user", "a", 1)));
    assertThat(o.get(0).overLimit()).isFalse();
    assertThat(o.get(0).outcomes()).isEmpty();
    assertThat(o.get(0).errors()).hasSize(1);
    assertThat(o.get(1).outcomes()).hasSize(1);
  }

  @Test
  void aBatchThatThrowsOrAnswersTheWrongNumberFailsAllItsCallsAndNoOther() {
    for (String behavior : List.of("throw", "short")) {
      BatchAdapter adapter = new BatchAdapter();
      PolicyEngine engine = engine(TWO_HANDLERS.replace("label: u}", "label: u, behavior: " + behavior + "}"), adapter);

      List<QuotaDecision> d = decide(engine,
          List.of(call("user", "a", 1), call("path", "/x", 1), call("user", "b", 1)));

      assertThat(d).extracting(QuotaDecision::overLimit).as(behavior).containsExactly(true, false, true);
      assertThat(d.get(0).errors()).singleElement().asString().as(behavior)
          .contains(behavior.equals("throw") ? "batch blew up" : "allocateAll answered 1 results for 2 allocations");
      assertThat(d.get(1).errors()).isEmpty();
      assertThat(counter(engine, "arbiter_quota_errors_total")).isEqualTo(2);
    }
  }

  @Test
  void aBatchThatNeverAnswersResolvesByTheFailurePolicyAtTheHandlerTimeout() {
    PolicyEngine engine = engine("settings: {handlerTimeout: 50ms}\n"
        + TWO_HANDLERS.replace("label: u}", "label: u, behavior: pending}"), batch);

    List<QuotaDecision> d = decide(engine, List.of(call("user", "a", 1), call("path", "/x", 1)));

    assertThat(d).extracting(QuotaDecision::overLimit).containsExactly(true, false);
    assertThat(d.get(0).errors()).singleElement().asString()
        .isEqualTo("rule 'limit-users': handler 'users': no answer within 50ms");
  }

  @Test
  void inABatchOnlyTheAllocationsStillOpenAtTheDeadlineTimeOut() throws Exception {
    PolicyEngine engine = engine("settings: {handlerTimeout: 2s}\n" + TWO_HANDLERS, batch);

    CompletableFuture<List<QuotaDecision>> pending = engine.quota(List.of(
        call("user", "late", 1), call("user", "stuck", 1), call("user", "a", 1)))
        .toCompletableFuture();
    CompletableFuture<QuotaResult> late = batch.late.poll(10, TimeUnit.SECONDS);
    late.complete(new QuotaResult(1, 9, 8, Duration.ofSeconds(1), Duration.ofMinutes(1)));
    List<QuotaDecision> d = pending.get(30, TimeUnit.SECONDS);

    assertThat(d.get(0).outcomes()).singleElement()
        .satisfies(o -> assertThat(o.result().remaining()).isEqualTo(8));
    assertThat(d.get(0).errors()).isEmpty();
    assertThat(d.get(1).overLimit()).isTrue();
    assertThat(d.get(1).errors()).containsExactly(
        "rule 'limit-users': handler 'users': no answer within 2000ms");
    assertThat(d.get(2).overLimit()).isFalse();
    assertThat(d.get(2).errors()).isEmpty();
  }

  @Test
  void shadowRulesInABatchCountButNeverLimit() {
    PolicyEngine engine = engine(
        TWO_HANDLERS.replace("- name: limit-users", "- name: limit-users\n  shadow: true"), batch);

    List<QuotaDecision> d = decide(engine,
        List.of(call("user", "a", 2), call("user", "a", 1), call("path", "/x", 1)));

    assertThat(d).extracting(QuotaDecision::overLimit).containsExactly(false, false, false);
    assertThat(d.get(1).outcomes()).singleElement().satisfies(o -> {
      assertThat(o.shadow()).isTrue();
      assertThat(o.result().overLimit()).isTrue();
    });
    assertThat(counter(engine, "arbiter_rule_shadow_denials_total", "rule", "limit-users")).isEqualTo(1);
  }

  @Test
  void withNoConfigEveryCallIsOverTheLimit() {
    PolicyEngine engine = new PolicyEngine(TestEngines.services(batch));

    List<QuotaDecision> d = decide(engine, List.of(call("user", "a", 1), call("user", "b", 1)));

    assertThat(d).hasSize(2).allSatisfy(x -> {
      assertThat(x.overLimit()).isTrue();
      assertThat(x.errors()).containsExactly("no config loaded");
    });
    assertThat(d.get(0).id()).isNotEqualTo(d.get(1).id());
  }

  @Test
  void aBatchDecidesExactlyAsTheSameCallsOneByOneWithAHandlerThatDoesNotBatch() {
    String yaml = """
        handlers: [{name: q, adapter: counter, params: {limit: 5}}]
        instances:
        - {name: user, template: quota, params: {dimensions: {user: "ratelimit.descriptor['user']"}}}
        - {name: path, template: quota, params: {dimensions: {path: "ratelimit.descriptor['path']"}}}
        rules:
        - {name: u, match: "'user' in ratelimit.descriptor", actions: [{handler: q, instances: [user]}]}
        - {name: p, match: "'path' in ratelimit.descriptor", actions: [{handler: q, instances: [path]}]}
        """;
    PolicyEngine batched = engine(yaml, new CountingQuotaAdapter());
    PolicyEngine single = engine(yaml, new CountingQuotaAdapter());
    Random random = new Random(7);
    for (int round = 0; round < 40; round++) {
      List<QuotaCall> calls = new ArrayList<>();
      for (int i = random.nextInt(4); i >= 0; i--) {
        calls.add(random.nextBoolean()
            ? call("user", "u" + random.nextInt(3), 1 + random.nextInt(2))
            : both("u" + random.nextInt(3), "/p" + random.nextInt(2)));
      }
      List<QuotaDecision> together = decide(batched, calls);
      List<QuotaDecision> alone = calls.stream()
          .map(c -> single.quota(c.attributes(), c.request()).toCompletableFuture().join())
          .collect(Collectors.toList());
      assertThat(together).as("round %d", round).hasSameSizeAs(alone);
      for (int i = 0; i < alone.size(); i++) {
        assertThat(together.get(i).outcomes()).as("round %d call %d", round, i)
            .isEqualTo(alone.get(i).outcomes());
        assertThat(together.get(i).matchedRules()).isEqualTo(alone.get(i).matchedRules());
      }
    }
  }
}
