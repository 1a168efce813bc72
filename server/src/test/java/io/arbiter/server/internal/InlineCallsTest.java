package io.arbiter.server.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.envoyproxy.envoy.service.auth.v3.AuthorizationGrpc;
import io.envoyproxy.envoy.service.auth.v3.CheckRequest;
import io.envoyproxy.envoy.service.auth.v3.CheckResponse;
import io.envoyproxy.envoy.service.ratelimit.v3.RateLimitRequest;
import io.envoyproxy.envoy.service.ratelimit.v3.RateLimitResponse;
import io.envoyproxy.envoy.service.ratelimit.v3.RateLimitServiceGrpc;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import java.net.InetSocketAddress;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Over a real socket: the named methods run on the transport's thread, the rest on the pool. */
class InlineCallsTest {
  private Server server;
  private ManagedChannel channel;
  private final ExecutorService pool =
      Executors.newFixedThreadPool(2, r -> new Thread(r, "test-pool"));

  @AfterEach
  void stop() {
    if (channel != null) {
      channel.shutdownNow();
    }
    if (server != null) {
      server.shutdownNow();
    }
    pool.shutdownNow();
  }

  @Test
  void namedMethodsRunOnTheTransportThreadAndOthersOnTheExecutor() throws Exception {
    AtomicReference<String> checkThread = new AtomicReference<>();
    AtomicReference<String> rateLimitThread = new AtomicReference<>();
    NettyServerBuilder builder = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0));
    InlineCalls.install(builder, pool, Set.of(AuthorizationGrpc.getCheckMethod().getFullMethodName()));
    server = builder
        .addService(new AuthorizationGrpc.AuthorizationImplBase() {
          @Override
          public void check(CheckRequest request, StreamObserver<CheckResponse> out) {
            checkThread.set(Thread.currentThread().getName());
            out.onNext(CheckResponse.getDefaultInstance());
            out.onCompleted();
          }
        })
        .addService(new RateLimitServiceGrpc.RateLimitServiceImplBase() {
          @Override
          public void shouldRateLimit(RateLimitRequest request, StreamObserver<RateLimitResponse> out) {
            rateLimitThread.set(Thread.currentThread().getName());
            out.onNext(RateLimitResponse.getDefaultInstance());
            out.onCompleted();
          }
        })
        .build()
        .start();
    channel = NettyChannelBuilder.forAddress("127.0.0.1", server.getPort()).usePlaintext().build();

    // Many calls: a call whose message arrives with its headers must not slip onto the pool.
    for (int i = 0; i < 200; i++) {
      AuthorizationGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS)
          .check(CheckRequest.getDefaultInstance());
      assertThat(checkThread.get()).startsWith("grpc-default-worker"); // the shaded test server's own loops
      RateLimitServiceGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS)
          .shouldRateLimit(RateLimitRequest.getDefaultInstance());
      assertThat(rateLimitThread.get()).isEqualTo("test-pool");
    }
  }
}
