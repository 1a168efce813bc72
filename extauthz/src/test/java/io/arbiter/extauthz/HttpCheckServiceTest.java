package io.arbiter.extauthz;

import static org.assertj.core.api.Assertions.assertThat;

import io.arbiter.engine.PolicyEngine;
import io.arbiter.extauthz.HttpCheckResponse.Header;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The HTTP-mode contract over a real engine: status, headers and body for each kind of decision. */
class HttpCheckServiceTest {
  private static final String RULES =
      """
      rules:
      - name: admin-needs-user
        match: "request.path.startsWith('/admin') && !('x-user' in request.headers)"
        deny: "true"
        denial:
          code: UNAUTHENTICATED
          message: sign in first
          body: no x-user
          headers:
            www-authenticate: 'Bearer realm="shop"'
      - name: tag-user
        match: "'x-user' in request.headers"
        requestHeadersToAdd:
          x-arbiter-user: "request.headers['x-user']"
          x-arbiter-trace: {value: "'t-' + request.id", append: true}
        requestHeadersToRemove: [authorization, cookie]
        responseHeadersToAdd:
          x-served-by: "'arbiter'"
      - name: from-the-office
        match: "request.path == '/office'"
        allow: "source.ip == '192.0.2.10'"
      """;

  private PolicyEngine engine;

  @AfterEach
  void stop() {
    if (engine != null) {
      engine.close();
      engine.services().close();
    }
  }

  private HttpCheckService start(String yaml, GateAdapter... adapters) {
    engine = Engines.engine(yaml, adapters);
    return new HttpCheckService(engine);
  }

  private static HttpCheckResponse check(HttpCheckService service, String method, String path,
      Map<String, List<String>> headers) throws Exception {
    return service
        .check(new HttpCheckRequest(method, path, headers, null,
            new InetSocketAddress(InetAddress.getLoopbackAddress(), 50000)))
        .toCompletableFuture()
        .get(10, TimeUnit.SECONDS);
  }

  private static String decisionId(HttpCheckResponse response) {
    String id = response.header("x-arbiter-decision-id");
    assertThat(id).matches("[0-9a-f]{16}");
    return id;
  }

  @Test
  void allowCarriesTheDirectivesAsResponseHeaders() throws Exception {
    HttpCheckService service = start(RULES);

    HttpCheckResponse response =
        check(service, "GET", "/api/items",
            Map.of("X-User", List.of("alice"), "x-request-id", List.of("r-1")));

    String id = decisionId(response);
    assertThat(response.status()).isEqualTo(200);
    assertThat(response.headers())
        .containsExactly(
            new Header("x-arbiter-user", "alice"),
            new Header("x-arbiter-trace", "t-r-1"),
            new Header("x-envoy-auth-headers-to-remove", "authorization,cookie"),
            new Header("x-served-by", "arbiter"),
            new Header("x-arbiter-decision-id", id),
            new Header("x-arbiter-matched-rules", "tag-user"));
    assertThat(response.body()).isEmpty();
  }

  @Test
  void allowWithoutMatchedRulesSendsOnlyTheDecisionId() throws Exception {
    HttpCheckService service = start(RULES);

    HttpCheckResponse response = check(service, "GET", "/", Map.of());

    assertThat(response.status()).isEqualTo(200);
    assertThat(response.headers())
        .containsExactly(new Header("x-arbiter-decision-id", decisionId(response)));
  }

  @Test
  void denialCarriesItsStatusHeadersAndBodyButNotTheRules() throws Exception {
    HttpCheckService service = start(RULES);

    HttpCheckResponse response = check(service, "GET", "/admin/users?x=1", Map.of());

    String id = decisionId(response);
    assertThat(response.status()).isEqualTo(401);
    assertThat(response.headers())
        .containsExactly(
            new Header("www-authenticate", "Bearer realm=\"shop\""),
            new Header("x-arbiter-decision-id", id),
            new Header("content-type", "text/plain; charset=utf-8"));
    assertThat(response.bodyText()).isEqualTo("no x-user");
  }

  @Test
  void sourceIpComesFromForwardedFor() throws Exception {
    HttpCheckService service = start(RULES);

    HttpCheckResponse office =
        check(service, "GET", "/office", Map.of("X-Forwarded-For", List.of("198.51.100.1, 192.0.2.10")));
    HttpCheckResponse spoofed =
        check(service, "GET", "/office", Map.of("X-Forwarded-For", List.of("192.0.2.10, 198.51.100.1")));
    HttpCheckResponse direct = check(service, "GET", "/office", Map.of());

    assertThat(office.status()).isEqualTo(200);
    assertThat(spoofed.status()).isEqualTo(403);
    assertThat(direct.status()).isEqualTo(403);
    assertThat(spoofed.bodyText()).isEmpty();
    assertThat(spoofed.header("content-type")).isNull();
  }

  @Test
  void aDenialWhoseStatusWouldReadAsAnAllowIsSentAs403() throws Exception {
    HttpCheckService service = start(
        """
        rules:
        - name: odd
          deny: "true"
          denial: {httpStatus: 204, body: "{}", headers: {content-type: application/json}}
        """);

    HttpCheckResponse response = check(service, "GET", "/", Map.of());

    assertThat(response.status()).isEqualTo(403);
    assertThat(response.header("content-type")).isEqualTo("application/json");
    assertThat(response.headers()).extracting(Header::name).containsOnlyOnce("content-type");
    assertThat(response.bodyText()).isEqualTo("{}");
  }

  @Test
  void aRequestOverALimitIsRejectedLikeInGrpcMode() throws Exception {
    HttpCheckService service = start(
        """
        settings: {maxHeaders: 3}
        rules:
        - name: tag
          requestHeadersToAdd: {x-tagged: "'yes'"}
        """);

    HttpCheckResponse response =
        check(service, "GET", "/", Map.of("x-a", List.of("1", "2"), "x-b", List.of("3", "4")));

    decisionId(response);
    assertThat(response.status()).isEqualTo(431);
    assertThat(response.bodyText()).isEqualTo("request has 4 headers, more than the limit of 3\n");
    assertThat(Engines.counter(engine.services().metrics(), "arbiter_check_rejected_total",
        "reason", "too_many_headers")).isEqualTo(1);
  }

  @Test
  void aHeaderValueHttpCannotCarryGetsTheFailureOutcome() throws Exception {
    HttpCheckService service = start(
        """
        settings: {failureHttpStatus: 503}
        rules:
        - name: echo-body
          requestHeadersToAdd: {x-body: request.body}
        """);

    HttpCheckResponse response =
        service
            .check(new HttpCheckRequest("POST", "/", Map.of(), "line1\r\nx-evil: 1".getBytes(), null))
            .toCompletableFuture()
            .get(10, TimeUnit.SECONDS);

    decisionId(response);
    assertThat(response.status()).isEqualTo(503);
    assertThat(response.headers()).extracting(Header::name).doesNotContain("x-body", "x-evil");
    assertThat(Engines.counter(engine.services().metrics(), "arbiter_extauthz_internal_errors_total"))
        .isEqualTo(1);
  }

  @Test
  void aRuntimeErrorFailsClosedAndOpenAsConfigured() throws Exception {
    String broken =
        """
        rules:
        - name: broken
          match: "request.headers['x-missing'] == 'a'"
        """;
    HttpCheckResponse closed = check(start(broken), "GET", "/", Map.of());
    stop();
    HttpCheckResponse open =
        check(start("settings: {failurePolicy: FAIL_OPEN}\n" + broken), "GET", "/", Map.of());

    decisionId(closed);
    assertThat(closed.status()).isEqualTo(403);
    assertThat(open.status()).isEqualTo(200);
    decisionId(open);
  }

  @Test
  void queryParameterDirectivesAreCountedAsUnapplied() throws Exception {
    HttpCheckService service = start(
        """
        rules:
        - name: strip-token
          queryParametersToRemove: [token]
        """);

    HttpCheckResponse response = check(service, "GET", "/?token=secret", Map.of());

    assertThat(response.status()).isEqualTo(200);
    assertThat(Engines.counter(engine.services().metrics(), "arbiter_http_check_unapplied_total",
        "directive", "queryParametersToRemove")).isEqualTo(1);
    assertThat(Engines.counter(engine.services().metrics(), "arbiter_http_check_unapplied_total",
        "directive", "queryParametersToSet")).isZero();
  }

  @Test
  void answersWhenASlowHandlerCompletes() throws Exception {
    GateAdapter gate = new GateAdapter();
    HttpCheckService service = start(
        """
        settings: {handlerTimeout: 10s}
        handlers:
        - {name: g, adapter: gate}
        rules:
        - name: ask-gate
          actions: [{handler: g}]
        """,
        gate);

    CompletableFuture<HttpCheckResponse> pending =
        service.check(new HttpCheckRequest("GET", "/", Map.of(), null, null)).toCompletableFuture();
    GateAdapter.Pending p = gate.pending.poll(10, TimeUnit.SECONDS);
    assertThat(p).isNotNull();
    assertThat(pending).isNotDone();
    p.result().complete(io.arbiter.engine.spi.CheckResult.deny(
        io.arbiter.engine.spi.Code.PERMISSION_DENIED, "no", 429));

    assertThat(pending.get(10, TimeUnit.SECONDS).status()).isEqualTo(429);
  }
}
