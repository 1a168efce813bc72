package io.arbiter.extauthz;

import static io.arbiter.extauthz.CheckResponseMapperTest.metadata;
import static io.arbiter.extauthz.CheckResponseMapperTest.option;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import com.google.protobuf.Value;
import com.google.rpc.Status;
import io.arbiter.engine.PolicyEngine;
import io.envoyproxy.envoy.config.core.v3.HeaderMap;
import io.envoyproxy.envoy.config.core.v3.HeaderValue;
import io.envoyproxy.envoy.config.core.v3.QueryParameter;
import io.envoyproxy.envoy.service.auth.v3.AttributeContext;
import io.envoyproxy.envoy.service.auth.v3.AuthorizationGrpc;
import io.envoyproxy.envoy.service.auth.v3.CheckRequest;
import io.envoyproxy.envoy.service.auth.v3.CheckResponse;
import io.envoyproxy.envoy.service.auth.v3.DeniedHttpResponse;
import io.envoyproxy.envoy.service.auth.v3.OkHttpResponse;
import io.envoyproxy.envoy.type.v3.HttpStatus;
import io.envoyproxy.envoy.type.v3.StatusCode;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The service over a real socket: Netty server on a loopback port, Netty client channel. */
class AuthorizationServiceTest {
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
      - name: tag-api
        match: "request.path.startsWith('/api')"
        requestHeadersToAdd:
          x-arbiter-path: request.path
          x-arbiter-trace: {value: "'t-' + request.id", append: true}
        requestHeadersToRemove: [authorization]
        responseHeadersToAdd:
          x-served-by: "'arbiter'"
        queryParametersToSet:
          tenant: "request.query_params['t'] + '-x'"
        queryParametersToRemove: [token]
      - name: only-alice
        match: "request.path == '/raw'"
        allow: "request.headers['x-user'] == 'alice'"
      """;

  private PolicyEngine engine;
  private ExecutorService executor;
  private Server server;
  private ManagedChannel channel;

  private AuthorizationGrpc.AuthorizationBlockingStub start(String yaml, GateAdapter... adapters)
      throws IOException {
    engine = Engines.engine(yaml, adapters);
    executor = Executors.newFixedThreadPool(2);
    server =
        NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
            .executor(executor)
            .addService(new AuthorizationService(engine))
            .build()
            .start();
    channel = NettyChannelBuilder.forAddress("127.0.0.1", server.getPort()).usePlaintext().build();
    return AuthorizationGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
  }

  @AfterEach
  void stop() throws InterruptedException {
    if (channel != null) {
      channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
    }
    if (server != null) {
      server.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
    }
    if (executor != null) {
      executor.shutdownNow();
    }
    if (engine != null) {
      engine.close();
      engine.services().close();
    }
  }

  private static CheckRequest http(String path, AttributeContext.HttpRequest.Builder http) {
    return CheckRequest.newBuilder()
        .setAttributes(
            AttributeContext.newBuilder()
                .setRequest(
                    AttributeContext.Request.newBuilder().setHttp(http.setMethod("GET").setPath(path))))
        .build();
  }

  private String version() {
    return engine.current().orElseThrow().version();
  }

  private static String decisionId(CheckResponse response) {
    String id = response.getDynamicMetadata().getFieldsOrThrow("decision_id").getStringValue();
    assertThat(id).matches("[0-9a-f]{16}");
    return id;
  }

  @Test
  void allowAddsTheRulesDirectives() throws IOException {
    var stub = start(RULES);

    CheckResponse response =
        stub.check(
            http(
                "/api/items?t=acme&token=secret",
                AttributeContext.HttpRequest.newBuilder()
                    .putHeaders("x-request-id", "r-1")
                    .putHeaders("authorization", "Bearer abc")));

    String id = decisionId(response);
    assertThat(response)
        .isEqualTo(
            CheckResponse.newBuilder()
                .setStatus(Status.newBuilder().setCode(0))
                .setOkResponse(
                    OkHttpResponse.newBuilder()
                        .addHeaders(option("x-arbiter-path", "/api/items", false))
                        .addHeaders(option("x-arbiter-trace", "t-r-1", true))
                        .addHeadersToRemove("authorization")
                        .addResponseHeadersToAdd(option("x-served-by", "arbiter", false))
                        .addQueryParametersToSet(
                            QueryParameter.newBuilder().setKey("tenant").setValue("acme-x"))
                        .addQueryParametersToRemove("token"))
                .setDynamicMetadata(metadata(id, List.of("tag-api"), version()))
                .build());
  }

  @Test
  void denyRuleAnswers401WithHeadersAndBody() throws IOException {
    var stub = start(RULES);

    CheckResponse response = stub.check(http("/admin/users", AttributeContext.HttpRequest.newBuilder()));

    String id = decisionId(response);
    assertThat(response)
        .isEqualTo(
            CheckResponse.newBuilder()
                .setStatus(Status.newBuilder().setCode(16).setMessage("sign in first"))
                .setDeniedResponse(
                    DeniedHttpResponse.newBuilder()
                        .setStatus(HttpStatus.newBuilder().setCode(StatusCode.Unauthorized))
                        .addHeaders(option("www-authenticate", "Bearer realm=\"shop\"", false))
                        .addHeaders(option("x-arbiter-decision-id", id, false))
                        .setBody("no x-user"))
                .setDynamicMetadata(metadata(id, List.of("admin-needs-user"), version()))
                .build());

    CheckResponse withUser =
        stub.check(http("/admin/users", AttributeContext.HttpRequest.newBuilder().putHeaders("x-user", "bob")));
    assertThat(withUser.getStatus().getCode()).isZero();
  }

  @Test
  void headerMapOnlyRequestsAreDecidedOnRawValues() throws IOException {
    var stub = start(RULES);

    CheckResponse alice =
        stub.check(
            http(
                "/raw",
                AttributeContext.HttpRequest.newBuilder()
                    .setHeaderMap(
                        HeaderMap.newBuilder()
                            .addHeaders(
                                HeaderValue.newBuilder()
                                    .setKey("X-User")
                                    .setRawValue(ByteString.copyFromUtf8("alice"))))));
    CheckResponse bob =
        stub.check(
            http(
                "/raw",
                AttributeContext.HttpRequest.newBuilder()
                    .setHeaderMap(
                        HeaderMap.newBuilder()
                            .addHeaders(
                                HeaderValue.newBuilder()
                                    .setKey("x-user")
                                    .setRawValue(ByteString.copyFromUtf8("bob"))))));

    assertThat(alice.getStatus().getCode()).isZero();
    assertThat(alice.getDynamicMetadata().getFieldsOrThrow("matched_rules").getListValue().getValuesList())
        .containsExactly(Value.newBuilder().setStringValue("only-alice").build());
    assertThat(bob.getStatus())
        .isEqualTo(Status.newBuilder().setCode(7).setMessage("denied by rule 'only-alice'").build());
    assertThat(bob.getDeniedResponse().getStatus().getCode()).isEqualTo(StatusCode.Forbidden);
  }

  @Test
  void aRuntimeErrorFailsClosed() throws IOException {
    var stub = start(
        """
        rules:
        - name: broken
          match: "request.headers['x-missing'] == 'a'"
        """);

    CheckResponse response =
        stub.check(http("/", AttributeContext.HttpRequest.newBuilder().putHeaders("x-other", "1")));

    String id = decisionId(response);
    assertThat(response.getStatus())
        .isEqualTo(
            Status.newBuilder()
                .setCode(14)
                .setMessage("policy evaluation failed (decision " + id + ")")
                .build());
    assertThat(response.getDeniedResponse())
        .isEqualTo(
            DeniedHttpResponse.newBuilder()
                .setStatus(HttpStatus.newBuilder().setCode(StatusCode.Forbidden))
                .addHeaders(option("x-arbiter-decision-id", id, false))
                .build());
    assertThat(response.getDynamicMetadata().getFieldsOrThrow("error").getStringValue())
        .startsWith("rule 'broken': match: ");
  }

  @Test
  void aRuntimeErrorFailsOpenWhenConfigured() throws IOException {
    var stub = start(
        """
        settings:
          failurePolicy: FAIL_OPEN
        rules:
        - name: broken
          match: "request.headers['x-missing'] == 'a'"
        """);

    CheckResponse response = stub.check(http("/", AttributeContext.HttpRequest.newBuilder()));

    assertThat(response.getStatus()).isEqualTo(Status.newBuilder().setCode(0).build());
    assertThat(response.getOkResponse()).isEqualTo(OkHttpResponse.getDefaultInstance());
    assertThat(response.getDynamicMetadata().getFieldsOrThrow("error").getStringValue())
        .startsWith("rule 'broken': match: ");
  }

  @Test
  void aHandlerThatAnswersNothingGetsTheFailureOutcomeNotAGrpcError() throws IOException {
    var stub = start(
        """
        settings:
          failureHttpStatus: 503
        handlers:
        - name: buggy
          adapter: gate
          params: {behavior: "null"}
        rules:
        - name: calls-buggy
          actions:
          - handler: buggy
        """,
        new GateAdapter());

    CheckResponse response = stub.check(http("/", AttributeContext.HttpRequest.newBuilder()));

    String id = decisionId(response);
    assertThat(response.getStatus())
        .isEqualTo(
            Status.newBuilder()
                .setCode(14)
                .setMessage("policy evaluation failed (decision " + id + ")")
                .build());
    assertThat(response.getDeniedResponse().getStatus().getCode())
        .isEqualTo(StatusCode.ServiceUnavailable);
    assertThat(response.getDynamicMetadata().getFieldsOrThrow("error").getStringValue())
        .isEqualTo("rule 'calls-buggy': handler 'buggy': the handler completed without a result");
  }

  @Test
  void aHandlerThatAnswersNothingIsAllowedWhenFailOpen() throws IOException {
    var stub = start(
        """
        settings:
          failurePolicy: FAIL_OPEN
        handlers:
        - name: buggy
          adapter: gate
          params: {behavior: "null"}
        rules:
        - name: calls-buggy
          actions:
          - handler: buggy
        """,
        new GateAdapter());

    CheckResponse response = stub.check(http("/", AttributeContext.HttpRequest.newBuilder()));

    assertThat(response.getStatus().getCode()).isZero();
    assertThat(response.getDynamicMetadata().containsFields("error")).isTrue();
  }

  @Test
  void tooManyHeadersAreDeniedWithoutEvaluation() throws IOException {
    var stub = start(RULES);
    HeaderMap.Builder headers = HeaderMap.newBuilder();
    for (int i = 0; i < 10_000; i++) {
      headers.addHeaders(HeaderValue.newBuilder().setKey("x-" + i).setRawValue(ByteString.copyFromUtf8("v")));
    }

    CheckResponse response =
        stub.check(http("/api/x", AttributeContext.HttpRequest.newBuilder().setHeaderMap(headers)));

    String id = decisionId(response);
    String message = "request has 10000 headers, more than the limit of 512";
    assertThat(response)
        .isEqualTo(
            CheckResponse.newBuilder()
                .setStatus(Status.newBuilder().setCode(3).setMessage(message))
                .setDeniedResponse(
                    DeniedHttpResponse.newBuilder()
                        .setStatus(HttpStatus.newBuilder().setCode(StatusCode.RequestHeaderFieldsTooLarge))
                        .addHeaders(option("x-arbiter-decision-id", id, false))
                        .setBody(message + "\n"))
                .setDynamicMetadata(
                    metadata(id, List.of(), version()).toBuilder()
                        .putFields("rejected", Value.newBuilder().setStringValue("too_many_headers").build()))
                .build());
  }
}
