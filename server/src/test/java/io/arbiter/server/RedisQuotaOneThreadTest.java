package io.arbiter.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.arbiter.adapters.testing.RedisServer;
import io.envoyproxy.envoy.extensions.common.ratelimit.v3.RateLimitDescriptor;
import io.envoyproxy.envoy.service.ratelimit.v3.RateLimitRequest;
import io.envoyproxy.envoy.service.ratelimit.v3.RateLimitResponse;
import io.envoyproxy.envoy.service.ratelimit.v3.RateLimitResponse.Code;
import io.envoyproxy.envoy.service.ratelimit.v3.RateLimitServiceGrpc;
import io.grpc.ForwardingServerCall.SimpleForwardingServerCall;
import io.grpc.ForwardingServerCallListener.SimpleForwardingServerCallListener;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * With {@code --inline-calls true}, a {@code ShouldRateLimit} that takes its quota from a real
 * Redis never leaves the event-loop thread that read it: the server lends its event loops to
 * redisquota, whose connection on that loop sends the script, reads Redis's reply and completes
 * the decision there, and the answer is written from there. Each call's threads are recorded by
 * an interceptor: where the request was handled (half-close) and where the answer was sent.
 */
class RedisQuotaOneThreadTest {
  @TempDir Path dir;
  private RedisServer redis;
  private ArbiterServer server;
  private ManagedChannel channel;

  /** One call's threads: where its request was handled, where its answer was sent. */
  private record Threads(String handled, String answered) {}

  private final Queue<Threads> calls = new ConcurrentLinkedQueue<>();

  /** Records, per call, the thread of onHalfClose and of sendMessage. */
  private final ServerInterceptor recorder = new ServerInterceptor() {
    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(
        ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
      String[] handled = new String[1];
      ServerCall<Q, R> recording = new SimpleForwardingServerCall<>(call) {
        @Override
        public void sendMessage(R message) {
          calls.add(new Threads(handled[0], Thread.currentThread().getName()));
          super.sendMessage(message);
        }
      };
      return new SimpleForwardingServerCallListener<>(next.startCall(recording, headers)) {
        @Override
        public void onHalfClose() {
          handled[0] = Thread.currentThread().getName();
          super.onHalfClose();
        }
      };
    }
  };

  @BeforeEach
  void startRedis() throws Exception {
    RedisServer.requireInstalled();
    redis = RedisServer.start();
  }

  @AfterEach
  void stop() {
    if (channel != null) {
      channel.shutdownNow();
    }
    if (server != null) {
      server.close();
    }
    if (redis != null) {
      redis.close();
    }
  }

  @Test
  void anInlinedRedisQuotaCallIsReadDecidedAndAnsweredOnOneEventLoopThread() throws Exception {
    Path config = dir.resolve("policy.yaml");
    Files.writeString(config, """
        handlers:
        - name: redis-quota
          adapter: redisquota
          params:
            quotas: [{name: per-user, maxAmount: 1000, validDuration: 1h}]
            redis: {url: "%s", timeout: 2s}
        instances:
        - name: per-user
          template: quota
          params: {dimensions: {user: "ratelimit.descriptor['user']"}}
        rules:
        - name: limit-users
          match: "ratelimit.domain == 'edge' && 'user' in ratelimit.descriptor"
          actions: [{handler: redis-quota, instances: [per-user]}]
        """.formatted(redis.url()));
    server = ArbiterServer.start(
        ArbiterServer.Options.defaults()
            .withConfig(new ConfigSource.Files(config))
            .withInlineCalls(true)
            .withPorts(0, 0)
            .withHosts("127.0.0.1", "127.0.0.1")
            .withDrainTimeout(Duration.ofSeconds(5)),
        List.of(recorder));
    server.whenReady().get(10, TimeUnit.SECONDS);
    channel = NettyChannelBuilder.forAddress("127.0.0.1", server.grpcPort()).usePlaintext().build();
    var stub = RateLimitServiceGrpc.newBlockingStub(channel);

    int n = 50;
    for (int i = 1; i <= n; i++) {
      RateLimitResponse r = stub.withDeadlineAfter(30, TimeUnit.SECONDS).shouldRateLimit(
          RateLimitRequest.newBuilder().setDomain("edge").addDescriptors(
              RateLimitDescriptor.newBuilder().addEntries(
                  RateLimitDescriptor.Entry.newBuilder().setKey("user").setValue("alice")))
              .build());
      assertThat(r.getOverallCode()).isEqualTo(Code.OK);
      assertThat(r.getStatuses(0).getLimitRemaining()).as("counted in Redis").isEqualTo(1000 - i);
    }

    assertThat(calls).hasSize(n);
    for (Threads t : calls) {
      assertThat(t.handled()).startsWith("arbiter-io-");
      assertThat(t.answered()).as("the answer's thread").isEqualTo(t.handled());
    }
    assertThat(Thread.getAllStackTraces().keySet().stream().map(Thread::getName)
        .filter(name -> name.startsWith("lettuce-") && name.contains("EventLoop")))
        .as("Lettuce I/O threads of its own").isEmpty();
  }
}
