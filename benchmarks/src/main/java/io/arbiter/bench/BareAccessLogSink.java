package io.arbiter.bench;

import com.sun.net.httpserver.HttpServer;
import io.envoyproxy.envoy.service.accesslog.v3.AccessLogServiceGrpc;
import io.envoyproxy.envoy.service.accesslog.v3.StreamAccessLogsMessage;
import io.envoyproxy.envoy.service.accesslog.v3.StreamAccessLogsResponse;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * The baseline of the ingest benchmark ({@code load/ingest.sh}): an {@code
 * envoy.service.accesslog.v3.AccessLogService/StreamAccessLogs} sink that parses every message
 * (grpc-java's protobuf marshaller does, in full) and discards it, counting entries. Built with
 * exactly Arbiter's transport, like {@link BareAuthorizationServer}: a {@link NettyServerBuilder},
 * a fixed executor of {@code max(2, cores)} daemon threads on an unbounded queue, a 4 MiB inbound
 * limit. So Arbiter's entries per CPU-second against this sink's, in the same run, is the cost of
 * Arbiter's own work (mapping, queue, rules, instances, adapters) over gRPC and protobuf.
 *
 * <p>protobuf-java keeps string fields as UTF-8 bytes until they are read, so this sink does not
 * even decode the strings: it is the cheapest honest reader of the stream.
 *
 * <p>Counts on {@code GET http://127.0.0.1:ADMIN_PORT/count}: {@code bare_als_entries_total},
 * {@code bare_als_messages_total}, {@code bare_als_streams_total} (opened), {@code
 * bare_als_identifiers_total} (messages carrying an Identifier); also printed at exit (SIGTERM).
 *
 * <p>Run: {@code java -cp benchmarks/target/benchmarks.jar io.arbiter.bench.BareAccessLogSink
 * [--host 127.0.0.1] [--port 9191] [--admin-port 9902]}.
 */
public final class BareAccessLogSink extends AccessLogServiceGrpc.AccessLogServiceImplBase {
  final LongAdder entries = new LongAdder();
  final LongAdder messages = new LongAdder();
  final LongAdder streams = new LongAdder();
  final LongAdder identifiers = new LongAdder();

  @Override
  public StreamObserver<StreamAccessLogsMessage> streamAccessLogs(
      StreamObserver<StreamAccessLogsResponse> response) {
    streams.increment();
    return new StreamObserver<>() {
      @Override
      public void onNext(StreamAccessLogsMessage message) {
        if (message.hasIdentifier()) {
          identifiers.increment();
        }
        int n = switch (message.getLogEntriesCase()) {
          case HTTP_LOGS -> message.getHttpLogs().getLogEntryCount();
          case TCP_LOGS -> message.getTcpLogs().getLogEntryCount();
          default -> 0;
        };
        entries.add(n);
        messages.increment();
      }

      @Override
      public void onError(Throwable t) {
        // the client went away
      }

      @Override
      public void onCompleted() {
        response.onNext(StreamAccessLogsResponse.getDefaultInstance());
        response.onCompleted();
      }
    };
  }

  String counts() {
    return "bare_als_entries_total " + entries.sum() + "\n"
        + "bare_als_messages_total " + messages.sum() + "\n"
        + "bare_als_streams_total " + streams.sum() + "\n"
        + "bare_als_identifiers_total " + identifiers.sum() + "\n";
  }

  public static void main(String[] args) throws IOException, InterruptedException {
    String host = "127.0.0.1";
    int port = 9191;
    int adminPort = 9902;
    for (int i = 0; i < args.length; i++) {
      String value = i + 1 < args.length ? args[i + 1] : null;
      switch (args[i]) {
        case "--host" -> host = value;
        case "--port" -> port = Integer.parseInt(value);
        case "--admin-port" -> adminPort = Integer.parseInt(value);
        default -> {
          System.err.println("usage: BareAccessLogSink [--host H] [--port N] [--admin-port N]");
          System.exit(2);
        }
      }
      i++;
    }
    BareAccessLogSink sink = new BareAccessLogSink();
    // Exactly ArbiterServer's transport: same builder, executor sizing and kind, message limit.
    int threads = Math.max(2, Runtime.getRuntime().availableProcessors());
    AtomicInteger id = new AtomicInteger();
    ExecutorService executor =
        new ThreadPoolExecutor(threads, threads, 60, TimeUnit.SECONDS, new LinkedBlockingQueue<>(), r -> {
          Thread t = new Thread(r, "bare-grpc-" + id.incrementAndGet());
          t.setDaemon(true);
          return t;
        });
    Server server =
        NettyServerBuilder.forAddress(new InetSocketAddress(host, port))
            .executor(executor)
            .maxInboundMessageSize(4 * 1024 * 1024)
            .addService(sink)
            .build()
            .start();

    HttpServer admin = HttpServer.create(new InetSocketAddress("127.0.0.1", adminPort), 16);
    admin.createContext("/count", exchange -> {
      byte[] body = sink.counts().getBytes(StandardCharsets.UTF_8);
      exchange.getResponseHeaders().set("Content-Type", "text/plain; charset=utf-8");
      exchange.sendResponseHeaders(200, body.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(body);
      }
    });
    admin.start();

    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      server.shutdownNow();
      admin.stop(0);
      System.out.print(sink.counts());
      System.out.flush();
    }, "bare-shutdown"));
    System.out.println("bare access-log sink: grpc " + host + ":" + server.getPort()
        + ", count http://127.0.0.1:" + admin.getAddress().getPort() + "/count, executor "
        + threads + " threads");
    System.out.flush();
    server.awaitTermination();
  }
}
