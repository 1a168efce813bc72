package io.arbiter.adapters.prometheus;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.arbiter.adapters.testing.Stages;
import io.arbiter.adapters.testing.TestContext;
import io.arbiter.adapters.testing.YamlParams;
import io.arbiter.engine.spi.Handler;
import io.arbiter.engine.spi.Instance;
import io.arbiter.engine.spi.Params;
import io.arbiter.engine.spi.ParamsException;
import io.arbiter.engine.spi.ReportHandler;
import java.lang.System.Logger.Level;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The prometheus adapter end to end: params in, {@code /metrics} text out (the registry's
 * exposition, exactly as the admin endpoint prints it).
 */
class PrometheusAdapterTest {
  private final TestContext ctx = new TestContext("prom");

  private ReportHandler handler(String yaml) {
    return (ReportHandler) new PrometheusAdapter().create(YamlParams.of(yaml), ctx);
  }

  private static Instance.Metric metric(String instance, Object value, String... dims) {
    Map<String, String> d = new java.util.LinkedHashMap<>();
    for (int i = 0; i < dims.length; i += 2) {
      d.put(dims[i], dims[i + 1]);
    }
    return new Instance.Metric(instance, value, d);
  }

  private static void report(ReportHandler h, Instance... instances) {
    Stages.value(h.report(List.of(instances)));
  }

  private String exposition() {
    StringBuilder out = new StringBuilder();
    ctx.metrics().writePrometheus(out);
    return out.toString();
  }

  /** The HELP, TYPE and series lines of one family, or "" if it has no series. */
  private String family(String name) {
    StringBuilder out = new StringBuilder();
    for (String line : exposition().split("\n")) {
      String series = line.startsWith("# ") ? line.split(" ")[2] : line.split("[{ ]")[0];
      if (series.equals(name) || series.equals(name + "_bucket") || series.equals(name + "_sum")
          || series.equals(name + "_count")) {
        out.append(line).append('\n');
      }
    }
    return out.toString();
  }

  @Test
  void exposesCountersGaugesAndHistogramsUnderTheirConfiguredNames() {
    ReportHandler h = handler("""
        {metrics: [
          {name: requests_total, instance: request-count, kind: COUNTER, labels: [destination, code]},
          {name: inflight, instance: queue, kind: GAUGE, labels: [destination], help: "Requests in flight."},
          {name: request_duration_seconds, instance: request-duration, kind: DISTRIBUTION,
           labels: [destination], buckets: [0.1, 0.5, 1]}]}
        """);

    report(h,
        metric("request-count", 1L, "destination", "a.svc", "code", "200"),
        metric("request-count", 1L, "destination", "a.svc", "code", "503"),
        metric("request-count", 1L, "destination", "a.svc", "code", "200"),
        metric("queue", 3L, "destination", "a.svc"),
        metric("queue", 2.5, "destination", "a.svc"),
        metric("request-duration", 0.0625, "destination", "a.svc"),
        metric("request-duration", 0.25, "destination", "a.svc"),
        metric("request-duration", 2L, "destination", "a.svc"));

    assertThat(exposition()).isEqualTo("""
        # HELP arbiter_metric_overflow_total Observations of a user-defined metric that went to \
        its overflow series (every label 'other') because it already had maxSeries label sets.
        # TYPE arbiter_metric_overflow_total counter
        arbiter_metric_overflow_total{metric="inflight"} 0
        arbiter_metric_overflow_total{metric="request_duration_seconds"} 0
        arbiter_metric_overflow_total{metric="requests_total"} 0
        # HELP arbiter_prometheus_rejected_total Metric instances a prometheus handler could not \
        record, by reason.
        # TYPE arbiter_prometheus_rejected_total counter
        arbiter_prometheus_rejected_total{handler="prom",reason="conflict"} 0
        arbiter_prometheus_rejected_total{handler="prom",reason="template"} 0
        arbiter_prometheus_rejected_total{handler="prom",reason="unmapped"} 0
        arbiter_prometheus_rejected_total{handler="prom",reason="value"} 0
        # HELP inflight Requests in flight.
        # TYPE inflight gauge
        inflight{destination="a.svc"} 2.5
        # HELP request_duration_seconds User-defined distribution fed by instance \
        'request-duration'.
        # TYPE request_duration_seconds histogram
        request_duration_seconds_bucket{destination="a.svc",le="0.1"} 1
        request_duration_seconds_bucket{destination="a.svc",le="0.5"} 2
        request_duration_seconds_bucket{destination="a.svc",le="1"} 2
        request_duration_seconds_bucket{destination="a.svc",le="+Inf"} 3
        request_duration_seconds_sum{destination="a.svc"} 2.3125
        request_duration_seconds_count{destination="a.svc"} 3
        # HELP requests_total User-defined counter fed by instance 'request-count'.
        # TYPE requests_total counter
        requests_total{destination="a.svc",code="200"} 2
        requests_total{destination="a.svc",code="503"} 1
        """);
  }

  @Test
  void aValueOnABucketBoundIsCountedInThatBucket() {
    ReportHandler h = handler("""
        {metrics: [{name: latency_seconds, instance: d, kind: DISTRIBUTION,
                    buckets: [0.005, 0.1, 1, 5]}]}
        """);

    // le is "less than or equal": each value on a bound belongs to that bound's bucket.
    report(h, metric("d", 0.005), metric("d", 0.1), metric("d", 0.1), metric("d", 1L),
        metric("d", 5.0), metric("d", 5.000001));

    assertThat(family("latency_seconds")).contains("""
        latency_seconds_bucket{le="0.005"} 1
        latency_seconds_bucket{le="0.1"} 3
        latency_seconds_bucket{le="1"} 4
        latency_seconds_bucket{le="5"} 5
        latency_seconds_bucket{le="+Inf"} 6
        """).endsWith("latency_seconds_count 6\n");
  }

  @Test
  void oneInstanceCanFeedSeveralMetricsAndLabelsAreEscaped() {
    ReportHandler h = handler("""
        {metrics: [
          {name: bytes_total, instance: size, kind: COUNTER, labels: [path]},
          {name: bytes, instance: size, kind: DISTRIBUTION, buckets: [100]}]}
        """);

    report(h, metric("size", 150L, "path", "/a\"b\\c\nd"));

    assertThat(family("bytes_total")).endsWith("bytes_total{path=\"/a\\\"b\\\\c\\nd\"} 150\n");
    assertThat(family("bytes")).endsWith("""
        bytes_bucket{le="100"} 0
        bytes_bucket{le="+Inf"} 1
        bytes_sum 150
        bytes_count 1
        """);
  }

  @Test
  void aMissingDimensionIsAnEmptyLabelAndExtraDimensionsAreIgnored() {
    ReportHandler h = handler(
        "{metrics: [{name: requests_total, instance: c, kind: COUNTER, labels: [destination, code]}]}");

    report(h,
        metric("c", 1L, "destination", "a"),
        metric("c", 1L, "code", "200", "destination", "a", "user", "bob"));

    assertThat(family("requests_total")).endsWith("""
        requests_total{destination="a",code=""} 1
        requests_total{destination="a",code="200"} 1
        """);
  }

  @Test
  void labelSetsBeyondMaxSeriesGoToOneOtherSeriesAndAreCounted() {
    ReportHandler h = handler("""
        {metrics: [{name: requests_total, instance: c, kind: COUNTER, labels: [user, code],
                    maxSeries: 2}]}
        """);

    report(h,
        metric("c", 1L, "user", "ann", "code", "200"),
        metric("c", 1L, "user", "bob", "code", "200"),
        metric("c", 1L, "user", "cid", "code", "200"),
        metric("c", 1L, "user", "dan", "code", "500"),
        metric("c", 1L, "user", "ann", "code", "200"),
        metric("c", 1L, "user", "cid", "code", "200"));

    assertThat(family("requests_total")).endsWith("""
        requests_total{user="ann",code="200"} 2
        requests_total{user="bob",code="200"} 1
        requests_total{user="other",code="other"} 3
        """);
    assertThat(ctx.counter("arbiter_metric_overflow_total{metric=\"requests_total\"}")).isEqualTo(3);
  }

  @Test
  void theGuardAlsoBoundsGaugesAndDistributions() {
    ReportHandler h = handler("""
        {metrics: [{name: temp, instance: t, kind: GAUGE, labels: [room], maxSeries: 1},
                   {name: lat, instance: t, kind: DISTRIBUTION, labels: [room], buckets: [10], maxSeries: 1}]}
        """);

    report(h, metric("t", 20L, "room", "a"), metric("t", 5L, "room", "b"), metric("t", 7L, "room", "c"));

    assertThat(family("temp")).endsWith("temp{room=\"a\"} 20\ntemp{room=\"other\"} 7\n");
    assertThat(family("lat")).contains("lat_count{room=\"other\"} 2\n");
    assertThat(ctx.counter("arbiter_metric_overflow_total{metric=\"temp\"}")).isEqualTo(2);
    assertThat(ctx.counter("arbiter_metric_overflow_total{metric=\"lat\"}")).isEqualTo(2);
  }

  @Test
  void doubleCounterValuesAreSummedExactlyAndShownAsTheirIntegerPart() {
    ReportHandler h = handler("{metrics: [{name: seconds_total, instance: d, kind: COUNTER}]}");

    report(h, metric("d", 0.4), metric("d", 0.4), metric("d", 0.4));
    assertThat(ctx.counter("seconds_total")).isEqualTo(1);

    report(h, metric("d", 0.8), metric("d", 3.0));
    assertThat(ctx.counter("seconds_total")).isEqualTo(5);
  }

  @Test
  void valuesThatCannotBeRecordedAreCountedByReason() {
    ReportHandler h = handler("""
        {metrics: [{name: requests_total, instance: c, kind: COUNTER},
                   {name: temp, instance: t, kind: GAUGE}]}
        """);

    report(h,
        metric("c", -1L),
        metric("t", Double.NaN),
        metric("c", "many"),
        metric("nobody", 1L),
        new Instance.LogEntry("access", "INFO", Instant.EPOCH, Map.of()),
        metric("c", 2L));

    assertThat(ctx.counter("requests_total")).isEqualTo(2);
    assertThat(ctx.gauge("temp")).isNull();
    assertThat(ctx.counter("arbiter_prometheus_rejected_total{handler=\"prom\",reason=\"value\"}"))
        .isEqualTo(3);
    assertThat(ctx.counter("arbiter_prometheus_rejected_total{handler=\"prom\",reason=\"unmapped\"}"))
        .isEqualTo(1);
    assertThat(ctx.counter("arbiter_prometheus_rejected_total{handler=\"prom\",reason=\"template\"}"))
        .isEqualTo(1);
    assertThat(ctx.logger().messages(Level.WARNING))
        .first()
        .asString()
        .contains("metric 'requests_total': instance 'c' gave -1, not a finite number >= 0");
  }

  @Test
  void aReloadThatRebuildsTheHandlerContinuesItsCountersAndGuard() {
    String before = """
        {metrics: [{name: requests_total, instance: c, kind: COUNTER, labels: [user], maxSeries: 2},
                   {name: temp, instance: t, kind: GAUGE}]}
        """;
    String after = """
        {metrics: [{name: requests_total, instance: c, kind: COUNTER, labels: [user], maxSeries: 2},
                   {name: temp, instance: t, kind: GAUGE},
                   {name: errors_total, instance: e, kind: COUNTER}]}
        """;
    ReportHandler old = handler(before);
    report(old, metric("c", 1L, "user", "ann"), metric("c", 1L, "user", "bob"), metric("t", 21L));

    // As the engine reloads: build the new handler, swap, then close the old one.
    ReportHandler rebuilt = handler(after);
    old.close();
    report(rebuilt, metric("c", 1L, "user", "ann"), metric("c", 1L, "user", "cid"));

    assertThat(family("requests_total")).endsWith("""
        requests_total{user="ann"} 2
        requests_total{user="bob"} 1
        requests_total{user="other"} 1
        """);
    assertThat(ctx.gauge("temp")).isEqualTo(21L);
  }

  @Test
  void aReloadThatChangesLabelsStartsTheMetricAgainOnceTheOldHandlerCloses() {
    ReportHandler old = handler(
        "{metrics: [{name: requests_total, instance: c, kind: COUNTER, labels: [destination, code]}]}");
    report(old, metric("c", 1L, "destination", "a", "code", "200"));

    ReportHandler rebuilt = handler(
        "{metrics: [{name: requests_total, instance: c, kind: COUNTER, labels: [destination]}]}");
    report(rebuilt, metric("c", 1L, "destination", "a", "code", "200"));
    assertThat(family("requests_total")).contains("{destination=\"a\",code=\"200\"} 1\n")
        .contains("{destination=\"a\"} 1\n");

    old.close();
    assertThat(family("requests_total")).isEmpty();

    report(rebuilt, metric("c", 1L, "destination", "a"));
    assertThat(family("requests_total")).endsWith("\nrequests_total{destination=\"a\"} 1\n");
  }

  @Test
  void aRejectedConfigsHandlerResetsNothing() {
    ReportHandler serving = handler(
        "{metrics: [{name: requests_total, instance: c, kind: COUNTER, labels: [destination, code]}]}");
    report(serving, metric("c", 1L, "destination", "a", "code", "200"));

    // Built for a config the engine then rejects: closed without ever reporting.
    handler("{metrics: [{name: requests_total, instance: c, kind: COUNTER, labels: [destination]}]}")
        .close();
    report(serving, metric("c", 1L, "destination", "a", "code", "200"));

    assertThat(ctx.counter("requests_total{destination=\"a\",code=\"200\"}")).isEqualTo(2);
  }

  @Test
  void aMetricNoHandlerDefinesAnyMoreLeavesMetrics() {
    ReportHandler h = handler("{metrics: [{name: requests_total, instance: c, kind: COUNTER}]}");
    report(h, metric("c", 1L));

    h.close();
    h.close();

    assertThat(family("requests_total")).isEmpty();
    assertThat(Stages.value(h.report(List.of(metric("c", 1L))))).isNull();
    assertThat(family("requests_total")).isEmpty();
  }

  @Test
  void handlersNamingTheSameMetricShareItsSeries() {
    String yaml = "{metrics: [{name: requests_total, instance: c, kind: COUNTER}]}";
    ReportHandler a = handler(yaml);
    ReportHandler b = (ReportHandler) new PrometheusAdapter().create(YamlParams.of(yaml), ctx.named("prom2"));

    report(a, metric("c", 1L));
    report(b, metric("c", 2L));
    a.close();
    report(b, metric("c", 4L));

    assertThat(ctx.counter("requests_total")).isEqualTo(7);
  }

  @Test
  void aNameKeepsItsKindUntilRestart() {
    Handler counter = handler("{metrics: [{name: requests_total, instance: c, kind: COUNTER}]}");
    counter.close();

    assertThat(problems("{metrics: [{name: requests_total, instance: c, kind: GAUGE}]}"))
        .containsExactly("metrics[0].kind: metric 'requests_total' is already registered as a"
            + " counter; a metric's kind cannot change until Arbiter restarts (or give it a new name)");
  }

  @Test
  void aCounterNotEndingInTotalIsAcceptedWithAWarning() {
    handler("{metrics: [{name: requests, instance: c, kind: COUNTER}]}");

    assertThat(ctx.logger().messages(Level.WARNING)).containsExactly(
        "prometheus handler 'prom': counter 'requests' does not end in _total, as Prometheus"
            + " counters conventionally do");
  }

  @Test
  void everyBadSettingIsReportedAtOnce() {
    assertThat(problems("""
        {metrics: [
          {name: 1bad, instance: x, kind: COUNTER},
          {name: arbiter_mine_total, instance: x, kind: COUNTER},
          {name: d, instance: x, kind: DISTRIBUTION, labels: [le], buckets: [1, 0.5]},
          {name: c_total, instance: x, kind: COUNTER, buckets: [1]},
          {name: g, instance: x, kind: GAUGE, labels: [a, a, __x]},
          {name: k, kind: SUMMARY},
          {name: m, instance: x, kind: COUNTER, colour: red, maxSeries: 0},
          {name: lat, instance: y, kind: DISTRIBUTION},
          {name: lat_count, instance: y, kind: GAUGE},
          {name: lat, instance: z, kind: GAUGE},
          plain],
         extra: 1}
        """)).containsExactly(
            "metrics[0].name: '1bad' is not a valid metric name (letters, digits, '_' and ':', not"
                + " starting with a digit)",
            "metrics[1].name: 'arbiter_mine_total': the prefix 'arbiter_' is reserved for Arbiter's"
                + " own metrics",
            "metrics[2].labels[0]: 'le' is reserved for a distribution",
            "metrics[2].buckets[1]: bounds must increase strictly: 0.5 follows 1",
            "metrics[3].buckets: only a DISTRIBUTION has buckets",
            "metrics[4].labels[1]: 'a' is listed twice",
            "metrics[4].labels[2]: '__x' is not a valid label name (letters, digits and '_', not"
                + " starting with a digit or '__')",
            "metrics[5].instance: required: the name of a metric instance",
            "metrics[5].kind: 'SUMMARY' is not one of [COUNTER, GAUGE, DISTRIBUTION]",
            "metrics[6].maxSeries: must be between 1 and 1000000, was 0",
            "metrics[6].colour: unknown setting (known: [name, instance, kind, labels, buckets, help,"
                + " maxSeries])",
            "metrics[9].name: another metric is named 'lat'",
            "metrics[10]: must be a mapping {name, instance, kind, labels}",
            "metrics[8].name: 'lat_count' collides with a series of distribution 'lat'",
            "extra: unknown setting (known: [metrics])");
  }

  @Test
  void metricsAreRequired() {
    assertThat(problems("{}")).containsExactly(
        "metrics: required: a list of {name, instance, kind, labels}");
    assertThat(problems("{metrics: []}")).containsExactly("metrics: must name at least one metric");
  }

  private List<String> problems(String yaml) {
    Params params = YamlParams.of(yaml);
    Throwable t = catchThrowable(() -> new PrometheusAdapter().create(params, ctx));
    assertThat(t).isInstanceOf(ParamsException.class);
    List<String> out = new ArrayList<>();
    ((ParamsException) t).problems().forEach(p -> out.add(p.toString()));
    return out;
  }
}
