package io.arbiter.accesslog;

import com.codahale.metrics.Counter;
import io.arbiter.engine.AttributeBag;
import io.arbiter.engine.metrics.Metrics;
import io.arbiter.engine.spi.LogLimiter;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsPartialSuccess;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceResponse;
import io.opentelemetry.proto.collector.logs.v1.LogsServiceGrpc;
import io.grpc.stub.StreamObserver;
import java.util.LinkedHashSet;
import java.util.Objects;
import java.util.Set;

/**
 * The OTLP logs receiver ({@code opentelemetry.proto.collector.logs.v1.LogsService/Export}), for
 * Envoy's OpenTelemetry access logger. Records are mapped ({@link OtlpLogMapper}) and offered to
 * the {@link ReportQueue} on the calling thread; the call is answered at once, never waiting for
 * the engine.
 *
 * <p>The answer is an {@code ExportLogsServiceResponse}: empty when every record was accepted;
 * with {@code partial_success.rejected_log_records} and an {@code error_message} naming some of the
 * unknown keys when records were rejected (none of their keys is in the mapping); with only an
 * {@code error_message} (a warning, per OTLP) when some values did not convert. Counted: {@code
 * arbiter_accesslog_entries_total{protocol}}, {@code
 * arbiter_accesslog_rejected_total{reason="unmapped"}}, {@code
 * arbiter_accesslog_invalid_values_total{attribute}}.
 *
 * <p>Thread-safe.
 */
public final class OtlpLogsService extends LogsServiceGrpc.LogsServiceImplBase {
  private static final System.Logger LOG = System.getLogger("arbiter.accesslog");

  private final ReportQueue queue;
  private final OtlpLogMapper mapper;
  private final Metrics metrics;
  private final ProtocolCounters entries;
  private final Counter unmapped;
  private final LogLimiter warnings = new LogLimiter(1);

  public OtlpLogsService(ReportQueue queue, OtlpLogMapper mapper, Metrics metrics) {
    this.queue = Objects.requireNonNull(queue, "queue");
    this.mapper = Objects.requireNonNull(mapper, "mapper");
    this.metrics = metrics;
    this.entries = new ProtocolCounters(metrics);
    this.unmapped = metrics.counter("arbiter_accesslog_rejected_total",
        "Access-log entries not accepted, by reason.", "reason", "unmapped");
  }

  @Override
  public void export(
      ExportLogsServiceRequest request, StreamObserver<ExportLogsServiceResponse> observer) {
    OtlpLogMapper.Result r = mapper.map(request);
    for (AttributeBag bag : r.bags()) {
      entries.inc(bag);
    }
    queue.offerAll(r.bags());
    unmapped.inc(r.rejected());
    Set<String> invalid = new LinkedHashSet<>(r.invalid());
    for (String attribute : r.invalid()) {
      metrics.counter("arbiter_accesslog_invalid_values_total",
          "Values of OTLP log records that did not convert to their attribute's type, by attribute.",
          "attribute", attribute).inc();
    }
    ExportLogsServiceResponse.Builder response = ExportLogsServiceResponse.newBuilder();
    if (r.rejected() > 0 || !invalid.isEmpty()) {
      StringBuilder message = new StringBuilder();
      if (r.rejected() > 0) {
        message.append(r.rejected()).append(" log record(s) had no attribute the mapping knows")
            .append(r.unknownKeys().isEmpty() ? "" : " (their keys include " + r.unknownKeys() + ")");
      }
      if (!invalid.isEmpty()) {
        message.append(message.length() > 0 ? "; " : "")
            .append("values that did not convert were left out: ").append(invalid);
      }
      response.setPartialSuccess(ExportLogsPartialSuccess.newBuilder()
          .setRejectedLogRecords(r.rejected())
          .setErrorMessage(message.toString()));
      long suppressed = warnings.tryAcquire(System.currentTimeMillis());
      if (suppressed >= 0) {
        LOG.log(System.Logger.Level.WARNING, "OTLP logs: {0}{1}", message,
            suppressed > 0 ? " (" + suppressed + " similar messages suppressed)" : "");
      }
    }
    observer.onNext(response.build());
    observer.onCompleted();
  }
}
