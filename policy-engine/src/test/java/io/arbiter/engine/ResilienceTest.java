package io.arbiter.engine;

import static io.arbiter.engine.testing.TestEngines.check;
import static io.arbiter.engine.testing.TestEngines.compile;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.arbiter.engine.config.ConfigException;
import io.arbiter.engine.metrics.Metrics;
import io.arbiter.engine.spi.Code;
import io.arbiter.engine.testing.FlappingAdapter;
import io.arbiter.engine.testing.MutableClock;
import java.io.StringWriter;
import java.time.Duration;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Deadlines, circuit breakers and stale results: a failing backend behind a check handler. */
class ResilienceTest {
  private final FlappingAdapter backend = new FlappingAdapter();
  private final MutableClock clock = new MutableClock();
  private final Metrics metrics = new Metrics();

  private PolicyEngine engine(String resilience) {
    PolicyEngine engine = new PolicyEngine(EngineServices.create(Map.of("flap", backend), clock, metrics));
    try {
      engine.apply(compile(engine,
          """
          handlers:
            - name: users
              adapter: flap
              resilience: %s
          instances:
            - name: user
              template: listentry
              params: {value: "request.headers[?'x-user'].orValue('')"}
          rules:
            - name: users
              actions: [{handler: users, instances: [user]}]
          """.formatted(resilience)));
    } catch (ConfigException e) {
      throw new AssertionError(e);
    }
    return engine;
  }

  private static AttributeBag user(String name) {
    return AttributeBag.builder().put("request.headers", Map.of("x-user", name)).build();
  }

  private double metric(String series) {
    StringWriter out = new StringWriter();
    metrics.writePrometheus(out);
    for (String line : out.toString().split("\n")) {
      if (line.startsWith(series + " ")) {
        return Double.parseDouble(line.substring(series.length() + 1));
      }
    }
    throw new AssertionError("no series " + series + " in\n" + out);
  }

  @Test
  void theBreakerOpensAfterConsecutiveFailuresProbesAfterItsPeriodAndClosesOnSuccess() {
    PolicyEngine engine = engine("{breakerFailures: 3, breakerOpenFor: 10s}");
    backend.mode.set("fail");
    for (int i = 0; i < 3; i++) {
      CheckDecision d = check(engine, user("alice"));
      assertThat(d.result().code()).isEqualTo(Code.UNAVAILABLE);
      assertThat(d.errors()).singleElement().asString().contains("backend down");
    }
    assertThat(backend.calls).hasValue(3);
    assertThat(metric("arbiter_handler_breaker_state{handler=\"users\"}")).isEqualTo(1);

    CheckDecision shorted = check(engine, user("alice"));
    assertThat(backend.calls).as("open: the backend is not called").hasValue(3);
    assertThat(shorted.result().code()).isEqualTo(Code.UNAVAILABLE);
    assertThat(shorted.errors()).singleElement().asString().contains("circuit breaker open");
    assertThat(metric("arbiter_handler_short_circuited_total{handler=\"users\"}")).isEqualTo(1);

    clock.advance(Duration.ofSeconds(10));
    backend.mode.set("ok");
    CheckDecision probe = check(engine, user("alice"));
    assertThat(probe.result().allowed()).isTrue();
    assertThat(backend.calls).hasValue(4);
    assertThat(metric("arbiter_handler_breaker_state{handler=\"users\"}")).isZero();
    assertThat(metric("arbiter_handler_breaker_opened_total{handler=\"users\"}")).isEqualTo(1);
  }

  @Test
  void aFailedProbeOpensTheBreakerAgain() {
    PolicyEngine engine = engine("{breakerFailures: 1, breakerOpenFor: 5s}");
    backend.mode.set("fail");
    check(engine, user("alice"));
    clock.advance(Duration.ofSeconds(5));
    check(engine, user("alice"));
    assertThat(backend.calls).as("one probe").hasValue(2);
    check(engine, user("alice"));
    assertThat(backend.calls).as("open again").hasValue(2);
    assertThat(metric("arbiter_handler_breaker_opened_total{handler=\"users\"}")).isEqualTo(2);
  }

  @Test
  void aDenialIsAnAnswerNotAFailure() {
    PolicyEngine engine = engine("{breakerFailures: 1}");
    for (int i = 0; i < 3; i++) {
      assertThat(check(engine, user("mallory")).result().code()).isEqualTo(Code.PERMISSION_DENIED);
    }
    assertThat(backend.calls).hasValue(3);
    assertThat(metric("arbiter_handler_breaker_state{handler=\"users\"}")).isZero();
  }

  @Test
  void theLastGoodResultPerInstanceStandsInForItsStalePeriodThenTheFailurePolicy() {
    PolicyEngine engine = engine("{breakerFailures: 2, breakerOpenFor: 1m, staleFor: 30s}");
    assertThat(check(engine, user("alice")).result().allowed()).isTrue();
    assertThat(check(engine, user("mallory")).result().code()).isEqualTo(Code.PERMISSION_DENIED);
    backend.mode.set("fail");
    clock.advance(Duration.ofSeconds(20));

    CheckDecision alice = check(engine, user("alice")); // fails, served stale
    assertThat(alice.result().allowed()).isTrue();
    assertThat(alice.failed()).isFalse();
    CheckDecision mallory = check(engine, user("mallory")); // fails, breaker opens, served stale
    assertThat(mallory.result().code()).isEqualTo(Code.PERMISSION_DENIED);
    CheckDecision bob = check(engine, user("bob")); // short-circuited, nothing stale: fail-closed
    assertThat(bob.result().code()).isEqualTo(Code.UNAVAILABLE);
    assertThat(check(engine, user("alice")).result().allowed()).as("short-circuited, stale").isTrue();
    assertThat(backend.calls).hasValue(4);
    assertThat(metric("arbiter_handler_stale_served_total{handler=\"users\"}")).isEqualTo(3);

    clock.advance(Duration.ofSeconds(10));
    CheckDecision late = check(engine, user("alice"));
    assertThat(late.result().code()).as("30s after the last good answer").isEqualTo(Code.UNAVAILABLE);
  }

  @Test
  void aHangingBackendMeetsTheHandlersOwnDeadline() {
    PolicyEngine engine = engine("{timeout: 30ms, breakerFailures: 0}");
    backend.mode.set("hang");
    for (int i = 0; i < 3; i++) {
      CheckDecision d = check(engine, user("alice"));
      assertThat(d.result().code()).isEqualTo(Code.UNAVAILABLE);
      assertThat(d.errors()).singleElement().asString().contains("no answer within 30ms");
    }
    assertThat(backend.calls).as("breaker off: every call is tried").hasValue(3);
  }

  @Test
  void aFlappingBackendNeverBreaksADecision() {
    PolicyEngine engine = engine("{timeout: 5ms, breakerFailures: 3, breakerOpenFor: 1s, staleFor: 2s}");
    Random r = new Random(7);
    String[] modes = {"ok", "fail", "hang", "ok"};
    for (int i = 0; i < 300; i++) {
      if (i % 10 == 0) {
        backend.mode.set(modes[r.nextInt(modes.length)]);
      }
      clock.advance(Duration.ofMillis(r.nextInt(300)));
      CheckDecision d = check(engine, user(r.nextBoolean() ? "alice" : "mallory"));
      assertThat(d.result().code()).isIn(Code.OK, Code.PERMISSION_DENIED, Code.UNAVAILABLE);
      if (d.result().code() == Code.UNAVAILABLE) {
        assertThat(d.errors()).isNotEmpty();
      }
    }
  }

  @Test
  void checksBeyondTheConcurrencyBoundAreShedAtOnceByTheFailurePolicy() throws Exception {
    PolicyEngine engine = engine("{timeout: 5s, breakerFailures: 0}\nsettings:\n  overload: {maxConcurrentChecks: 2}");
    backend.mode.set("hang");
    var first = engine.check(user("a")).toCompletableFuture();
    var second = engine.check(user("b")).toCompletableFuture();
    assertThat(metric("arbiter_checks_in_flight")).isEqualTo(2);
    assertThat(metric("arbiter_checks_concurrency_limit")).isEqualTo(2);
    var third = engine.check(user("c")).toCompletableFuture();
    assertThat(third).as("answered without waiting").isDone();
    CheckDecision shed = third.get();
    assertThat(shed.result().code()).isEqualTo(Code.UNAVAILABLE);
    assertThat(shed.errors()).singleElement().asString().contains("maxConcurrentChecks");
    assertThat(metric("arbiter_checks_shed_total{reason=\"concurrency\"}")).isEqualTo(1);
    assertThat(backend.calls).hasValue(2);
    assertThat(first).isNotDone();
    assertThat(second).isNotDone();
  }

  @Test
  void aCheckThatWaitedTooLongIsShedUnlessTheCacheAnswersIt() {
    PolicyEngine engine = new PolicyEngine(EngineServices.create(
        Map.of("fake", new io.arbiter.engine.testing.FakeAdapter()), clock, metrics));
    try {
      engine.apply(compile(engine,
          """
          settings:
            overload: {maxQueueTime: 100ms}
          handlers:
            - name: ok
              adapter: fake
          rules:
            - name: r
              match: "request.headers['x-user'] != 'nobody'"
              actions: [{handler: ok}]
          """));
    } catch (ConfigException e) {
      throw new AssertionError(e);
    }
    long longAgo = Duration.ofMillis(150).toNanos();
    CheckDecision late = engine.check(user("alice"), longAgo).toCompletableFuture().join();
    assertThat(late.result().code()).isEqualTo(Code.UNAVAILABLE);
    assertThat(late.errors()).singleElement().asString().contains("maxQueueTime 100ms");
    assertThat(metric("arbiter_checks_shed_total{reason=\"queue\"}")).isEqualTo(1);

    assertThat(check(engine, user("alice")).result().allowed()).isTrue();
    CheckDecision cachedLate = engine.check(user("alice"), longAgo).toCompletableFuture().join();
    assertThat(cachedLate.cached()).isTrue();
    assertThat(cachedLate.result().allowed()).isTrue();
  }

  @Test
  void badResilienceSettingsAreConfigErrors() {
    PolicyEngine engine = new PolicyEngine(EngineServices.create(Map.of("flap", backend), clock, metrics));
    assertThatThrownBy(() -> compile(engine,
        """
        handlers:
          - name: users
            adapter: flap
            resilience: {timeout: 0s, breakerFailures: -1, staleFor: 2d, colour: blue}
        """))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("resilience.timeout")
        .hasMessageContaining("resilience.breakerFailures")
        .hasMessageContaining("resilience.staleFor")
        .hasMessageContaining("colour");
  }
}
