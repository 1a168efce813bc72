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
  void sameSeriesIsSharedAndKindsCannotMix() {
    Metrics m = new Metrics();
    assertThat(m.counter("c_total", "h", "a", "1")).isSameAs(m.counter("c_total", "h", "a", "1"));
    assertThatThrownBy(() -> m.histogram("c_total", "h", new double[] {1}))
        .hasMessageContaining("c_total is a counter");
  }
}
