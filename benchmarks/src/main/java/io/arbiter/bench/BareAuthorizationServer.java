package io.arbiter.bench;

import com.google.rpc.Status;
import com.sun.net.httpserver.HttpServer;
import io.envoyproxy.envoy.service.auth.v3.AuthorizationGrpc;
import io.envoyproxy.envoy.service.auth.v3.CheckRequest;
import io.envoyproxy.envoy.service.auth.v3.CheckResponse;
import io.envoyproxy.envoy.service.auth.v3.OkHttpResponse;
import io.envoyproxy.envoy.service.ratelimit.v3.RateLimitRequest;
import io.envoyproxy.envoy.service.ratelimit.v3.RateLimitResponse;
import io.envoyproxy.envoy.service.ratelimit.v3.RateLimitServiceGrpc;
import io.grpc.Server;
import io.arbiter.server.internal.IoEventLoops;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * The baseline of the load harness: an {@code envoy.service.auth.v3.Authorization} server that
 * answers every Check with status OK and an empty {@code ok_response}, deciding nothing. It is
 * built with exactly Arbiter's transport settings ({@code io.arbiter.server.ArbiterServer}): a
 * {@link NettyServerBuilder} (unshaded grpc-netty) on the address, on Arbiter's own event loops
 * ({@link IoEventLoops}: one per core, epoll where it loads, one group accepting and serving), an
 * explicit fixed executor of {@code max(2, cores)} daemon threads on an unbounded queue, and a 4 MiB
 * {@code maxInboundMessageSize}. So the ratio of
 * Arbiter's throughput to this server's is what Arbiter's own work costs, and this server's
 * throughput is the limit of the stack.
 *
 * <p>h2load counts any HTTP 200 as a success whatever the {@code grpc-status} trailer says, so this
 * server counts the calls it answered: {@code GET http://ADMIN_HOST:ADMIN_PORT/count} returns
 * {@code bare_checks_total N}, and the count is printed to stdout at exit (SIGTERM).
 *
 * <p>With {@code --ratelimit} it also serves {@code envoy.service.ratelimit.v3.RateLimitService}
 * (the baseline of {@code load/quota.sh}): every {@code ShouldRateLimit} is answered {@code
 * overall_code} OK with one OK status per descriptor, deciding nothing, and counted as {@code
 * bare_ratelimit_total N} on {@code /count}. Without the flag the server is exactly what it was.
 *
 * <p>With {@code --inline-calls} calls run on the event loop that read them (grpc-java's direct
 * executor) instead of the pool: the baseline of Arbiter's {@code --inline-calls true}, which does
 * the same, so a latency comparison does not charge the baseline two thread hand-offs per call.
 *
 * <p>Run: {@code java -cp benchmarks/target/benchmarks.jar io.arbiter.bench.BareAuthorizationServer
 * [--host 127.0.0.1] [--port 9191] [--admin-port 9902] [--ratelimit]} (the admin port binds to
 * 127.0.0.1).
 */
public final class BareAuthorizationServer {
  private static final CheckResponse OK =
      CheckResponse.newBuilder()
          .setStatus(Status.newBuilder().setCode(0))
          .setOkResponse(OkHttpResponse.getDefaultInstance())
          .build();

  private BareAuthorizationServer() {}

  /** The answer to every request: status OK, an empty {@code ok_response}. */
  static CheckResponse answer(CheckRequest request) {
    return OK;
  }

  /** The service: answers OK and counts. */
  static final class Service extends AuthorizationGrpc.AuthorizationImplBase {
    final LongAdder answered = new LongAdder();

    @Override
    public void check(CheckRequest request, StreamObserver<CheckResponse> responseObserver) {
      responseObserver.onNext(answer(request));
      responseObserver.onCompleted();
      answered.increment();
    }
  }

  /** With {@code --ratelimit}: answers every ShouldRateLimit OK, one OK status per descriptor. */
  static final class RateLimit extends RateLimitServiceGrpc.RateLimitServiceImplBase {
    private static final RateLimitResponse.DescriptorStatus OK_STATUS =
        RateLimitResponse.DescriptorStatus.newBuilder().setCode(RateLimitResponse.Code.OK).build();
    final LongAdder answered = new LongAdder();

    static RateLimitResponse answer(RateLimitRequest request) {
      RateLimitResponse.Builder b =
          RateLimitResponse.newBuilder().setOverallCode(RateLimitResponse.Code.OK);
      for (int i = 0; i < request.getDescriptorsCount(); i++) {
        b.addStatuses(OK_STATUS);
      }
      return b.build();
    }

    @Override
    public void shouldRateLimit(
        RateLimitRequest request, StreamObserver<RateLimitResponse> responseObserver) {
      responseObserver.onNext(answer(request));
      responseObserver.onCompleted();
      answered.increment();
    }
  }

  public static void main(String[] args) throws IOException, InterruptedException {
    String host = "127.0.0.1";
    int port = 9191;
    int adminPort = 9902;
    RateLimit rateLimit = null;
    boolean inline = false;
    for (int i = 0; i < args.length; i++) {
      if (args[i].equals("--ratelimit")) {
        rateLimit = new RateLimit();
        continue;
      }
      if (args[i].equals("--inline-calls")) {
        inline = true;
        continue;
      }
      String value = i + 1 < args.length ? args[i + 1] : null;
      switch (args[i]) {
        case "--host" -> host = value;
        case "--port" -> port = Integer.parseInt(value);
        case "--admin-port" -> adminPort = Integer.parseInt(value);
        default -> {
          System.err.println("usage: BareAuthorizationServer [--host H] [--port N] [--admin-port N]"
              + " [--ratelimit] [--inline-calls]");
          System.exit(2);
        }
      }
      i++;
    }
    Service service = new Service();
    // Exactly ArbiterServer's transport: same builder and event loops, executor sizing and kind
    // (or, with --inline-calls, none: as Arbiter's inlined Check and ShouldRateLimit), message limit.
    int threads = Math.max(2, Runtime.getRuntime().availableProcessors());
    IoEventLoops loops = IoEventLoops.start(0);
    NettyServerBuilder builder =
        NettyServerBuilder.forAddress(new InetSocketAddress(host, port))
            .bossEventLoopGroup(loops.group())
            .workerEventLoopGroup(loops.group())
            .channelType(loops.serverChannelType())
            .maxInboundMessageSize(4 * 1024 * 1024)
            .addService(service);
    if (inline) {
      builder.directExecutor();
    } else {
      AtomicInteger id = new AtomicInteger();
      builder.executor(new ThreadPoolExecutor(threads, threads, 60, TimeUnit.SECONDS,
          new LinkedBlockingQueue<>(), r -> {
            Thread t = new Thread(r, "bare-grpc-" + id.incrementAndGet());
            t.setDaemon(true);
            return t;
          }));
    }
    if (rateLimit != null) {
      builder.addService(rateLimit);
    }
    Server server = builder.build().start();
    RateLimit rls = rateLimit;

    HttpServer admin = HttpServer.create(new InetSocketAddress("127.0.0.1", adminPort), 16);
    admin.createContext("/count", exchange -> {
      String text = "bare_checks_total " + service.answered.sum() + "\n"
          + (rls == null ? "" : "bare_ratelimit_total " + rls.answered.sum() + "\n");
      byte[] body = text.getBytes(StandardCharsets.UTF_8);
      exchange.getResponseHeaders().set("Content-Type", "text/plain; charset=utf-8");
      exchange.sendResponseHeaders(200, body.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(body);
      }
    });
    admin.start();

    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      server.shutdown();
      try {
        server.awaitTermination(5, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      admin.stop(0);
      System.out.println("bare_checks_total " + service.answered.sum());
      if (rls != null) {
        System.out.println("bare_ratelimit_total " + rls.answered.sum());
      }
      System.out.flush();
    }, "bare-shutdown"));
    System.out.println("bare authorization server: grpc " + host + ":" + server.getPort()
        + ", count http://127.0.0.1:" + admin.getAddress().getPort() + "/count, "
        + (inline ? "calls on the event loops (direct executor)" : "executor " + threads + " threads"));
    System.out.flush();
    server.awaitTermination();
  }
}
