package io.arbiter.adapters;

import static org.assertj.core.api.Assertions.assertThat;

import io.arbiter.adapters.log.LogAdapter;
import io.arbiter.adapters.prometheus.PrometheusAdapter;
import io.arbiter.engine.AttributeBag;
import io.arbiter.engine.EngineServices;
import io.arbiter.engine.PolicyEngine;
import io.arbiter.engine.ReportOutcome;
import io.arbiter.engine.config.ConfigLoader;
import io.arbiter.engine.metrics.Metrics;
import io.arbiter.engine.spi.Adapter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The telemetry config through the real engine: access-log entries in, user-defined
 * metrics on {@code /metrics} and JSON lines out, and a reload that does not reset a counter.
 */
class TelemetryEngineTest {
  @TempDir Path dir;
  private final Metrics metrics = new Metrics();
  private final EngineServices services = EngineServices.create(
      Map.<String, Adapter>of("prometheus", new PrometheusAdapter(), "log", new LogAdapter()),
      Clock.systemUTC(), metrics);
  private final PolicyEngine engine = new PolicyEngine(services);

  private static final String CONFIG = """
      handlers:
        - name: prom
          adapter: prometheus
          params:
            metrics:
              - {name: requests_total, instance: request-count, kind: COUNTER, labels: [destination, code]}
              - {name: request_duration_seconds, instance: request-duration, kind: DISTRIBUTION, labels: [destination], buckets: [0.005, 0.01, 0.05, 0.1, 0.5, 1, 5]}
        - name: json-log
          adapter: log
          params: {sink: file, path: access.log}
      instances:
        - name: request-count
          template: metric
          params: {value: "1", dimensions: {destination: "destination.service.host", code: "response.code"}}
        - name: request-duration
          template: metric
          params: {value: "response.duration", dimensions: {destination: "destination.service.host"}}
        - name: access
          template: logentry
          params: {severity: "response.code >= 500 ? 'ERROR' : 'INFO'", variables: {path: "request.path", code: "response.code", user: "request.headers['x-user']"}}
      rules:
        - name: http-metrics
          match: "context.protocol == 'http' || context.protocol == 'grpc'"
          actions: [{handler: prom, instances: [request-count, request-duration]}, {handler: json-log, instances: [access]}]
      """;

  @AfterEach
  void tearDown() {
    engine.close();
    services.close();
  }

  private void apply(String yaml) throws Exception {
    engine.apply(engine.compile(List.of(ConfigLoader.parse(dir.resolve("telemetry.yaml"), yaml))));
  }

  private static AttributeBag entry(String path, long code) {
    return AttributeBag.builder()
        .put("context.protocol", "http")
        .put("destination.service.host", "api.local")
        .put("request.path", path)
        .put("request.time", Instant.parse("2030-01-01T10:00:00Z"))
        .put("request.headers", Map.of("x-user", "bob"))
        .put("response.code", code)
        .put("response.duration", Duration.ofMillis(20))
        .build();
  }

  private String exposition() {
    StringBuilder out = new StringBuilder();
    metrics.writePrometheus(out);
    return out.toString();
  }

  @Test
  void entriesBecomeMetricsAndLogLinesAndAReloadKeepsCounting() throws Exception {
    apply(CONFIG);

    ReportOutcome outcome = engine.report(List.of(entry("/a", 200), entry("/b", 200), entry("/c", 503)))
        .toCompletableFuture().join();

    assertThat(outcome).isEqualTo(new ReportOutcome(3, 9, 0, 0));
    assertThat(exposition())
        .contains("requests_total{destination=\"api.local\",code=\"200\"} 2\n")
        .contains("requests_total{destination=\"api.local\",code=\"503\"} 1\n")
        .contains("request_duration_seconds_bucket{destination=\"api.local\",le=\"0.05\"} 3\n")
        .contains("request_duration_seconds_count{destination=\"api.local\"} 3\n");

    // A reload that changes the prometheus handler's params rebuilds it.
    apply(CONFIG.replace("kind: COUNTER, labels", "kind: COUNTER, help: \"Requests.\", labels"));
    engine.report(List.of(entry("/d", 200))).toCompletableFuture().join();

    assertThat(exposition()).contains("requests_total{destination=\"api.local\",code=\"200\"} 3\n");

    engine.close();
    assertThat(Files.readAllLines(dir.resolve("access.log"))).containsExactly(
        "{\"ts\":\"2030-01-01T10:00:00Z\",\"severity\":\"INFO\",\"name\":\"access\",\"path\":\"/a\",\"code\":200,\"user\":\"bob\"}",
        "{\"ts\":\"2030-01-01T10:00:00Z\",\"severity\":\"INFO\",\"name\":\"access\",\"path\":\"/b\",\"code\":200,\"user\":\"bob\"}",
        "{\"ts\":\"2030-01-01T10:00:00Z\",\"severity\":\"ERROR\",\"name\":\"access\",\"path\":\"/c\",\"code\":503,\"user\":\"bob\"}",
        "{\"ts\":\"2030-01-01T10:00:00Z\",\"severity\":\"INFO\",\"name\":\"access\",\"path\":\"/d\",\"code\":200,\"user\":\"bob\"}");
  }
}
