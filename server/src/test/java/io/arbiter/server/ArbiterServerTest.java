package io.arbiter.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.envoyproxy.envoy.config.core.v3.Address;
import io.envoyproxy.envoy.config.core.v3.HeaderMap;
import io.envoyproxy.envoy.config.core.v3.HeaderValue;
import io.envoyproxy.envoy.config.core.v3.HeaderValueOption;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.envoyproxy.envoy.service.auth.v3.AttributeContext;
import io.envoyproxy.envoy.service.auth.v3.AuthorizationGrpc;
import io.envoyproxy.envoy.service.auth.v3.CheckRequest;
import io.envoyproxy.envoy.service.auth.v3.CheckResponse;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.reflection.v1.ServerReflectionGrpc;
import io.grpc.reflection.v1.ServerReflectionRequest;
import io.grpc.reflection.v1.ServerReflectionResponse;
import io.grpc.stub.StreamObserver;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The whole server over real sockets: gRPC Check, health, reflection, admin, reload, drain. */
class ArbiterServerTest {
  @TempDir Path dir;
  private ArbiterServer server;
  private ManagedChannel channel;
  private final HttpClient http = HttpClient.newHttpClient();

  @AfterEach
  void stop() {
    if (channel != null) {
      channel.shutdownNow();
    }
    if (server != null) {
      server.close();
    }
  }

  private ArbiterServer start(ConfigSource source) throws Exception {
    server = ArbiterServer.start(
        ArbiterServer.Options.defaults()
            .withConfig(source)
            .withPorts(0, 0)
            .withHosts("127.0.0.1", "127.0.0.1")
            .withWatchInterval(Duration.ofMillis(50))
            .withDrainTimeout(Duration.ofSeconds(5)));
    channel = NettyChannelBuilder.forAddress("127.0.0.1", server.grpcPort()).usePlaintext().build();
    server.whenReady().get(10, TimeUnit.SECONDS);
    return server;
  }

  private Path write(String yaml) throws Exception {
    Path file = dir.resolve("policy.yaml");
    Path tmp = dir.resolve("policy.yaml.tmp");
    Files.writeString(tmp, yaml);
    Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    return file;
  }

  private CheckResponse check(CheckRequest request) {
    return AuthorizationGrpc.newBlockingStub(channel).withDeadlineAfter(5, TimeUnit.SECONDS).check(request);
  }

  private static CheckRequest request(String sourceIp, String path, Map<String, String> headers) {
    return CheckRequest.newBuilder()
        .setAttributes(AttributeContext.newBuilder()
            .setSource(AttributeContext.Peer.newBuilder()
                .setAddress(Address.newBuilder().setSocketAddress(
                    SocketAddress.newBuilder().setAddress(sourceIp).setPortValue(40000))))
            .setRequest(AttributeContext.Request.newBuilder()
                .setHttp(AttributeContext.HttpRequest.newBuilder()
                    .setMethod("GET").setPath(path).setHost("app.example.com").putAllHeaders(headers))))
        .build();
  }

  private static Map<String, String> headers(CheckResponse r) {
    return r.getOkResponse().getHeadersList().stream()
        .collect(Collectors.toMap(h -> h.getHeader().getKey(), h -> h.getHeader().getValue()));
  }

  private HttpResponse<String> admin(String path) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.adminPort() + path)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private static void eventually(Supplier<Boolean> condition) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!condition.get()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("condition not met within 10s");
      }
      Thread.sleep(20);
    }
  }

  @Test
  void embeddedDefaultAllowsEveryRequestAndMarksIt() throws Exception {
    start(new ConfigSource.Embedded());
    CheckResponse r = check(request("203.0.113.5", "/anything", Map.of()));
    assertThat(r.getStatus().getCode()).isEqualTo(0);
    HeaderValueOption h = r.getOkResponse().getHeaders(0);
    assertThat(h.getHeader().getKey()).isEqualTo("x-arbiter-decision");
    assertThat(h.getHeader().getValue()).isEqualTo("allow");
    assertThat(h.hasAppend()).isTrue();
    assertThat(h.getAppend().getValue()).isFalse();
  }

  @Test
  void servesTheReadmeExamplePolicy() throws Exception {
    start(new ConfigSource.Files(Path.of("..", "examples", "policy.yaml")));

    CheckResponse blocked = check(request("192.0.2.77", "/", Map.of()));
    assertThat(blocked.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED.value());
    assertThat(blocked.getDeniedResponse().getStatus().getCodeValue()).isEqualTo(403);

    CheckResponse noUser = check(request("10.0.0.1", "/admin/users", Map.of()));
    assertThat(noUser.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED.value());
    assertThat(noUser.getStatus().getMessage()).isEqualTo("forbidden");
    assertThat(noUser.getDeniedResponse().getStatus().getCodeValue()).isEqualTo(403);

    CheckResponse withUser = check(request("10.0.0.1", "/admin/users", Map.of("x-user", "alice")));
    assertThat(withUser.getStatus().getCode()).isEqualTo(0);
    assertThat(headers(withUser)).containsEntry("x-arbiter-user", "alice");
    assertThat(withUser.getDynamicMetadata().getFieldsMap().get("matched_rules").getListValue().getValuesList())
        .extracting(v -> v.getStringValue())
        .containsExactly("block-bad-networks", "tag-user");
  }

  @Test
  void readsHeadersThatComeOnlyInHeaderMapAsRawBytes() throws Exception {
    start(new ConfigSource.Files(Path.of("..", "examples", "policy.yaml")));
    CheckRequest onlyHeaderMap = request("10.0.0.1", "/admin", Map.of()).toBuilder()
        .setAttributes(request("10.0.0.1", "/admin", Map.of()).getAttributes().toBuilder()
            .setRequest(AttributeContext.Request.newBuilder().setHttp(AttributeContext.HttpRequest.newBuilder()
                .setMethod("GET").setPath("/admin")
                .setHeaderMap(HeaderMap.newBuilder()
                    .addHeaders(HeaderValue.newBuilder().setKey("X-User").setRawValue(ByteString.copyFromUtf8("bob")))))))
        .build();
    CheckResponse r = check(onlyHeaderMap);
    assertThat(r.getStatus().getCode()).isEqualTo(0);
    assertThat(headers(r)).containsEntry("x-arbiter-user", "bob");
  }

  @Test
  void servesHealthAndReflectionBesideAuthorization() throws Exception {
    start(new ConfigSource.Embedded());
    var health = HealthGrpc.newBlockingStub(channel);
    assertThat(health.check(HealthCheckRequest.newBuilder().build()).getStatus())
        .isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
    assertThat(health.check(HealthCheckRequest.newBuilder().setService("envoy.service.auth.v3.Authorization").build()).getStatus())
        .isEqualTo(HealthCheckResponse.ServingStatus.SERVING);

    CompletableFuture<ServerReflectionResponse> reply = new CompletableFuture<>();
    StreamObserver<ServerReflectionRequest> requests = ServerReflectionGrpc.newStub(channel).serverReflectionInfo(
        new StreamObserver<>() {
          public void onNext(ServerReflectionResponse r) { reply.complete(r); }
          public void onError(Throwable t) { reply.completeExceptionally(t); }
          public void onCompleted() {}
        });
    requests.onNext(ServerReflectionRequest.newBuilder().setListServices("").build());
    List<String> services = reply.get(5, TimeUnit.SECONDS).getListServicesResponse().getServiceList()
        .stream().map(s -> s.getName()).toList();
    requests.onCompleted();
    assertThat(services).contains("envoy.service.auth.v3.Authorization", "grpc.health.v1.Health");
  }

  @Test
  void adminEndpointsReportHealthReadinessMetricsAndConfig() throws Exception {
    start(new ConfigSource.Embedded());
    check(request("10.0.0.1", "/", Map.of()));
    assertThat(admin("/healthz").statusCode()).isEqualTo(200);
    assertThat(admin("/readyz").body()).isEqualTo("ready\n");
    HttpResponse<String> metrics = admin("/metrics");
    assertThat(metrics.headers().firstValue("content-type")).hasValueSatisfying(v -> assertThat(v).startsWith("text/plain"));
    assertThat(metrics.body())
        .contains("arbiter_checks_total{result=\"allow\"} 1")
        .contains("arbiter_rule_matches_total{rule=\"allow-all\"} 1")
        .contains("arbiter_config_reloads_total{result=\"success\"} 1")
        .contains("arbiter_check_duration_seconds_bucket{le=\"+Inf\"} 1");
    HttpResponse<String> config = admin("/config");
    assertThat(config.body())
        .contains("\"version\":\"" + server.engine().current().orElseThrow().version() + "\"")
        .contains("x-arbiter-decision");
    var post = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.adminPort() + "/config"))
        .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(post.statusCode()).isEqualTo(405);
  }

  @Test
  void appliesValidChangesAndKeepsServingThroughInvalidOnes() throws Exception {
    Path file = write("rules: [{name: deny-all, deny: \"true\"}]\n");
    start(new ConfigSource.Files(file));
    assertThat(check(request("10.0.0.1", "/", Map.of())).getStatus().getCode()).isNotEqualTo(0);
    String first = server.engine().current().orElseThrow().version();

    write("rules: [{name: allow-all, requestHeadersToAdd: {x-v: \"'2'\"}}]\n");
    eventually(() -> !server.engine().current().orElseThrow().version().equals(first));
    assertThat(headers(check(request("10.0.0.1", "/", Map.of())))).containsEntry("x-v", "2");
    String second = server.engine().current().orElseThrow().version();

    write("rules: [{name: broken, match: \"request.nope == 1\"}]\n");
    eventually(() -> {
      try {
        return admin("/metrics").body().contains("arbiter_config_reloads_total{result=\"failure\"} 1");
      } catch (Exception e) {
        return false;
      }
    });
    assertThat(server.engine().current().orElseThrow().version()).isEqualTo(second);
    assertThat(headers(check(request("10.0.0.1", "/", Map.of())))).containsEntry("x-v", "2");

    Files.delete(file);
    eventually(() -> {
      try {
        return admin("/metrics").body().contains("arbiter_config_reloads_total{result=\"failure\"} 2");
      } catch (Exception e) {
        return false;
      }
    });
    assertThat(check(request("10.0.0.1", "/", Map.of())).getStatus().getCode()).isEqualTo(0);
  }

  @Test
  void shutdownDrainsChecksInFlightAndRefusesNewOnes() throws Exception {
    Path file = write("""
        settings: {handlerTimeout: 5s}
        handlers: [{name: slow, adapter: fake, params: {behavior: allow, delay: 700ms}}]
        rules: [{name: r, actions: [{handler: slow}]}]
        """);
    start(new ConfigSource.Files(file));
    var inFlight = AuthorizationGrpc.newFutureStub(channel).check(request("10.0.0.1", "/", Map.of()));
    Thread.sleep(200);
    CompletableFuture<Void> closing = CompletableFuture.runAsync(server::close);
    assertThat(inFlight.get(5, TimeUnit.SECONDS).getStatus().getCode()).isEqualTo(0);
    closing.get(10, TimeUnit.SECONDS);
    assertThatThrownBy(() -> check(request("10.0.0.1", "/", Map.of())))
        .isInstanceOfSatisfying(StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE));
  }

  @Test
  void malformedProtobufGetsAnErrorAndTheServerKeepsServing() throws Exception {
    start(new ConfigSource.Embedded());
    io.grpc.MethodDescriptor.Marshaller<byte[]> bytes = new io.grpc.MethodDescriptor.Marshaller<>() {
      public java.io.InputStream stream(byte[] value) { return new java.io.ByteArrayInputStream(value); }
      public byte[] parse(java.io.InputStream in) {
        try { return in.readAllBytes(); } catch (java.io.IOException e) { throw new RuntimeException(e); }
      }
    };
    var raw = AuthorizationGrpc.getCheckMethod().toBuilder(bytes, bytes).build();
    byte[] garbage = {(byte) 0x0a, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, 0x0f, 0x01};
    assertThatThrownBy(() -> io.grpc.stub.ClientCalls.blockingUnaryCall(
            channel, raw, io.grpc.CallOptions.DEFAULT.withDeadlineAfter(5, TimeUnit.SECONDS), garbage))
        .isInstanceOfSatisfying(StatusRuntimeException.class,
            // Envoy applies failure_mode_allow to any gRPC error
            e -> {
              assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
              assertThat(e.getStatus().getDescription()).startsWith("malformed CheckRequest: ");
            });
    assertThat(check(request("10.0.0.1", "/", Map.of())).getStatus().getCode()).isEqualTo(0);
    assertThat(admin("/metrics").body()).contains("arbiter_extauthz_malformed_total 1");
  }

  @Test
  void refusesToStartOnAnInvalidConfigAndLeavesNothingRunning() throws Exception {
    Path file = write("rules: [{name: r, match: \"nope\"}]\n");
    assertThatThrownBy(() -> ArbiterServer.start(ArbiterServer.Options.defaults()
            .withConfig(new ConfigSource.Files(file)).withPorts(0, 0).withHosts("127.0.0.1", "127.0.0.1")))
        .isInstanceOf(io.arbiter.engine.config.ConfigException.class)
        .hasMessageContaining("unknown attribute 'nope'");
  }
}
