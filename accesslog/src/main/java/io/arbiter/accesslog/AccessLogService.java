package io.arbiter.accesslog;

import com.codahale.metrics.Counter;
import io.arbiter.engine.AttributeBag;
import io.arbiter.engine.metrics.Metrics;
import io.arbiter.engine.spi.LogLimiter;
import io.envoyproxy.envoy.data.accesslog.v3.HTTPAccessLogEntry;
import io.envoyproxy.envoy.data.accesslog.v3.TCPAccessLogEntry;
import io.envoyproxy.envoy.service.accesslog.v3.AccessLogServiceGrpc;
import io.envoyproxy.envoy.service.accesslog.v3.StreamAccessLogsMessage;
import io.envoyproxy.envoy.service.accesslog.v3.StreamAccessLogsResponse;
import io.grpc.stub.ServerCallStreamObserver;
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
 * <p>A stream stays open as long as Envoy keeps it; when Envoy half-closes it, it gets the empty
 * {@code StreamAccessLogsResponse}. {@link #closeStreams()} ends every open stream with OK on
 * shutdown (Envoy opens a new one, to another replica, for its next entries). Counted: {@code
 * arbiter_accesslog_entries_total{protocol}} (accepted entries: {@code http}, {@code grpc}, {@code
 * tcp}), {@code arbiter_accesslog_streams} (open streams), {@code
 * arbiter_accesslog_rejected_total{reason="invalid"}} (an entry the mapper failed on, logged).
 *
 * <p>Thread-safe.
 */
public final class AccessLogService extends AccessLogServiceGrpc.AccessLogServiceImplBase {
  private static final System.Logger LOG = System.getLogger("arbiter.accesslog");

  private final ReportQueue queue;
  private final AccessLogEntryMapper mapper;
  private final ProtocolCounters entries;
  private final Counter invalid;
  private final LogLimiter errorLog = new LogLimiter(5);
  private final Set<Stream> open = ConcurrentHashMap.newKeySet();
  private volatile boolean closing;

  public AccessLogService(ReportQueue queue, AccessLogEntryMapper mapper, Metrics metrics) {
    this.queue = Objects.requireNonNull(queue, "queue");
    this.mapper = Objects.requireNonNull(mapper, "mapper");
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

  @Override
  public StreamObserver<StreamAccessLogsMessage> streamAccessLogs(
      StreamObserver<StreamAccessLogsResponse> responseObserver) {
    Stream s = new Stream(responseObserver);
    if (responseObserver instanceof ServerCallStreamObserver<StreamAccessLogsResponse> call) {
      call.setOnCancelHandler(() -> open.remove(s));
    }
    open.add(s);
    if (closing) {
      s.finish();
    }
    return s;
  }

  /** One stream: its identifier, and the call to answer. */
  private final class Stream implements StreamObserver<StreamAccessLogsMessage> {
    private final StreamObserver<StreamAccessLogsResponse> response;
    private Reporter reporter = Reporter.NONE;
    private boolean done;

    Stream(StreamObserver<StreamAccessLogsResponse> response) {
      this.response = response;
    }

    @Override
    public void onNext(StreamAccessLogsMessage message) {
      if (message.hasIdentifier()) {
        reporter = Reporter.of(message.getIdentifier());
      }
      List<AttributeBag> bags;
      switch (message.getLogEntriesCase()) {
        case HTTP_LOGS -> {
          List<HTTPAccessLogEntry> list = message.getHttpLogs().getLogEntryList();
          bags = new ArrayList<>(list.size());
          for (HTTPAccessLogEntry e : list) {
            add(bags, e, null);
          }
        }
        case TCP_LOGS -> {
          List<TCPAccessLogEntry> list = message.getTcpLogs().getLogEntryList();
          bags = new ArrayList<>(list.size());
          for (TCPAccessLogEntry e : list) {
            add(bags, null, e);
          }
        }
        default -> bags = List.of();
      }
      queue.offerAll(bags);
    }

    private void add(List<AttributeBag> bags, HTTPAccessLogEntry http, TCPAccessLogEntry tcp) {
      AttributeBag bag;
      try {
        bag = http != null ? mapper.map(http, reporter) : mapper.map(tcp, reporter);
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
