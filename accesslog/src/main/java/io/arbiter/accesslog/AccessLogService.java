package io.arbiter.accesslog;

import com.codahale.metrics.Counter;
import io.arbiter.engine.AttributeBag;
import io.arbiter.engine.metrics.Metrics;
import io.arbiter.engine.spi.LogLimiter;
import io.envoyproxy.envoy.service.accesslog.v3.AccessLogServiceGrpc;
import io.envoyproxy.envoy.service.accesslog.v3.StreamAccessLogsMessage;
import io.envoyproxy.envoy.service.accesslog.v3.StreamAccessLogsResponse;
import io.grpc.BindableService;
import io.grpc.MethodDescriptor;
import io.grpc.ServerServiceDefinition;
import io.grpc.ServiceDescriptor;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Envoy's {@code envoy.service.accesslog.v3.AccessLogService/StreamAccessLogs}: the sink of the
 * {@code envoy.access_loggers.http_grpc} and {@code tcp_grpc} loggers. Each stream's first message
 * carries the {@code Identifier} (node and log name); the stream keeps it and stamps {@code
 * context.reporter.*} on every entry that follows on it (a later identifier replaces it). Entries
 * are mapped ({@link AccessLogEntryMapper}) and offered to the {@link ReportQueue} on the calling
 * gRPC thread, which never waits for the engine, so a stream is never held back.
 *
 * <p>{@link #bindService()} binds the method with a request marshaller of its own: the message's
 * bytes go through {@link AccessLogWireDecoder}, which makes the same attributes as the generated
 * parse and {@link AccessLogEntryMapper} without building the generated entries, and rejects what
 * the generated parser rejects with what gRPC's protobuf marshaller throws, so gRPC ends such a
 * call as it did before (the client sees {@code UNKNOWN}). {@link
 * #streamAccessLogs} still takes generated messages, for callers that bind the service otherwise
 * ({@code AccessLogServiceGrpc.bindService(service)}). (The generated {@code
 * AccessLogServiceImplBase} makes {@code bindService()} final, hence {@code AsyncService} and
 * {@link BindableService} implemented directly.)
 *
 * <p>A stream stays open as long as Envoy keeps it; when Envoy half-closes it, it gets the empty
 * {@code StreamAccessLogsResponse}. {@link #closeStreams()} ends every open stream with OK on
 * shutdown (Envoy opens a new one, to another replica, for its next entries). Counted: {@code
 * arbiter_accesslog_entries_total{protocol}} (accepted entries: {@code http}, {@code grpc}, {@code
 * tcp}), {@code arbiter_accesslog_streams} (open streams), {@code
 * arbiter_accesslog_rejected_total{reason="invalid"}} (an entry the mapper failed on, logged).
 *
 * <p>Thread-safe.
 */
public final class AccessLogService implements AccessLogServiceGrpc.AsyncService, BindableService {
  private static final System.Logger LOG = System.getLogger("arbiter.accesslog");

  private final ReportQueue queue;
  private final AccessLogWireDecoder decoder;
  private final ProtocolCounters entries;
  private final Counter invalid;
  private final LogLimiter errorLog = new LogLimiter(5);
  private final Set<Stream> open = ConcurrentHashMap.newKeySet();
  private volatile boolean closing;

  public AccessLogService(ReportQueue queue, AccessLogEntryMapper mapper, Metrics metrics) {
    this.queue = Objects.requireNonNull(queue, "queue");
    Counter generatedParses = metrics.counter("arbiter_accesslog_generated_parses_total",
        "StreamAccessLogs messages read by the generated parser instead of the wire decoder: malformed"
            + " ones, and encodings it leaves to that parser (groups, a oneof switching back).");
    this.decoder = new AccessLogWireDecoder(Objects.requireNonNull(mapper, "mapper"), generatedParses::inc);
    this.entries = new ProtocolCounters(metrics);
    this.invalid = metrics.counter("arbiter_accesslog_rejected_total",
        "Access-log entries not accepted, by reason.", "reason", "invalid");
    // Registered for the process: a second service (tests) reads the newest set of streams.
    metrics.gauge("arbiter_accesslog_streams", "Open AccessLogService streams.", open::size);
  }

  /** Open streams. */
  public int openStreams() {
    return open.size();
  }

  /**
   * Ends every open stream with the empty response and OK, and ends new ones as they open. For
   * shutdown: the gRPC server's drain then need not wait for Envoy's long-lived streams.
   */
  public void closeStreams() {
    closing = true;
    for (Stream s : open) {
      s.finish();
    }
  }

  /**
   * The service with {@code StreamAccessLogs} taking its requests through {@link
   * AccessLogWireDecoder}: the generated method's name, type, response marshaller and schema, and
   * {@link StreamAccessLogsMarshaller} for requests.
   */
  @Override
  public ServerServiceDefinition bindService() {
    MethodDescriptor<StreamAccessLogsMessage, StreamAccessLogsResponse> generated =
        AccessLogServiceGrpc.getStreamAccessLogsMethod();
    MethodDescriptor<AccessLogWireDecoder.Message, StreamAccessLogsResponse> method =
        generated.toBuilder(new StreamAccessLogsMarshaller(decoder), generated.getResponseMarshaller())
            .build();
    ServiceDescriptor service = ServiceDescriptor.newBuilder(AccessLogServiceGrpc.SERVICE_NAME)
        .setSchemaDescriptor(AccessLogServiceGrpc.getServiceDescriptor().getSchemaDescriptor())
        .addMethod(method)
        .build();
    return ServerServiceDefinition.builder(service)
        .addMethod(method, ServerCalls.asyncBidiStreamingCall(this::open))
        .build();
  }

  /** The generated method's form: each message is mapped as {@link AccessLogEntryMapper} maps it. */
  @Override
  public StreamObserver<StreamAccessLogsMessage> streamAccessLogs(
      StreamObserver<StreamAccessLogsResponse> responseObserver) {
    Stream s = open(responseObserver);
    return new StreamObserver<>() {
      @Override
      public void onNext(StreamAccessLogsMessage message) {
        s.onNext(decoder.of(message));
      }

      @Override
      public void onError(Throwable t) {
        s.onError(t);
      }

      @Override
      public void onCompleted() {
        s.onCompleted();
      }
    };
  }

  private Stream open(StreamObserver<StreamAccessLogsResponse> responseObserver) {
    Stream s = new Stream(responseObserver);
    if (responseObserver instanceof ServerCallStreamObserver<StreamAccessLogsResponse> call) {
      call.setOnCancelHandler(() -> open.remove(s));
      // gRPC itself closes a call whose request does not parse, telling the request observer
      // nothing: without this the stream stayed in the open set (and the gauge) for good.
      call.setOnCloseHandler(() -> open.remove(s));
    }
    open.add(s);
    if (closing) {
      s.finish();
    }
    return s;
  }

  /** One stream: its identifier, and the call to answer. */
  private final class Stream implements StreamObserver<AccessLogWireDecoder.Message> {
    private final StreamObserver<StreamAccessLogsResponse> response;
    private Reporter reporter = Reporter.NONE;
    private boolean done;

    Stream(StreamObserver<StreamAccessLogsResponse> response) {
      this.response = response;
    }

    @Override
    public void onNext(AccessLogWireDecoder.Message message) {
      if (message.identifier() != null) {
        reporter = message.identifier();
      }
      int n = message.size();
      List<AttributeBag> bags = n == 0 ? List.of() : new ArrayList<>(n);
      for (int i = 0; i < n; i++) {
        add(bags, message, i);
      }
      queue.offerAll(bags);
    }

    private void add(List<AttributeBag> bags, AccessLogWireDecoder.Message message, int i) {
      AttributeBag bag;
      try {
        bag = message.map(i, reporter);
      } catch (RuntimeException e) {
        invalid.inc();
        long suppressed = errorLog.tryAcquire(System.currentTimeMillis());
        if (suppressed >= 0) {
          LOG.log(System.Logger.Level.WARNING, "an access-log entry from {0} could not be mapped: {1}{2}",
              reporter, e, suppressed > 0 ? " (" + suppressed + " similar messages suppressed)" : "");
        }
        return;
      }
      entries.inc(bag);
      bags.add(bag);
    }

    @Override
    public void onError(Throwable t) {
      // Envoy went away (or the call was cancelled): what was received is queued already.
      open.remove(this);
    }

    @Override
    public void onCompleted() {
      finish();
    }

    synchronized void finish() {
      open.remove(this);
      if (done) {
        return;
      }
      done = true;
      try {
        response.onNext(StreamAccessLogsResponse.getDefaultInstance());
        response.onCompleted();
      } catch (RuntimeException e) {
        // the call ended meanwhile
      }
    }
  }
}
