package io.arbiter.accesslog;

import static org.assertj.core.api.Assertions.assertThat;

import io.arbiter.engine.PolicyEngine;
import io.arbiter.engine.spi.Instance;
import io.arbiter.engine.testing.RecordingReportAdapter;
import io.arbiter.engine.testing.TestEngines;
import io.envoyproxy.envoy.service.accesslog.v3.AccessLogServiceGrpc;
import io.envoyproxy.envoy.service.accesslog.v3.StreamAccessLogsMessage;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.opentelemetry.proto.collector.logs.v1.LogsServiceGrpc;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The whole front end over a real socket: Envoy-shaped access-log streams and an OTLP export reach
 * a report handler through the engine, and closing flushes everything.
 */
class AccessLogsGrpcTest {
  private static final String CONFIG = """
      handlers: [{name: sink, adapter: recorder}]
      instances:
        - name: access
          template: logentry
          params:
            severity: "response.code >= 500 ? 'ERROR' : 'INFO'"
            variables:
              path: request.path
              code: response.code
              user: "request.headers[?'x-user'].orValue('')"
              reporter: context.reporter.node
              decision: "context.metadata[?'envoy.filters.http.ext_authz'].orValue({})[?'decision_id'].orValue('')"
      rules:
        - name: http-access
          match: "context.protocol == 'http'"
          actions: [{handler: sink, instances: [access]}]
      """;

  private PolicyEngine engine;
  private AccessLogs accessLogs;
  private Server server;
  private ManagedChannel channel;

  @AfterEach
  void stop() throws Exception {
    if (channel != null) {
      channel.shutdownNow();
    }
    if (server != null) {
      server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    if (accessLogs != null) {
      accessLogs.close(Duration.ofSeconds(1));
    }
    if (engine != null) {
      engine.close();
      engine.services().close();
    }
  }

  @Test
  void streamsAndOtlpReachTheReportHandlerOverRealSockets() throws Exception {
    RecordingReportAdapter recorder = new RecordingReportAdapter();
    engine = TestEngines.engine(CONFIG, recorder);
    accessLogs = AccessLogs.start(engine, AccessLogs.Options.DEFAULT);
    server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
        .addService(accessLogs.accessLogService())
        .addService(accessLogs.otlpLogsService())
        .build().start();
    channel = NettyChannelBuilder.forAddress("127.0.0.1", server.getPort()).usePlaintext().build();

    var stub = AccessLogServiceGrpc.newStub(channel);
    AccessLogServiceTest.Client a = new AccessLogServiceTest.Client();
    AccessLogServiceTest.Client b = new AccessLogServiceTest.Client();
    var streamA = stub.streamAccessLogs(a);
    var streamB = stub.streamAccessLogs(b);
    for (int m = 0; m < 10; m++) {
      streamA.onNext(Entries.httpMessage(
          m == 0 ? Entries.identifier("ingress-1", "edge") : null,
          java.util.Collections.nCopies(20, Entries.http("/a", 200))));
      streamB.onNext(Entries.httpMessage(
          m == 0 ? Entries.identifier("orders-7", "sidecar") : null,
          java.util.Collections.nCopies(20, Entries.http("/b", 503))));
    }
    LogsServiceGrpc.newBlockingStub(channel).export(OtlpLogMapperTest.request(
        OtlpLogMapperTest.envoyResource("front-proxy-1"), OtlpLogMapperTest.envoyRecord("/otlp", "201")));
    streamA.onCompleted();
    assertThat(a.closed.get(10, TimeUnit.SECONDS)).isEqualTo(Status.OK);

    // Every entry sent has arrived (the protocol has no acknowledgement: what Envoy sends after
    // the server ends a stream is lost, so this is the point a shutdown starts from).
    var metrics = engine.services().metrics();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (metrics.counter("arbiter_accesslog_entries_total", "", "protocol", "http").getCount() < 401) {
      assertThat(System.nanoTime()).as("entries arrived in time").isLessThan(deadline);
      Thread.sleep(5);
    }

    // Shutdown as the server does it: end the streams, stop the transport, flush the queue.
    accessLogs.stopStreams();
    assertThat(b.closed.get(10, TimeUnit.SECONDS)).isEqualTo(Status.OK);
    server.shutdown().awaitTermination(10, TimeUnit.SECONDS);
    assertThat(accessLogs.close(Duration.ofSeconds(10))).isTrue();

    List<Instance.LogEntry> logs = recorder.all().stream().map(i -> (Instance.LogEntry) i).toList();
    assertThat(logs).hasSize(401);
    Map<String, Long> byReporterAndCode = logs.stream().collect(Collectors.groupingBy(
        l -> l.variables().get("reporter") + " " + l.variables().get("path") + " " + l.variables().get("code")
            + " " + l.severity(),
        Collectors.counting()));
    assertThat(byReporterAndCode).containsOnly(
        Map.entry("ingress-1 /a 200 INFO", 200L),
        Map.entry("orders-7 /b 503 ERROR", 200L),
        Map.entry("front-proxy-1 /otlp 201 INFO", 1L));
    assertThat(logs).filteredOn(l -> !l.variables().get("path").equals("/otlp"))
        .allSatisfy(l -> {
          assertThat(l.variables().get("user")).isEqualTo("alice");
          assertThat(l.variables().get("decision")).isEqualTo("0123456789abcdef");
        });
  }
}
