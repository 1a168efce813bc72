package io.arbiter.adapters.otel;

import io.grpc.Server;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceResponse;
import io.opentelemetry.proto.collector.logs.v1.LogsServiceGrpc;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceResponse;
import io.opentelemetry.proto.collector.metrics.v1.MetricsServiceGrpc;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.logs.v1.LogRecord;
import io.opentelemetry.proto.metrics.v1.Metric;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * A real OTLP/gRPC receiver, as a collector would run it: the OpenTelemetry collector services
 * (from the Envoy api jar) on grpc-java's Netty server, on a loopback port that survives {@link
 * #stop()} and {@link #start()}, keeping every request it accepted. {@link #failWith} makes it
 * answer every export with an error status instead.
 */
final class OtlpReceiver implements AutoCloseable {
  private final int port;
  private final List<ExportLogsServiceRequest> logRequests = new CopyOnWriteArrayList<>();
  private final List<ExportMetricsServiceRequest> metricRequests = new CopyOnWriteArrayList<>();
  private volatile Status failWith;
  private Server server;

  private OtlpReceiver(int port) {
    this.port = port;
  }

  /** A receiver on a free loopback port, started. */
  static OtlpReceiver startOnFreePort() throws IOException {
    int port;
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      port = s.getLocalPort();
    }
    OtlpReceiver r = new OtlpReceiver(port);
    r.start();
    return r;
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
            Status s = failWith;
            if (s != null) {
              response.onError(s.asRuntimeException());
              return;
            }
            logRequests.add(request);
            response.onNext(ExportLogsServiceResponse.getDefaultInstance());
            response.onCompleted();
          }
        })
        .addService(new MetricsServiceGrpc.MetricsServiceImplBase() {
          @Override
          public void export(ExportMetricsServiceRequest request,
              StreamObserver<ExportMetricsServiceResponse> response) {
            Status s = failWith;
            if (s != null) {
              response.onError(s.asRuntimeException());
              return;
            }
            metricRequests.add(request);
            response.onNext(ExportMetricsServiceResponse.getDefaultInstance());
            response.onCompleted();
          }
        })
        .build()
        .start();
  }

  /** Stops accepting and closes every connection, like a collector that went down. */
  synchronized void stop() throws InterruptedException {
    server.shutdownNow();
    server.awaitTermination(10, TimeUnit.SECONDS);
  }

  void failWith(Status status) {
    this.failWith = status;
  }

  List<ExportLogsServiceRequest> logRequests() {
    return logRequests;
  }

  /** Every log record received, in order. */
  List<LogRecord> logRecords() {
    List<LogRecord> out = new ArrayList<>();
    for (ExportLogsServiceRequest r : logRequests) {
      r.getResourceLogsList().forEach(rl -> rl.getScopeLogsList()
          .forEach(sl -> out.addAll(sl.getLogRecordsList())));
    }
    return out;
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

  List<ExportMetricsServiceRequest> metricRequests() {
    return metricRequests;
  }

  /** Attributes as a map of their values' text (arrays as lists of text). */
  static Map<String, Object> attributes(List<KeyValue> kvs) {
    Map<String, Object> out = new LinkedHashMap<>();
    for (KeyValue kv : kvs) {
      out.put(kv.getKey(), value(kv.getValue()));
    }
    return out;
  }

  private static Object value(AnyValue v) {
    return switch (v.getValueCase()) {
      case STRING_VALUE -> v.getStringValue();
      case BOOL_VALUE -> v.getBoolValue();
      case INT_VALUE -> v.getIntValue();
      case DOUBLE_VALUE -> v.getDoubleValue();
      case ARRAY_VALUE -> v.getArrayValue().getValuesList().stream().map(OtlpReceiver::value).toList();
      default -> v.toString();
    };
  }

  @Override
  public void close() {
    try {
      stop();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
