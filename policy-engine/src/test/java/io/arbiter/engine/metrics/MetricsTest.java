package io.arbiter.engine.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.StringWriter;
import org.junit.jupiter.api.Test;

class MetricsTest {
  @Test
  void writesPrometheusTextWithHelpTypeAndHistogramBuckets() {
    Metrics m = new Metrics();
    m.counter("x_total", "Things.", "kind", "a\"b").inc(3);
    m.counter("x_total", "Things.", "kind", "c").inc();
    m.gauge("g", "A gauge.", () -> 2.5);
    BucketHistogram h = m.histogram("lat_seconds", "Latency.", new double[] {0.1, 1}, "op", "check");
    h.observe(0.05);
    h.observe(0.5);
    h.observe(7);
    StringWriter out = new StringWriter();
    m.writePrometheus(out);
    assertThat(out.toString())
        .isEqualTo(
            """
            # HELP g A gauge.
            # TYPE g gauge
            g 2.5
            # HELP lat_seconds Latency.
            # TYPE lat_seconds histogram
            lat_seconds_bucket{op="check",le="0.1"} 1
            lat_seconds_bucket{op="check",le="1"} 2
            lat_seconds_bucket{op="check",le="+Inf"} 3
            lat_seconds_sum{op="check"} 7.55
            lat_seconds_count{op="check"} 3
            # HELP x_total Things.
            # TYPE x_total counter
            x_total{kind="a\\"b"} 3
            x_total{kind="c"} 1
            """);
  }

  @Test
  void aGaugeReadsItsNewestOpenRegistrationAndGoesWithTheLast() throws Exception {
    Metrics m = new Metrics();
    AutoCloseable old = m.gauge("entries", "Entries.", () -> 1, "handler", "h");
    AutoCloseable replacement = m.gauge("entries", "Entries.", () -> 2, "handler", "h");
    assertThat(text(m)).contains("entries{handler=\"h\"} 2");
    old.close();
    assertThat(text(m)).contains("entries{handler=\"h\"} 2");
    AutoCloseable rejected = m.gauge("entries", "Entries.", () -> 3, "handler", "h");
    rejected.close();
    assertThat(text(m)).contains("entries{handler=\"h\"} 2");
    replacement.close();
    assertThat(text(m)).doesNotContain("entries{");
  }

  private static String text(Metrics m) {
    StringWriter out = new StringWriter();
    m.writePrometheus(out);
    return out.toString();
  }

  @Test
  void sameSeriesIsSharedAndKindsCannotMix() {
    Metrics m = new Metrics();
    assertThat(m.counter("c_total", "h", "a", "1")).isSameAs(m.counter("c_total", "h", "a", "1"));
    assertThatThrownBy(() -> m.histogram("c_total", "h", new double[] {1}))
        .hasMessageContaining("c_total is a counter");
  }
}
