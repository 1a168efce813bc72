package io.arbiter.accesslog;

import static org.assertj.core.api.Assertions.assertThat;

import io.arbiter.engine.AttributeBag;
import io.arbiter.engine.metrics.Metrics;
import io.envoyproxy.envoy.data.accesslog.v3.HTTPAccessLogEntry;
import io.envoyproxy.envoy.data.accesslog.v3.TCPAccessLogEntry;
import io.envoyproxy.envoy.service.accesslog.v3.AccessLogServiceGrpc;
import io.envoyproxy.envoy.service.accesslog.v3.StreamAccessLogsMessage;
import io.envoyproxy.envoy.service.accesslog.v3.StreamAccessLogsResponse;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** {@code StreamAccessLogs} over the in-process transport, streams shaped the way Envoy sends them. */
class AccessLogServiceTest {
  private final Metrics metrics = new Metrics();
  private final List<AttributeBag> received = Collections.synchronizedList(new ArrayList<>());
  private ReportQueue queue;
  private AccessLogService service;
  private Server server;
  private ManagedChannel channel;

  @BeforeEach
  void start() throws Exception {
    ReportQueue.Sink sink = batch -> {
      received.addAll(batch);
      return CompletableFuture.completedFuture(null);
    };
    queue = ReportQueue.start(sink, QueueSettings.DEFAULT, metrics);
    service = new AccessLogService(queue, new AccessLogEntryMapper(AttributeMapping.defaults()), metrics);
    String name = InProcessServerBuilder.generateName();
    server = InProcessServerBuilder.forName(name).addService(service).build().start();
    channel = InProcessChannelBuilder.forName(name).build();
  }

  @AfterEach
  void stop() throws Exception {
    channel.shutdownNow();
    server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    queue.close(Duration.ofSeconds(5));
  }

  /** What a stream's client saw. */
  static final class Client implements StreamObserver<StreamAccessLogsResponse> {
    final List<StreamAccessLogsResponse> responses = Collections.synchronizedList(new ArrayList<>());
    final CompletableFuture<Status> closed = new CompletableFuture<>();

    @Override
    public void onNext(StreamAccessLogsResponse r) {
      responses.add(r);
    }

    @Override
    public void onError(Throwable t) {
      closed.complete(Status.fromThrowable(t));
    }

    @Override
    public void onCompleted() {
      closed.complete(Status.OK);
    }
  }

  private static List<HTTPAccessLogEntry> batch(String prefix, int from, int n) {
    List<HTTPAccessLogEntry> out = new ArrayList<>();
    for (int i = from; i < from + n; i++) {
      HTTPAccessLogEntry e = Entries.http("/" + prefix + "/" + i, 200);
      out.add(e.toBuilder().setRequest(e.getRequest().toBuilder().setRequestId(prefix + "-" + i)).build());
    }
    return out;
  }

  private static void await(String what, BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting for " + what);
      }
      Thread.sleep(5);
    }
  }

  private long count(String name, String... labels) {
    return metrics.counter(name, "", labels).getCount();
  }

  @Test
  void theIdentifierOfEachStreamsFirstMessageStampsEveryEntryOfThatStreamOnly() throws Exception {
    var stub = AccessLogServiceGrpc.newStub(channel);
    Client clientA = new Client();
    Client clientB = new Client();
    StreamObserver<StreamAccessLogsMessage> a = stub.streamAccessLogs(clientA);
    StreamObserver<StreamAccessLogsMessage> b = stub.streamAccessLogs(clientB);

    // Interleaved, as two Envoys (or two loggers of one) flush their buffers.
    a.onNext(Entries.httpMessage(Entries.identifier("ingress-1", "edge-log"), batch("a", 0, 50)));
    b.onNext(Entries.httpMessage(Entries.identifier("orders-7", "sidecar-log"), batch("b", 0, 30)));
    for (int m = 1; m < 5; m++) {
      a.onNext(Entries.httpMessage(null, batch("a", m * 50, 50)));
      b.onNext(Entries.httpMessage(null, batch("b", m * 30, 30)));
    }
    b.onNext(StreamAccessLogsMessage.newBuilder()
        .setTcpLogs(StreamAccessLogsMessage.TCPAccessLogEntries.newBuilder()
            .addLogEntry(Entries.tcp()).addLogEntry(TCPAccessLogEntry.getDefaultInstance()))
        .build());
    await("both streams open", () -> service.openStreams() == 2);
    a.onCompleted();
    b.onCompleted();

    assertThat(clientA.closed.get(10, TimeUnit.SECONDS)).isEqualTo(Status.OK);
    assertThat(clientB.closed.get(10, TimeUnit.SECONDS)).isEqualTo(Status.OK);
    assertThat(clientA.responses).containsExactly(StreamAccessLogsResponse.getDefaultInstance());
    await("every entry dispatched", () -> received.size() == 250 + 150 + 2);

    Map<String, List<AttributeBag>> byReporter;
    synchronized (received) {
      byReporter = received.stream().collect(Collectors.groupingBy(
          bag -> bag.get("context.reporter.node") + "/" + bag.get("context.reporter.cluster") + "/"
              + bag.get("context.reporter.name")));
    }
    assertThat(byReporter).containsOnlyKeys("ingress-1/ingress/edge-log", "orders-7/orders/sidecar-log");
    assertThat(byReporter.get("ingress-1/ingress/edge-log"))
        .extracting(bag -> bag.get("request.id"))
        .containsExactlyElementsOf(ids("a", 250));
    List<AttributeBag> fromB = byReporter.get("orders-7/orders/sidecar-log");
    assertThat(fromB).hasSize(152);
    assertThat(fromB.subList(0, 150)).extracting(bag -> bag.get("request.id"))
        .containsExactlyElementsOf(ids("b", 150));
    assertThat(fromB.subList(150, 152)).extracting(bag -> bag.get("context.protocol"))
        .containsExactly("tcp", "tcp");

    assertThat(count("arbiter_accesslog_entries_total", "protocol", "http")).isEqualTo(400);
    assertThat(count("arbiter_accesslog_entries_total", "protocol", "tcp")).isEqualTo(2);
    await("both streams closed", () -> service.openStreams() == 0);
  }

  @Test
  void aStreamWithoutIdentifierStillDeliversItsEntries() throws Exception {
    Client client = new Client();
    StreamObserver<StreamAccessLogsMessage> s = AccessLogServiceGrpc.newStub(channel).streamAccessLogs(client);
    s.onNext(Entries.httpMessage(null, batch("x", 0, 3)));
    s.onNext(StreamAccessLogsMessage.getDefaultInstance()); // no entries at all: ignored
    s.onCompleted();
    assertThat(client.closed.get(10, TimeUnit.SECONDS)).isEqualTo(Status.OK);
    await("entries", () -> received.size() == 3);
    assertThat(received).allSatisfy(bag -> assertThat(bag.names()).noneMatch(n -> n.startsWith("context.reporter.")));
  }

  @Test
  void closeStreamsEndsOpenStreamsWithOkAndNewOnesAtOnce() throws Exception {
    var stub = AccessLogServiceGrpc.newStub(channel);
    Client client = new Client();
    StreamObserver<StreamAccessLogsMessage> s = stub.streamAccessLogs(client);
    s.onNext(Entries.httpMessage(Entries.identifier("ingress-1", "edge-log"), batch("a", 0, 5)));
    await("entries", () -> received.size() == 5);

    service.closeStreams();
    assertThat(client.closed.get(10, TimeUnit.SECONDS)).isEqualTo(Status.OK);
    assertThat(client.responses).hasSize(1);
    assertThat(service.openStreams()).isZero();

    Client late = new Client();
    stub.streamAccessLogs(late);
    assertThat(late.closed.get(10, TimeUnit.SECONDS)).isEqualTo(Status.OK);
  }

  @Test
  void aClientThatGoesAwayLeavesWhatItSentQueued() throws Exception {
    ReportQueue.Sink slow = batch -> new CompletableFuture<Void>(); // never completes
    ReportQueue stuck = ReportQueue.start(slow,
        QueueSettings.DEFAULT.withMaxBatchesInFlight(1).withBatchSize(1), new Metrics());
    AccessLogService svc = new AccessLogService(stuck, new AccessLogEntryMapper(AttributeMapping.defaults()), new Metrics());
    String name = InProcessServerBuilder.generateName();
    Server s2 = InProcessServerBuilder.forName(name).addService(svc).build().start();
    ManagedChannel ch = InProcessChannelBuilder.forName(name).build();
    try {
      Client client = new Client();
      StreamObserver<StreamAccessLogsMessage> s = AccessLogServiceGrpc.newStub(ch).streamAccessLogs(client);
      s.onNext(Entries.httpMessage(Entries.identifier("n", "l"), batch("a", 0, 100)));
      await("the entries to be queued (one is with the stuck sink)", () -> stuck.depth() == 99);
      s.onError(Status.CANCELLED.asRuntimeException());
      await("the stream to close", () -> svc.openStreams() == 0);
      assertThat(stuck.depth()).isEqualTo(99);
    } finally {
      ch.shutdownNow();
      s2.shutdownNow();
      stuck.close(Duration.ofMillis(50));
    }
  }

  /**
   * Bytes that do not parse end the stream as gRPC's own protobuf marshaller ends it: the decoder
   * behind {@code bindService()} throws what that marshaller throws (INTERNAL, "Invalid protobuf
   * byte sequence"), and gRPC fails the call alike on both bindings.
   */
  @Test
  void aMessageThatDoesNotParseFailsTheStreamAsTheGeneratedBindingDoes() throws Exception {
    String generatedName = InProcessServerBuilder.generateName();
    Server generated = InProcessServerBuilder.forName(generatedName)
        .addService(AccessLogServiceGrpc.bindService(service)).build().start();
    ManagedChannel generatedChannel = InProcessChannelBuilder.forName(generatedName).build();
    byte[] good = Entries.httpMessage(Entries.identifier("n-1", "l"), batch("g", 0, 2)).toByteArray();
    List<byte[]> bad = List.of(
        java.util.Arrays.copyOf(good, good.length - 3),
        new byte[] {0x12, 0x05, 0x0a, 0x03, 0x0a, 0x01, (byte) 0xff}, // a string that is not UTF-8
        new byte[] {0x0f});
    try {
      for (byte[] b : bad) {
        Status ours = sendRaw(channel, good, b);
        Status theirs = sendRaw(generatedChannel, good, b);
        // gRPC closes the call itself when the marshaller throws; the client sees UNKNOWN.
        assertThat(ours.getCode()).isEqualTo(theirs.getCode()).isEqualTo(Status.Code.UNKNOWN);
        assertThat(ours.getDescription()).isEqualTo(theirs.getDescription());
      }
      // The good first message of each stream got through, on both bindings.
      await("entries", () -> received.size() == 2 * 2 * bad.size());
      await("the failed streams to leave the open set", () -> service.openStreams() == 0);
    } finally {
      generatedChannel.shutdownNow();
      generated.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  /** Sends {@code first} then {@code second} as raw message bytes; the status the stream ended with. */
  private static Status sendRaw(ManagedChannel channel, byte[] first, byte[] second) throws Exception {
    MethodDescriptor<byte[], StreamAccessLogsResponse> raw =
        AccessLogServiceGrpc.getStreamAccessLogsMethod().toBuilder(new MethodDescriptor.Marshaller<byte[]>() {
          @Override
          public java.io.InputStream stream(byte[] value) {
            return new java.io.ByteArrayInputStream(value);
          }

          @Override
          public byte[] parse(java.io.InputStream stream) {
            throw new UnsupportedOperationException();
          }
        }, AccessLogServiceGrpc.getStreamAccessLogsMethod().getResponseMarshaller()).build();
    Client client = new Client();
    StreamObserver<byte[]> call = ClientCalls.asyncBidiStreamingCall(
        channel.newCall(raw, CallOptions.DEFAULT), client);
    call.onNext(first);
    call.onNext(second);
    Status status = client.closed.get(10, TimeUnit.SECONDS);
    call.onCompleted();
    return status;
  }

  private static List<String> ids(String prefix, int n) {
    List<String> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(prefix + "-" + i);
    }
    return out;
  }
}
