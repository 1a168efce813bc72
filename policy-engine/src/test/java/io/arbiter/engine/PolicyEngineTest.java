package io.arbiter.engine;

import static io.arbiter.engine.testing.TestEngines.check;
import static io.arbiter.engine.testing.TestEngines.compile;
import static io.arbiter.engine.testing.TestEngines.engine;
import static org.assertj.core.api.Assertions.assertThat;

import io.arbiter.engine.spi.Code;
import io.arbiter.engine.spi.HeaderValue;
import io.arbiter.engine.spi.Instance;
import io.arbiter.engine.testing.FakeAdapter;
import java.io.StringWriter;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PolicyEngineTest {

  private static AttributeBag request(String path, Map<String, String> headers) {
    return AttributeBag.builder()
        .put("request.path", path)
        .put("request.headers", headers)
        .put("source.ip", "10.0.0.1")
        .build();
  }

  private static final String ISSUE_EXAMPLE =
      """
      handlers:
        - name: deny
          adapter: fake
          params: {behavior: deny, message: forbidden}
      rules:
        - name: admin-needs-user
          match: "request.path.startsWith('/admin') && !('x-user' in request.headers)"
          actions: [{handler: deny}]
        - name: tag-user
          match: "'x-user' in request.headers"
          requestHeadersToAdd: {x-arbiter-user: "request.headers['x-user']"}
      """;

  @Test
  void allowsWhenNoRuleDeniesAndAddsHeadersFromExpressions() {
    PolicyEngine engine = engine(ISSUE_EXAMPLE, new FakeAdapter());
    CheckDecision d = check(engine, request("/admin/x", Map.of("x-user", "alice")));
    assertThat(d.result().allowed()).isTrue();
    assertThat(d.matchedRules()).containsExactly("tag-user");
    assertThat(d.result().requestHeadersToAdd())
        .containsExactly(new HeaderValue("x-arbiter-user", "alice", false));
    assertThat(d.errors()).isEmpty();
    assertThat(d.id()).hasSize(16);
  }

  @Test
  void anyDenyWins() {
    PolicyEngine engine = engine(ISSUE_EXAMPLE, new FakeAdapter());
    CheckDecision d = check(engine, request("/admin/x", Map.of()));
    assertThat(d.result().code()).isEqualTo(Code.PERMISSION_DENIED);
    assertThat(d.result().message()).isEqualTo("forbidden");
    assertThat(d.result().effectiveHttpStatus()).isEqualTo(403);
    assertThat(d.matchedRules()).containsExactly("admin-needs-user");
  }

  @Test
  void emptyConfigAllowsEverything() {
    PolicyEngine engine = engine("", new FakeAdapter());
    CheckDecision d = check(engine, AttributeBag.empty());
    assertThat(d.result().allowed()).isTrue();
    assertThat(d.matchedRules()).isEmpty();
  }

  @Test
  void headerDirectivesMergeInRuleOrder() {
    PolicyEngine engine =
        engine(
            """
            rules:
              - name: first
                requestHeadersToAdd: {x-a: "'1'", x-b: {value: "'b1'", append: true}}
                queryParametersToSet: {q: "'one'"}
              - name: second
                requestHeadersToAdd: {x-a: "'2'"}
                requestHeadersToRemove: [X-Secret]
                responseHeadersToAdd: {x-resp: "string(source.port)"}
                queryParametersToSet: {q: "'two'"}
                queryParametersToRemove: [debug]
            """);
    CheckDecision d = check(engine, AttributeBag.builder().put("source.port", 8080L).build());
    assertThat(d.result().requestHeadersToAdd())
        .containsExactly(
            new HeaderValue("x-a", "1", false),
            new HeaderValue("x-b", "b1", true),
            new HeaderValue("x-a", "2", false));
    assertThat(d.result().requestHeadersToRemove()).containsExactly("x-secret");
    assertThat(d.result().responseHeadersToAdd()).containsExactly(new HeaderValue("x-resp", "8080", false));
    assertThat(d.result().queryParametersToSet()).containsExactly(Map.entry("q", "two"));
    assertThat(d.result().queryParametersToRemove()).containsExactly("debug");
  }

  @Test
  void ruleLevelAllowAndDenyConditions() {
    PolicyEngine engine =
        engine(
            """
            rules:
              - name: read-only
                match: "request.path.startsWith('/api')"
                allow: "request.method in ['GET', 'HEAD']"
                denial: {code: PERMISSION_DENIED, httpStatus: 405, message: "read-only API", body: "no", headers: {Allow: "GET, HEAD"}}
              - name: no-curl
                deny: "request.useragent.startsWith('curl')"
                denial: {code: UNAUTHENTICATED}
            """);
    CheckDecision get = check(engine, AttributeBag.builder().put("request.path", "/api/x").put("request.method", "GET").build());
    assertThat(get.result().allowed()).isTrue();
    CheckDecision post = check(engine, AttributeBag.builder().put("request.path", "/api/x").put("request.method", "POST").build());
    assertThat(post.result().code()).isEqualTo(Code.PERMISSION_DENIED);
    assertThat(post.result().effectiveHttpStatus()).isEqualTo(405);
    assertThat(post.result().body()).isEqualTo("no");
    assertThat(post.result().responseHeadersToAdd()).containsExactly(new HeaderValue("allow", "GET, HEAD", false));
    CheckDecision curl = check(engine, AttributeBag.builder().put("request.useragent", "curl/8").build());
    assertThat(curl.result().code()).isEqualTo(Code.UNAUTHENTICATED);
    assertThat(curl.result().effectiveHttpStatus()).isEqualTo(401);
    assertThat(curl.result().message()).isEqualTo("denied by rule 'no-curl'");
  }

  @Test
  void absentAttributesReadAsZeroValues() {
    PolicyEngine engine =
        engine(
            """
            rules:
              - name: tcp-only-has-no-path
                deny: "request.path != '' || source.port != 0 || size(request.headers) != 0"
            """);
    assertThat(check(engine, AttributeBag.empty()).result().allowed()).isTrue();
  }

  @Test
  void runtimeErrorFailsClosedByDefault() {
    PolicyEngine engine =
        engine(
            """
            rules:
              - name: needs-header
                match: "request.headers['x-missing'] == 'a'"
                deny: "true"
            """);
    CheckDecision d = check(engine, request("/", Map.of()));
    assertThat(d.result().code()).isEqualTo(Code.UNAVAILABLE);
    assertThat(d.result().effectiveHttpStatus()).isEqualTo(403);
    assertThat(d.result().message()).contains(d.id());
    assertThat(d.errors()).singleElement().asString().contains("needs-header", "no such key: x-missing");
    assertThat(d.result().validDuration()).isEqualTo(Duration.ZERO);
  }

  @Test
  void runtimeErrorFailsOpenWhenConfigured() {
    PolicyEngine engine =
        engine(
            """
            settings: {failurePolicy: FAIL_OPEN}
            rules:
              - name: divides
                match: "1 / (source.port - 80) == 1"
            """);
    CheckDecision d = check(engine, AttributeBag.builder().put("source.port", 80L).build());
    assertThat(d.result().allowed()).isTrue();
    assertThat(d.errors()).singleElement().asString().contains("division by zero");
  }

  @Test
  void failOpenStillLetsAnotherRuleDeny() {
    PolicyEngine engine =
        engine(
            """
            settings: {failurePolicy: FAIL_OPEN}
            rules:
              - name: broken
                match: "request.headers['nope'] == 'x'"
              - name: deny-all
                deny: "true"
            """);
    assertThat(check(engine, AttributeBag.empty()).result().code()).isEqualTo(Code.PERMISSION_DENIED);
  }

  @Test
  void runawayComprehensionIsStoppedByTheIterationBudget() {
    PolicyEngine engine =
        engine(
            """
            settings: {celMaxIterations: 100}
            rules:
              - name: expensive
                match: "[1,2,3,4,5,6,7,8,9,10].all(x, [1,2,3,4,5,6,7,8,9,10].all(y, [1,2,3,4,5,6,7,8,9,10].all(z, x + y + z > 0)))"
            """);
    CheckDecision d = check(engine, AttributeBag.empty());
    assertThat(d.result().code()).isEqualTo(Code.UNAVAILABLE);
    assertThat(d.errors()).singleElement().asString().contains("budget");
  }

  @Test
  void handlerFailureThrowAndTimeoutEachResolveByFailurePolicy() {
    for (String behavior : new String[] {"fail", "throw", "hang", "null"}) {
      PolicyEngine engine =
          engine(
              """
              settings: {handlerTimeout: 50ms}
              handlers: [{name: h, adapter: fake, params: {behavior: "%s"}}]
              rules: [{name: r, actions: [{handler: h}]}]
              """.formatted(behavior),
              new FakeAdapter());
      CheckDecision d = check(engine, AttributeBag.empty());
      assertThat(d.result().code()).as(behavior).isEqualTo(Code.UNAVAILABLE);
      assertThat(d.errors()).as(behavior).singleElement().asString().contains("handler 'h'");
    }
  }

  @Test
  void instancesAreBuiltFromExpressionsAndPassedToHandlers() {
    FakeAdapter fake = new FakeAdapter();
    PolicyEngine engine =
        engine(
            """
            handlers: [{name: h, adapter: fake}]
            instances:
              - name: ip
                template: listentry
                params: {value: source.ip}
              - name: authz
                template: authorization
                params:
                  subject: {user: "request.headers['x-user']", properties: {port: "source.port"}}
                  action: {method: request.method, path: request.path}
            rules: [{name: r, actions: [{handler: h, instances: [ip, authz]}]}]
            """,
            fake);
    check(engine, AttributeBag.builder()
        .put("source.ip", "192.0.2.7").put("source.port", 5L).put("request.method", "GET")
        .put("request.path", "/p").put("request.headers", Map.of("x-user", "bob")).build());
    assertThat(fake.seen)
        .containsExactly(
            new Instance.ListEntry("ip", "192.0.2.7"),
            new Instance.Authorization(
                "authz",
                new Instance.Subject("bob", "", Map.of("port", 5L)),
                new Instance.Action("", "", "GET", "/p", Map.of())));
  }

  @Test
  void unchangedHandlersAreReusedAndReplacedOnesClosed() throws Exception {
    FakeAdapter fake = new FakeAdapter();
    String v1 =
        """
        handlers: [{name: a, adapter: fake}, {name: b, adapter: fake, params: {message: one}}]
        """;
    String v2 =
        """
        handlers: [{name: a, adapter: fake}, {name: b, adapter: fake, params: {message: two}}]
        rules: [{name: r, actions: [{handler: b}]}]
        """;
    PolicyEngine engine = engine(v1, fake);
    assertThat(fake.created).hasValue(2);
    var next = compile(engine, v2);
    assertThat(fake.created).hasValue(3);
    assertThat(next.handlers().get("a").handler())
        .isSameAs(engine.current().orElseThrow().handlers().get("a").handler());
    engine.apply(next);
    assertThat(engine.current().orElseThrow().version()).isEqualTo(next.version());
    // the replaced handler closes after the grace period; the reused one never does
    long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
    while (fake.closed.get() == 0 && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertThat(fake.closed).hasValue(1);
  }

  @Test
  void metricsCountDecisionsAndRules() {
    PolicyEngine engine = engine(ISSUE_EXAMPLE, new FakeAdapter());
    check(engine, request("/admin", Map.of()));
    check(engine, request("/", Map.of("x-user", "a")));
    StringWriter out = new StringWriter();
    engine.services().metrics().writePrometheus(out);
    assertThat(out.toString())
        .contains("arbiter_checks_total{result=\"allow\"} 1")
        .contains("arbiter_checks_total{result=\"deny\"} 1")
        .contains("arbiter_rule_matches_total{rule=\"admin-needs-user\"} 1")
        .contains("# TYPE arbiter_check_duration_seconds histogram")
        .contains("arbiter_check_duration_seconds_count 2");
  }

  @Test
  void withoutConfigEveryCheckFailsClosed() {
    PolicyEngine engine = new PolicyEngine(io.arbiter.engine.testing.TestEngines.services());
    CheckDecision d = check(engine, AttributeBag.empty());
    assertThat(d.result().code()).isEqualTo(Code.UNAVAILABLE);
    assertThat(d.errors()).containsExactly("no config loaded");
  }
}
