package io.arbiter.accesslog;

import io.arbiter.engine.PolicyEngine;
import java.io.IOException;
import java.time.Duration;
import java.util.Objects;

/**
 * The access-log front end, assembled: one {@link ReportQueue} to the engine, fed by Envoy's
 * {@link AccessLogService} ({@code StreamAccessLogs}) and the OTLP {@link OtlpLogsService}
 * ({@code LogsService/Export}). Bind both services to the gRPC server; on shutdown call {@link
 * #stopStreams()} when the server stops taking calls and {@link #close(Duration)} after it has
 * terminated, before the engine closes.
 *
 * <p>Thread-safe.
 */
public final class AccessLogs implements AutoCloseable {

  /**
   * @param queue the queue's capacity, batch size and overflow policy
   * @param mapping how OTLP attributes and Envoy's custom tags map to attributes
   */
  public record Options(QueueSettings queue, AttributeMapping mapping) {
    public static final Options DEFAULT = new Options(QueueSettings.DEFAULT, AttributeMapping.defaults());

    public Options {
      Objects.requireNonNull(queue, "queue");
      Objects.requireNonNull(mapping, "mapping");
    }
  }

  private final ReportQueue queue;
  private final AccessLogService accessLogService;
  private final OtlpLogsService otlpLogsService;

  private AccessLogs(ReportQueue queue, AccessLogService als, OtlpLogsService otlp) {
    this.queue = queue;
    this.accessLogService = als;
    this.otlpLogsService = otlp;
  }

  /**
   * Starts the queue (opening the spill directory, whose leftover entries are replayed) and builds
   * the services; metrics go to the engine's registry.
   *
   * @throws IOException if the spill directory cannot be used
   */
  public static AccessLogs start(PolicyEngine engine, Options options) throws IOException {
    ReportQueue queue = ReportQueue.start(engine, options.queue());
    var metrics = engine.services().metrics();
    return new AccessLogs(queue,
        new AccessLogService(queue, new AccessLogEntryMapper(options.mapping()), metrics),
        new OtlpLogsService(queue, new OtlpLogMapper(options.mapping()), metrics));
  }

  public AccessLogService accessLogService() {
    return accessLogService;
  }

  public OtlpLogsService otlpLogsService() {
    return otlpLogsService;
  }

  public ReportQueue queue() {
    return queue;
  }

  /** Ends the open access-log streams (and any that open later) with OK. */
  public void stopStreams() {
    accessLogService.closeStreams();
  }

  /**
   * Ends the streams and flushes the queue within {@code timeout} ({@link ReportQueue#close}).
   *
   * @return true if every entry was dispatched
   */
  public boolean close(Duration timeout) {
    stopStreams();
    return queue.close(timeout);
  }

  @Override
  public void close() {
    close(Duration.ofSeconds(10));
  }
}
