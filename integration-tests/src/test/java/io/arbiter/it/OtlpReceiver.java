package io.arbiter.it;

import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceResponse;
import io.opentelemetry.proto.collector.logs.v1.LogsServiceGrpc;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceResponse;
import io.opentelemetry.proto.collector.metrics.v1.MetricsServiceGrpc;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.logs.v1.LogRecord;
import io.opentelemetry.proto.metrics.v1.Metric;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * A real OTLP/gRPC receiver, as a collector runs one: OpenTelemetry's collector services ({@code
 * LogsService} and {@code MetricsService}, generated from opentelemetry-proto and shipped in the
 * Envoy api jar) on grpc-java's Netty server, on a fixed loopback port so that it can be {@link
 * #stop() stopped} and {@link #start() started} again where the exporter expects it. Keeps every
 * request it accepted. (The adapters module's unit tests have their own, test-scoped, copy.)
 */
final class OtlpReceiver implements AutoCloseable {
  private final int port;
  private final List<ExportLogsServiceRequest> logRequests = new CopyOnWriteArrayList<>();
  private final List<ExportMetricsServiceRequest> metricRequests = new CopyOnWriteArrayList<>();
  private Server server;

  OtlpReceiver(int port) {
    this.port = port;
  }

  String endpoint() {
    return "http://127.0.0.1:" + port;
  }

  synchronized void start() throws IOException {
    server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", port))
        .addService(new LogsServiceGrpc.LogsServiceImplBase() {
          @Override
          public void export(ExportLogsServiceRequest request,
              StreamObserver<ExportLogsServiceResponse> response) {
            logRequests.add(request);
            response.onNext(ExportLogsServiceResponse.getDefaultInstance());
            response.onCompleted();
          }
        })
        .addService(new MetricsServiceGrpc.MetricsServiceImplBase() {
          @Override
          public void export(ExportMetricsServiceRequest request,
              StreamObserver<ExportMetricsServiceResponse> response) {
            metricRequests.add(request);
            response.onNext(ExportMetricsServiceResponse.getDefaultInstance());
            response.onCompleted();
          }
        })
        .build()
        .start();
  }

  /** Refuses new calls and closes every connection at once, as a collector that went down. */
  synchronized void stop() throws InterruptedException {
    if (server != null) {
      server.shutdownNow();
      server.awaitTermination(10, TimeUnit.SECONDS);
      server = null;
    }
  }

  /** Every log record received so far, in order of arrival (a record sent twice is here twice). */
  List<LogRecord> logRecords() {
    List<LogRecord> out = new ArrayList<>();
    for (ExportLogsServiceRequest r : logRequests) {
      r.getResourceLogsList().forEach(rl -> rl.getScopeLogsList()
          .forEach(sl -> out.addAll(sl.getLogRecordsList())));
    }
    return out;
  }

  /** The string value of a record's attribute, or null. */
  static String attribute(LogRecord record, String key) {
    for (KeyValue kv : record.getAttributesList()) {
      if (kv.getKey().equals(key)) {
        return kv.getValue().getStringValue();
      }
    }
    return null;
  }

  /** The latest export of the metric named {@code name}, or null if none arrived yet. */
  Metric latestMetric(String name) {
    Metric latest = null;
    for (ExportMetricsServiceRequest r : metricRequests) {
      for (var rm : r.getResourceMetricsList()) {
        for (var sm : rm.getScopeMetricsList()) {
          for (Metric m : sm.getMetricsList()) {
            if (m.getName().equals(name)) {
              latest = m;
            }
          }
        }
      }
    }
    return latest;
  }

  @Override
  public void close() throws InterruptedException {
    stop();
  }
}
