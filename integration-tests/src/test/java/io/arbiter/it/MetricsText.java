package io.arbiter.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads Arbiter's admin {@code /metrics} (the Prometheus text exposition format) the way a scraper
 * does: samples by series, a family's HELP and TYPE lines. Values are parsed as floats, so {@code
 * 7} and {@code 7.0} are the same sample, as they are to Prometheus.
 */
final class MetricsText {
  private static final Pattern SAMPLE = Pattern.compile("(?m)^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\\{[^}]*\\})?) (\\S+)$");

  private MetricsText() {}

  /** Every sample, by its series text ({@code name{labels}}), in the order they were written. */
  static Map<String, Double> samples(String text) {
    Map<String, Double> out = new LinkedHashMap<>();
    Matcher m = SAMPLE.matcher(text);
    while (m.find()) {
      out.put(m.group(1), parse(m.group(2)));
    }
    return out;
  }

  /**
   * The samples of one family: {@code name} itself, and for a histogram its {@code _bucket}, {@code
   * _sum} and {@code _count} series.
   */
  static Map<String, Double> family(String text, String name) {
    Map<String, Double> out = new LinkedHashMap<>();
    samples(text).forEach((series, value) -> {
      String n = series.contains("{") ? series.substring(0, series.indexOf('{')) : series;
      if (n.equals(name) || n.equals(name + "_bucket") || n.equals(name + "_sum")
          || n.equals(name + "_count")) {
        out.put(series, value);
      }
    });
    return out;
  }

  /** The {@code # HELP} and {@code # TYPE} lines of family {@code name}, in order. */
  static List<String> meta(String text, String name) {
    List<String> out = new ArrayList<>();
    for (String line : text.split("\n")) {
      if (line.startsWith("# HELP " + name + " ") || line.startsWith("# TYPE " + name + " ")) {
        out.add(line);
      }
    }
    return out;
  }

  /** The value of {@code series}, 0 when it is not exposed. */
  static double value(String text, String series) {
    Double v = samples(text).get(series);
    return v == null ? 0 : v;
  }

  /**
   * Polls {@code /metrics} until the counter {@code series} has reached {@code expected} (at most a
   * minute) and asserts it is exactly that, so an overshoot fails at once. Returns the text it last
   * read. For a value that can go down, use {@link #awaitEqual}.
   */
  static String await(ArbiterProcess arbiter, String series, double expected) throws Exception {
    String text = awaitUntil(arbiter, t -> value(t, series) >= expected);
    assertThat(value(text, series)).as("%s in\n%s", series, text).isEqualTo(expected);
    return text;
  }

  /**
   * Polls {@code /metrics} until {@code series} (a gauge, say) equals {@code expected}, at most a
   * minute, and asserts it does. Returns the text it last read.
   */
  static String awaitEqual(ArbiterProcess arbiter, String series, double expected) throws Exception {
    String text = awaitUntil(arbiter, t -> value(t, series) == expected);
    assertThat(value(text, series)).as("%s in\n%s", series, text).isEqualTo(expected);
    return text;
  }

  /** Polls {@code /metrics} until {@code condition} holds or a minute passed; returns the last text. */
  static String awaitUntil(ArbiterProcess arbiter, Predicate<String> condition) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    String text = arbiter.admin("/metrics");
    while (!condition.test(text) && System.nanoTime() < deadline) {
      Thread.sleep(50);
      text = arbiter.admin("/metrics");
    }
    return text;
  }

  private static double parse(String v) {
    return switch (v) {
      case "+Inf" -> Double.POSITIVE_INFINITY;
      case "-Inf" -> Double.NEGATIVE_INFINITY;
      default -> Double.parseDouble(v);
    };
  }
}
