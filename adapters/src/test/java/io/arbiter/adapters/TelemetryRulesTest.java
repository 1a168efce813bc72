package io.arbiter.adapters;

import static org.assertj.core.api.Assertions.assertThat;

import io.arbiter.adapters.log.LogAdapter;
import io.arbiter.adapters.prometheus.PrometheusAdapter;
import io.arbiter.engine.testing.MutableClock;
import io.arbiter.engine.AttributeBag;
import io.arbiter.engine.EngineServices;
import io.arbiter.engine.PolicyEngine;
import io.arbiter.engine.config.ConfigLoader;
import io.arbiter.engine.metrics.Metrics;
import io.arbiter.engine.spi.Adapter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Per-rule sampling and the logentry template's {@code timestamp} field, through the real engine
 * into the prometheus and log adapters: what issue #4's "Rules and templates" promises, counted on
 * the exposition and read back from the log file. The engine's clock is a {@link MutableClock}, so
 * "at most N per second" is exact, not a wall-clock race.
 */
class TelemetryRulesTest {
  @TempDir Path dir;
  private final MutableClock clock = new MutableClock(Instant.parse("2030-01-01T10:00:00.200Z"));
  private final Metrics metrics = new Metrics();
  private final EngineServices services = EngineServices.create(
      Map.<String, Adapter>of("prometheus", new PrometheusAdapter(), "log", new LogAdapter()),
      clock, metrics);
  private final PolicyEngine engine = new PolicyEngine(services);

  @AfterEach
  void tearDown() {
    engine.close();
    services.close();
  }

  private void apply(String yaml) throws Exception {
    engine.apply(engine.compile(List.of(ConfigLoader.parse(dir.resolve("telemetry.yaml"), yaml))));
  }

  private void report(int n) {
    engine.report(Collections.nCopies(n, entry())).toCompletableFuture().join();
  }

  private static AttributeBag entry() {
    return AttributeBag.builder()
        .put("context.protocol", "http")
        .put("request.path", "/a")
        .put("request.time", Instant.parse("2030-01-01T09:59:58.125Z"))
        .put("response.code", 200L)
        .put("response.duration", Duration.ofMillis(20))
        .build();
  }

  /** One counter per rule, each rule sampling differently. */
  private static String sampled(String... nameAndSampling) {
    StringBuilder metricsYaml = new StringBuilder();
    StringBuilder instances = new StringBuilder();
    StringBuilder rules = new StringBuilder();
    for (int i = 0; i < nameAndSampling.length; i += 2) {
      String n = nameAndSampling[i];
      metricsYaml.append("        - {name: ").append(n).append("_total, instance: ").append(n)
          .append(", kind: COUNTER}\n");
      instances.append("  - {name: ").append(n).append(", template: metric, params: {value: \"1\"}}\n");
      rules.append("  - {name: ").append(n).append(", sampling: ").append(nameAndSampling[i + 1])
          .append(", actions: [{handler: prom, instances: [").append(n).append("]}]}\n");
    }
    return "handlers:\n  - name: prom\n    adapter: prometheus\n    params:\n      metrics:\n"
        + metricsYaml + "instances:\n" + instances + "rules:\n" + rules;
  }

  private long counter(String name) {
    return metrics.counter(name, "").getCount();
  }

  @Test
  void maxPerSecondTakesExactlyThatManyInEachSecondOfTheEnginesClock() throws Exception {
    apply(sampled("capped", "{maxPerSecond: 3}", "uncapped", "{maxPerSecond: 0}"));

    report(10);
    report(2);
    assertThat(counter("capped_total")).isEqualTo(3);
    assertThat(counter("uncapped_total")).isEqualTo(12);

    clock.advance(Duration.ofMillis(799)); // 10:00:00.999, the same second
    report(1);
    assertThat(counter("capped_total")).isEqualTo(3);

    clock.advance(Duration.ofMillis(1)); // 10:00:01.000, the next one
    report(2);
    report(5);
    assertThat(counter("capped_total")).isEqualTo(6);
    assertThat(counter("uncapped_total")).isEqualTo(20);
    assertThat(metrics.counter("arbiter_rule_matches_total", "", "rule", "capped").getCount())
        .isEqualTo(6);
  }

  @Test
  void percentTakesThatFractionOfReports() throws Exception {
    apply(sampled("none", "{percent: 0}", "all", "{percent: 100}", "quarter", "{percent: 25}",
        "quarterCapped", "{percent: 25, maxPerSecond: 100}"));

    int n = 4000;
    report(n);

    assertThat(counter("none_total")).isZero();
    assertThat(counter("all_total")).isEqualTo(n);
    // Binomial(4000, 0.25): mean 1000, standard deviation 27.4; the bounds are 7 deviations out,
    // so a correct sampler fails this about once in 10^11 runs, while 0.25 read as a fraction of a
    // percent, or as the share dropped, is far outside.
    assertThat(counter("quarter_total")).isBetween(808L, 1192L);
    // Both conditions apply: a quarter of 4000 is far above the cap of 100 in this second.
    assertThat(counter("quarterCapped_total")).isEqualTo(100);
  }

  @Test
  void aLogEntrysTimestampExpressionSetsTheLinesTime() throws Exception {
    apply("""
        handlers: [{name: json-log, adapter: log, params: {sink: file, path: access.log}}]
        instances:
          - name: shifted
            template: logentry
            params: {timestamp: "request.time + duration('90s')", variables: {code: response.code}}
          - name: default-time
            template: logentry
            params: {variables: {code: response.code}}
        rules:
          - {name: log, actions: [{handler: json-log, instances: [shifted, default-time]}]}
        """);

    report(1);
    engine.close(); // flushes the log handler

    assertThat(Files.readAllLines(dir.resolve("access.log"))).containsExactly(
        "{\"ts\":\"2030-01-01T10:01:28.125Z\",\"severity\":\"INFO\",\"name\":\"shifted\",\"code\":200}",
        "{\"ts\":\"2030-01-01T09:59:58.125Z\",\"severity\":\"INFO\",\"name\":\"default-time\",\"code\":200}");
  }
}
