package io.arbiter.engine;

import static io.arbiter.engine.testing.TestEngines.check;
import static io.arbiter.engine.testing.TestEngines.engine;
import static org.assertj.core.api.Assertions.assertThat;

import io.arbiter.engine.spi.Code;
import io.arbiter.engine.spi.HeaderValue;
import io.arbiter.engine.spi.Instance;
import io.arbiter.engine.spi.QuotaRequest;
import io.arbiter.engine.testing.CountingQuotaAdapter;
import io.arbiter.engine.testing.FakeAdapter;
import io.arbiter.engine.testing.RecordingReportAdapter;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** One rules list serves checks, reports and quota calls; each variety runs only its own instances. */
class ReportAndQuotaTest {
  private final RecordingReportAdapter recorder = new RecordingReportAdapter();
  private final CountingQuotaAdapter counter = new CountingQuotaAdapter();

  private static final String TELEMETRY =
      """
      handlers:
        - {name: sink, adapter: recorder}
        - {name: deny, adapter: fake, params: {behavior: deny}}
      instances:
        - name: request-count
          template: metric
          params: {value: "1", dimensions: {destination: destination.service.host, code: response.code}}
        - name: request-duration
          template: metric
          params: {value: response.duration, dimensions: {destination: destination.service.host}}
        - name: access
          template: logentry
          params:
            severity: "response.code >= 500 ? 'ERROR' : 'INFO'"
            variables: {path: request.path, code: response.code, user: "request.headers['x-user']"}
      rules:
        - name: http-metrics
          match: "context.protocol == 'http'"
          actions: [{handler: sink, instances: [request-count, request-duration, access]}]
        - name: deny-admin
          match: "request.path.startsWith('/admin')"
          actions: [{handler: deny}]
      """;

  private static AttributeBag entry(String path, long code, Map<String, String> headers) {
    return AttributeBag.builder()
        .put("context.protocol", "http")
        .put("destination.service.host", "api")
        .put("request.path", path)
        .put("request.time", Instant.parse("2026-11-26T10:00:00Z"))
        .put("request.headers", headers)
        .put("response.code", code)
        .put("response.duration", Duration.ofMillis(250))
        .build();
  }

  private static ReportOutcome report(PolicyEngine engine, List<AttributeBag> bags) {
    return engine.report(bags).toCompletableFuture().join();
  }

  @Test
  void reportsBuildMetricAndLogInstancesAndBatchThemPerHandler() {
    PolicyEngine engine = engine(TELEMETRY, recorder, new FakeAdapter());
    ReportOutcome outcome = report(engine, List.of(
        entry("/a", 200, Map.of("x-user", "alice")), entry("/admin", 503, Map.of("x-user", "bob"))));
    assertThat(outcome).isEqualTo(new ReportOutcome(2, 6, 0, 0));
    assertThat(recorder.batches).hasSize(1);
    assertThat(recorder.all()).containsExactly(
        new Instance.Metric("request-count", 1L, Map.of("destination", "api", "code", "200")),
        new Instance.Metric("request-duration", 0.25, Map.of("destination", "api")),
        new Instance.LogEntry("access", "INFO", Instant.parse("2026-11-26T10:00:00Z"),
            Map.of("path", "/a", "code", 200L, "user", "alice")),
        new Instance.Metric("request-count", 1L, Map.of("destination", "api", "code", "503")),
        new Instance.Metric("request-duration", 0.25, Map.of("destination", "api")),
        new Instance.LogEntry("access", "ERROR", Instant.parse("2026-11-26T10:00:00Z"),
            Map.of("path", "/admin", "code", 503L, "user", "bob")));
    // the check-only rule was not evaluated on reports, the report-only rule not on checks
    assertThat(engine.services().metrics().counter("arbiter_rule_matches_total", "", "rule", "deny-admin").getCount()).isZero();
    CheckDecision d = check(engine, entry("/a", 0, Map.of()));
    assertThat(d.matchedRules()).isEmpty();
    assertThat(recorder.batches).hasSize(1);
  }

  @Test
  void aFailingExpressionSkipsOnlyItsInstance() {
    PolicyEngine engine = engine(TELEMETRY, recorder, new FakeAdapter());
    ReportOutcome outcome = report(engine, List.of(entry("/a", 200, Map.of())));
    assertThat(outcome).isEqualTo(new ReportOutcome(1, 2, 1, 0));
    assertThat(recorder.all()).extracting(Instance::name).containsExactly("request-count", "request-duration");
  }

  @Test
  void aFailingOrHangingHandlerFailsOnlyItsBatch() {
    for (String how : List.of("fail", "hang")) {
      PolicyEngine engine = engine("""
          settings: {reportTimeout: 50ms}
          handlers: [{name: bad, adapter: recorder, params: {%s: true}}, {name: good, adapter: recorder}]
          instances: [{name: n, template: metric, params: {value: "1"}}]
          rules: [{name: r, actions: [{handler: bad, instances: [n]}, {handler: good, instances: [n]}]}]
          """.formatted(how), recorder);
      assertThat(report(engine, List.of(AttributeBag.empty()))).as(how).isEqualTo(new ReportOutcome(1, 2, 0, 1));
    }
    assertThat(recorder.batches).hasSize(2);
  }

  @Test
  void samplingCapsReportsPerSecond() {
    PolicyEngine engine = engine("""
        handlers: [{name: sink, adapter: recorder}]
        instances: [{name: n, template: metric, params: {value: "1"}}]
        rules: [{name: r, sampling: {maxPerSecond: 3}, actions: [{handler: sink, instances: [n]}]}]
        """, recorder);
    ReportOutcome outcome = report(engine, java.util.Collections.nCopies(10, AttributeBag.empty()));
    // ten reports within one second (a wall-clock second boundary may let through up to 3 more)
    assertThat(outcome.instances()).isBetween(3, 6);
  }

  private static final String QUOTA =
      """
      handlers: [{name: q, adapter: counter, params: {limit: 2}}]
      instances: [{name: per-user, template: quota, params: {dimensions: {user: "ratelimit.descriptor['user']"}}}]
      rules:
        - name: limit-users
          match: "ratelimit.domain == 'edge' && 'user' in ratelimit.descriptor"
          actions: [{handler: q, instances: [per-user]}]
      """;

  private static AttributeBag descriptor(String domain, String user) {
    return AttributeBag.builder().put("ratelimit.domain", domain).put("ratelimit.descriptor", Map.of("user", user)).build();
  }

  private static QuotaDecision quota(PolicyEngine engine, AttributeBag bag, long amount) {
    return engine.quota(bag, QuotaRequest.of(amount)).toCompletableFuture().join();
  }

  @Test
  void quotaCallsAllocateFromTheMatchingRulesInstances() {
    PolicyEngine engine = engine(QUOTA, counter);
    assertThat(quota(engine, descriptor("edge", "a"), 1).overLimit()).isFalse();
    QuotaDecision second = quota(engine, descriptor("edge", "a"), 1);
    assertThat(second.overLimit()).isFalse();
    assertThat(second.outcomes()).singleElement().satisfies(o -> assertThat(o.result().remaining()).isZero());
    assertThat(quota(engine, descriptor("edge", "a"), 1).overLimit()).isTrue();
    assertThat(quota(engine, descriptor("edge", "b"), 2).overLimit()).isFalse();
    QuotaDecision other = quota(engine, descriptor("other", "a"), 1);
    assertThat(other.outcomes()).isEmpty();
    assertThat(other.overLimit()).isFalse();
    assertThat(other.matchedRules()).isEmpty();
  }

  @Test
  void shadowModeCountsButNeverLimits() {
    PolicyEngine engine = engine(QUOTA.replace("- name: limit-users", "- name: limit-users\n    shadow: true"), counter);
    for (int i = 0; i < 4; i++) {
      assertThat(quota(engine, descriptor("edge", "a"), 1).overLimit()).isFalse();
    }
    assertThat(engine.services().metrics().counter("arbiter_rule_shadow_denials_total", "", "rule", "limit-users").getCount())
        .isEqualTo(2);
  }

  @Test
  void aFailingQuotaHandlerResolvesByTheFailurePolicy() {
    String failing = QUOTA.replace("params: {limit: 2}", "params: {fail: true}");
    assertThat(quota(engine(failing, counter), descriptor("edge", "a"), 1).overLimit()).isTrue();
    QuotaDecision open = quota(engine("settings: {failurePolicy: FAIL_OPEN}\n" + failing, counter), descriptor("edge", "a"), 1);
    assertThat(open.overLimit()).isFalse();
    assertThat(open.errors()).singleElement().asString().contains("store down");
  }

  @Test
  void checksCanConsumeQuotaAndGet429WithRateLimitHeaders() {
    PolicyEngine engine = engine("""
        handlers: [{name: q, adapter: counter, params: {limit: 1}}]
        instances: [{name: per-ip, template: quota, params: {dimensions: {ip: source.ip}}}]
        rules: [{name: limit-ips, actions: [{handler: q, instances: [per-ip]}]}]
        """, counter);
    AttributeBag bag = AttributeBag.builder().put("source.ip", "10.0.0.1").build();
    CheckDecision first = check(engine, bag);
    assertThat(first.result().allowed()).isTrue();
    assertThat(first.result().validDuration()).isEqualTo(Duration.ZERO);
    CheckDecision second = check(engine, bag);
    assertThat(second.result().code()).isEqualTo(Code.RESOURCE_EXHAUSTED);
    assertThat(second.result().effectiveHttpStatus()).isEqualTo(429);
    assertThat(second.result().responseHeadersToAdd()).containsExactly(
        new HeaderValue("ratelimit-limit", "1", false),
        new HeaderValue("ratelimit-remaining", "0", false),
        new HeaderValue("ratelimit-reset", "30", false));
  }

  @Test
  void aRuleMixingVarietiesRunsEachOnItsOwnCalls() {
    PolicyEngine engine = engine("""
        handlers: [{name: sink, adapter: recorder}, {name: q, adapter: counter, params: {limit: 5}}]
        instances:
          - {name: n, template: metric, params: {value: "1"}}
          - {name: per-ip, template: quota, params: {dimensions: {ip: source.ip}}}
        rules:
          - name: both
            actions: [{handler: sink, instances: [n]}, {handler: q, instances: [per-ip]}]
        """, recorder, counter);
    assertThat(check(engine, AttributeBag.empty()).matchedRules()).containsExactly("both");
    assertThat(recorder.batches).isEmpty();
    assertThat(report(engine, List.of(AttributeBag.empty())).instances()).isEqualTo(1);
  }
}
