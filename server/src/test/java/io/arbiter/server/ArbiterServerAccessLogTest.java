package io.arbiter.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.UInt32Value;
import io.arbiter.accesslog.AccessLogs;
import io.arbiter.accesslog.AttributeMapping;
import io.arbiter.accesslog.QueueSettings;
import io.arbiter.engine.spi.Instance;
import io.arbiter.engine.testing.RecordingReportAdapter;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.config.core.v3.RequestMethod;
import io.envoyproxy.envoy.data.accesslog.v3.AccessLogCommon;
import io.envoyproxy.envoy.data.accesslog.v3.HTTPAccessLogEntry;
import io.envoyproxy.envoy.data.accesslog.v3.HTTPRequestProperties;
import io.envoyproxy.envoy.data.accesslog.v3.HTTPResponseProperties;
import io.envoyproxy.envoy.service.accesslog.v3.AccessLogServiceGrpc;
import io.envoyproxy.envoy.service.accesslog.v3.StreamAccessLogsMessage;
import io.envoyproxy.envoy.service.accesslog.v3.StreamAccessLogsResponse;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceResponse;
import io.opentelemetry.proto.collector.logs.v1.LogsServiceGrpc;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.logs.v1.LogRecord;
import io.opentelemetry.proto.logs.v1.ResourceLogs;
import io.opentelemetry.proto.logs.v1.ScopeLogs;
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
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Access logs through the whole server over real sockets: Envoy's stream and OTLP on the gRPC
 * port reach the report rules; the admin port shows the front end's metrics; shutdown ends the
 * open streams and flushes the queue.
 */
class ArbiterServerAccessLogTest {
  private static final String CONFIG = """
      handlers: [{name: sink, adapter: recorder}]
      instances:
        - name: access
          template: logentry
          params:
            variables: {path: request.path, code: response.code, node: context.reporter.node}
      rules:
        - name: http-access
          match: "context.protocol == 'http'"
          actions: [{handler: sink, instances: [access]}]
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

  private RecordingReportAdapter start(AccessLogs.Options options) throws Exception {
    Path config = dir.resolve("policy.yaml");
    Files.writeString(config, CONFIG);
    server = ArbiterServer.start(
        ArbiterServer.Options.defaults()
            .withConfig(new ConfigSource.Files(config))
            .withPorts(0, 0)
            .withHosts("127.0.0.1", "127.0.0.1")
            .withDrainTimeout(Duration.ofSeconds(5)),
        options);
    server.whenReady().get(10, TimeUnit.SECONDS);
    channel = NettyChannelBuilder.forAddress("127.0.0.1", server.grpcPort()).usePlaintext().build();
    return (RecordingReportAdapter) server.engine().services().adapters().get("recorder");
  }

  private static HTTPAccessLogEntry entry(String path, int code) {
    return HTTPAccessLogEntry.newBuilder()
        .setCommonProperties(AccessLogCommon.newBuilder().setSampleRate(1))
        .setRequest(HTTPRequestProperties.newBuilder().setRequestMethod(RequestMethod.GET).setPath(path))
        .setResponse(HTTPResponseProperties.newBuilder().setResponseCode(UInt32Value.of(code)))
        .build();
  }

  private static StreamAccessLogsMessage message(String node, List<HTTPAccessLogEntry> entries) {
    StreamAccessLogsMessage.Builder m = StreamAccessLogsMessage.newBuilder()
        .setHttpLogs(StreamAccessLogsMessage.HTTPAccessLogEntries.newBuilder().addAllLogEntry(entries));
    if (node != null) {
      m.setIdentifier(StreamAccessLogsMessage.Identifier.newBuilder()
          .setNode(Node.newBuilder().setId(node).setCluster("edge")).setLogName("edge-log"));
    }
    return m.build();
  }

  private static final class Client implements StreamObserver<StreamAccessLogsResponse> {
    final CompletableFuture<Status> closed = new CompletableFuture<>();

    @Override
    public void onNext(StreamAccessLogsResponse value) {}

    @Override
    public void onError(Throwable t) {
      closed.complete(Status.fromThrowable(t));
    }

    @Override
    public void onCompleted() {
      closed.complete(Status.OK);
    }
  }

  private String metrics() throws Exception {
    return HttpClient.newHttpClient().send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.adminPort() + "/metrics")).build(),
        HttpResponse.BodyHandlers.ofString()).body();
  }

  private static void eventually(String what, BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting for " + what);
      }
      Thread.sleep(20);
    }
  }

  @Test
  void envoyStreamsAndOtlpReachTheReportRulesAndShutdownFlushes() throws Exception {
    RecordingReportAdapter recorder = start(AccessLogs.Options.DEFAULT);
    Client client = new Client();
    StreamObserver<StreamAccessLogsMessage> stream =
        AccessLogServiceGrpc.newStub(channel).streamAccessLogs(client);
    stream.onNext(message("edge-1", List.of(entry("/a", 200), entry("/b", 404))));
    stream.onNext(message(null, List.of(entry("/c", 503))));
    ExportLogsServiceResponse otlp = LogsServiceGrpc.newBlockingStub(channel).export(
        ExportLogsServiceRequest.newBuilder().addResourceLogs(ResourceLogs.newBuilder()
            .addScopeLogs(ScopeLogs.newBuilder().addLogRecords(LogRecord.newBuilder()
                .addAttributes(kv("path", "/otlp")).addAttributes(kv("response_code", "201"))
                .addAttributes(kv("node_name", "edge-2")))))
            .build());
    assertThat(otlp.hasPartialSuccess()).isFalse();

    eventually("four log entries", () -> recorder.all().size() == 4);
    Map<Object, String> byPath = recorder.all().stream().map(i -> (Instance.LogEntry) i)
        .collect(Collectors.toMap(l -> l.variables().get("path"),
            l -> l.variables().get("code") + " " + l.variables().get("node")));
    assertThat(byPath).containsOnly(
        Map.entry("/a", "200 edge-1"), Map.entry("/b", "404 edge-1"), Map.entry("/c", "503 edge-1"),
        Map.entry("/otlp", "201 edge-2"));
    String m = metrics();
    assertThat(m).contains("arbiter_accesslog_entries_total{protocol=\"http\"} 4\n")
        .contains("arbiter_accesslog_dispatched_total 4\n")
        .contains("arbiter_accesslog_queue_depth 0\n")
        .contains("arbiter_accesslog_queue_capacity 20000\n")
        .contains("arbiter_accesslog_streams 1\n")
        .contains("arbiter_accesslog_dropped_total{reason=\"queue_full\"} 0\n")
        .contains("arbiter_reports_total 4\n")
        .contains("arbiter_rule_matches_total{rule=\"http-access\"} 4\n");

    // Envoy never closes its stream; shutdown ends it with OK instead of waiting out the drain.
    stream.onNext(message(null, List.of(entry("/d", 200))));
    eventually("the last entry to arrive", () -> {
      try {
        return metrics().contains("arbiter_accesslog_entries_total{protocol=\"http\"} 5\n");
      } catch (Exception e) {
        return false;
      }
    });
    server.close();
    assertThat(client.closed.get(10, TimeUnit.SECONDS)).isEqualTo(Status.OK);
    assertThat(recorder.all()).hasSize(5);
  }

  @Test
  void spillOptionsReachTheQueue() throws Exception {
    Path spill = dir.resolve("spill");
    start(new AccessLogs.Options(
        QueueSettings.DEFAULT.withCapacity(10).withOverflow(QueueSettings.Overflow.SPILL, spill),
        AttributeMapping.defaults()));
    assertThat(metrics()).contains("arbiter_accesslog_queue_capacity 10\n")
        .contains("arbiter_accesslog_spill_entries 0\n");
    assertThat(spill.resolve("spill.lock")).exists();
  }

  private static KeyValue kv(String k, String v) {
    return KeyValue.newBuilder().setKey(k).setValue(AnyValue.newBuilder().setStringValue(v)).build();
  }
}
