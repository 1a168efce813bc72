package io.arbiter.accesslog;

import com.codahale.metrics.Counter;
import io.arbiter.engine.AttributeBag;
import io.arbiter.engine.metrics.Metrics;

/**
 * {@code arbiter_accesslog_entries_total{protocol}}: accepted entries by {@code context.protocol}
 * ({@code http}, {@code grpc}, {@code tcp}; any other value, which only a custom mapping can give,
 * counts as {@code other}, so the label stays bounded).
 */
final class ProtocolCounters {
  private final Counter http;
  private final Counter grpc;
  private final Counter tcp;
  private final Counter other;

  ProtocolCounters(Metrics metrics) {
    String name = "arbiter_accesslog_entries_total";
    String help = "Access-log entries accepted (Envoy's gRPC access log and OTLP logs), by protocol.";
    http = metrics.counter(name, help, "protocol", "http");
    grpc = metrics.counter(name, help, "protocol", "grpc");
    tcp = metrics.counter(name, help, "protocol", "tcp");
    other = metrics.counter(name, help, "protocol", "other");
  }

  void inc(AttributeBag bag) {
    Object p = bag.get("context.protocol");
    Counter c;
    if ("http".equals(p)) {
      c = http;
    } else if ("grpc".equals(p)) {
      c = grpc;
    } else if ("tcp".equals(p)) {
      c = tcp;
    } else {
      c = other;
    }
    c.inc();
  }
}
