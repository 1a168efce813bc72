package io.arbiter.ratelimit;

import static io.arbiter.ratelimit.RateLimitRequestMapperTest.descriptor;
import static io.arbiter.ratelimit.RateLimitResponseMapperTest.header;
import static org.assertj.core.api.Assertions.assertThat;

import io.arbiter.engine.PolicyEngine;
import io.envoyproxy.envoy.service.ratelimit.v3.RateLimitRequest;
import io.envoyproxy.envoy.service.ratelimit.v3.RateLimitResponse;
import io.envoyproxy.envoy.service.ratelimit.v3.RateLimitResponse.Code;
import io.envoyproxy.envoy.service.ratelimit.v3.RateLimitResponse.DescriptorStatus;
import io.envoyproxy.envoy.service.ratelimit.v3.RateLimitServiceGrpc;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.net.InetSocketAddress;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The service over a real socket: Netty server on a loopback port, Netty client channel. */
class RateLimitServiceTest {
  private PolicyEngine engine;
  private ExecutorService executor;
  private Server server;
  private ManagedChannel channel;

  @AfterEach
  void stop() throws InterruptedException {
    channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
    server.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
    executor.shutdownNow();
    engine.close();
    engine.services().close();
  }

  @Test
  void decidesEachDescriptorOverTheWire() throws Exception {
    engine = Engines.engine("""
        handlers: [{name: q, adapter: window, params: {limit: 2, window: 1m}}]
        instances: [{name: i, template: quota, params: {dimensions: {user: "ratelimit.descriptor['user']"}}}]
        rules:
        - name: limit-users
          match: "ratelimit.domain == 'edge' && 'user' in ratelimit.descriptor"
          actions: [{handler: q, instances: [i]}]
        """, new WindowQuotaAdapter());
    executor = Executors.newFixedThreadPool(2);
    server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
        .executor(executor)
        .addService(new RateLimitService(engine))
        .build()
        .start();
    channel = NettyChannelBuilder.forAddress("127.0.0.1", server.getPort()).usePlaintext().build();
    var stub =
        RateLimitServiceGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
    RateLimitRequest request = RateLimitRequest.newBuilder().setDomain("edge")
        .addDescriptors(descriptor("user", "alice"))
        .addDescriptors(descriptor("generic_key", "static"))
        .setHitsAddend(2)
        .build();

    RateLimitResponse first = stub.shouldRateLimit(request);
    RateLimitResponse second = stub.shouldRateLimit(request);

    assertThat(first.getOverallCode()).isEqualTo(Code.OK);
    assertThat(first.getStatusesList()).extracting(DescriptorStatus::getCode)
        .containsExactly(Code.OK, Code.OK);
    assertThat(first.getStatuses(0).getLimitRemaining()).isZero();
    assertThat(first.getResponseHeadersToAddList()).containsExactly(
        header("ratelimit-limit", "2"), header("ratelimit-remaining", "0"),
        header("ratelimit-reset", "60"));
    assertThat(second.getOverallCode()).isEqualTo(Code.OVER_LIMIT);
    assertThat(second.getStatusesList()).extracting(DescriptorStatus::getCode)
        .containsExactly(Code.OVER_LIMIT, Code.OK);
    assertThat(second.getDynamicMetadata().getFieldsOrThrow("config_version").getStringValue())
        .isEqualTo(engine.current().orElseThrow().version());
  }
}
