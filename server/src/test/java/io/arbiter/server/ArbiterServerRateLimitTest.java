package io.arbiter.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.envoyproxy.envoy.extensions.common.ratelimit.v3.RateLimitDescriptor;
import io.envoyproxy.envoy.service.ratelimit.v3.RateLimitRequest;
import io.envoyproxy.envoy.service.ratelimit.v3.RateLimitResponse;
import io.envoyproxy.envoy.service.ratelimit.v3.RateLimitResponse.Code;
import io.envoyproxy.envoy.service.ratelimit.v3.RateLimitServiceGrpc;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Envoy's {@code RateLimitService/ShouldRateLimit} on the server's one gRPC port, next to
 * ext_authz, over a real socket, with the engine test-jar's {@code counter} quota adapter (3 units
 * per user, no window).
 */
class ArbiterServerRateLimitTest {
  private static final String POLICY =
      """
      handlers:
      - {name: per-user-quota, adapter: counter, params: {limit: 3}}
      instances:
      - name: per-user
        template: quota
        params: {dimensions: {user: "ratelimit.descriptor['user']"}}
      rules:
      - name: limit-users
        match: "ratelimit.domain == 'edge' && 'user' in ratelimit.descriptor"
        actions: [{handler: per-user-quota, instances: [per-user]}]
      """;

  @TempDir Path dir;
  private ArbiterServer server;
  private ManagedChannel channel;

  @AfterEach
  void stop() {
    if (channel != null) {
      channel.shutdownNow();
    }
    if (server != null) {
      server.close();
    }
  }

  private RateLimitServiceGrpc.RateLimitServiceBlockingStub start(ConfigSource config)
      throws Exception {
    return start(config, false);
  }

  private RateLimitServiceGrpc.RateLimitServiceBlockingStub start(ConfigSource config, boolean inline)
      throws Exception {
    server = ArbiterServer.start(
        ArbiterServer.Options.defaults()
            .withConfig(config)
            .withInlineCalls(inline)
            .withPorts(0, 0)
            .withHosts("127.0.0.1", "127.0.0.1")
            .withDrainTimeout(Duration.ofSeconds(5)));
    server.whenReady().get(10, TimeUnit.SECONDS);
    channel = NettyChannelBuilder.forAddress("127.0.0.1", server.grpcPort()).usePlaintext().build();
    return RateLimitServiceGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
  }

  private static RateLimitRequest request(String domain, String user) {
    return RateLimitRequest.newBuilder()
        .setDomain(domain)
        .addDescriptors(RateLimitDescriptor.newBuilder().addEntries(
            RateLimitDescriptor.Entry.newBuilder().setKey("user").setValue(user)))
        .build();
  }

  @Test
  void theGrpcPortServesShouldRateLimitFromTheConfigsQuotaRules() throws Exception {
    Path config = dir.resolve("policy.yaml");
    Files.writeString(config, POLICY);
    var stub = start(new ConfigSource.Files(config));

    for (int remaining = 2; remaining >= 0; remaining--) {
      RateLimitResponse r = stub.shouldRateLimit(request("edge", "alice"));
      assertThat(r.getOverallCode()).isEqualTo(Code.OK);
      assertThat(r.getStatuses(0).getLimitRemaining()).isEqualTo(remaining);
      assertThat(r.getStatuses(0).getCurrentLimit().getRequestsPerUnit()).isEqualTo(3);
    }
    RateLimitResponse over = stub.shouldRateLimit(request("edge", "alice"));
    RateLimitResponse otherDomain = stub.shouldRateLimit(request("internal", "alice"));

    assertThat(over.getOverallCode()).isEqualTo(Code.OVER_LIMIT);
    assertThat(over.getStatuses(0).getDurationUntilReset().getSeconds()).isPositive();
    assertThat(otherDomain.getOverallCode()).isEqualTo(Code.OK);
    assertThat(otherDomain.getStatuses(0).hasCurrentLimit()).isFalse();

    String metrics = HttpClient.newHttpClient().send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.adminPort() + "/metrics"))
            .build(),
        HttpResponse.BodyHandlers.ofString()).body();
    assertThat(metrics)
        .contains("arbiter_ratelimit_descriptors_total{result=\"ok\"} 3")
        .contains("arbiter_ratelimit_descriptors_total{result=\"over_limit\"} 1")
        .contains("arbiter_ratelimit_descriptors_total{result=\"unmatched\"} 1");
  }

  /** --inline-calls: the same answers, decided on the transport's thread; ext_authz too. */
  @Test
  void inlineCallsGiveTheSameAnswers() throws Exception {
    Path config = dir.resolve("policy.yaml");
    Files.writeString(config, POLICY);
    var stub = start(new ConfigSource.Files(config), true);

    for (int remaining = 2; remaining >= 0; remaining--) {
      RateLimitResponse r = stub.shouldRateLimit(request("edge", "bob"));
      assertThat(r.getOverallCode()).isEqualTo(Code.OK);
      assertThat(r.getStatuses(0).getLimitRemaining()).isEqualTo(remaining);
    }
    assertThat(stub.shouldRateLimit(request("edge", "bob")).getOverallCode()).isEqualTo(Code.OVER_LIMIT);
    var check = io.envoyproxy.envoy.service.auth.v3.AuthorizationGrpc.newBlockingStub(channel)
        .withDeadlineAfter(30, TimeUnit.SECONDS)
        .check(io.envoyproxy.envoy.service.auth.v3.CheckRequest.getDefaultInstance());
    assertThat(check.getStatus().getCode()).isZero(); // no check rule: allowed
  }

  @Test
  void theEmbeddedDefaultConfigLimitsNothing() throws Exception {
    var stub = start(new ConfigSource.Embedded());

    RateLimitResponse r = stub.shouldRateLimit(request("edge", "alice"));

    assertThat(r.getOverallCode()).isEqualTo(Code.OK);
    assertThat(r.getStatusesCount()).isEqualTo(1);
    assertThat(r.getStatuses(0).getCode()).isEqualTo(Code.OK);
  }
}
