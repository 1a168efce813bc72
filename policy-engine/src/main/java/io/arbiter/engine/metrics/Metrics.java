package io.arbiter.engine.metrics;

import com.codahale.metrics.Counter;
import com.codahale.metrics.Gauge;
import com.codahale.metrics.Metric;
import com.codahale.metrics.MetricRegistry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * Arbiter's metrics: a Dropwizard {@link MetricRegistry} whose series carry Prometheus names and
 * labels, plus the HELP text and type of each family, written out by {@link #writePrometheus}.
 *
 * <p>A series is registered once and then held by its user (a compiled rule holds its counters), so
 * the hot path never looks a name up. Thread-safe.
 */
public final class Metrics {

  private enum Kind {
    COUNTER("counter"),
    GAUGE("gauge"),
    HISTOGRAM("histogram");

    final String text;

    Kind(String text) {
      this.text = text;
    }
  }

  private record Family(String help, Kind kind) {}

  private record Series(String family, String labels, Metric metric) {}

  private final MetricRegistry registry;
  private final Map<String, Family> families = new ConcurrentHashMap<>();
  private final Map<String, Series> series = new ConcurrentHashMap<>();

  public Metrics() {
    this(new MetricRegistry());
  }

  public Metrics(MetricRegistry registry) {
    this.registry = registry;
  }

  public MetricRegistry registry() {
    return registry;
  }

  /**
   * The counter of {@code name} with the given labels, created on first use.
   *
   * @param labels alternating label names and values
   */
  public Counter counter(String name, String help, String... labels) {
    return (Counter) register(name, help, Kind.COUNTER, labels, Counter::new);
  }

  public BucketHistogram histogram(String name, String help, double[] bounds, String... labels) {
    return (BucketHistogram)
        register(name, help, Kind.HISTOGRAM, labels, () -> new BucketHistogram(bounds));
  }

  /**
   * Registers a gauge read at scrape time. Several registrations of one series may be open at once
   * (a config reload builds the new handler before it closes the old one): the series reads the
   * newest open one, and disappears when the last is closed.
   *
   * @return closes this registration; idempotent
   */
  public AutoCloseable gauge(
      String name, String help, Supplier<? extends Number> value, String... labels) {
    GaugeSeries gauge;
    synchronized (this) {
      gauge = (GaugeSeries) register(name, help, Kind.GAUGE, labels, GaugeSeries::new);
      gauge.sources.add(value);
    }
    return () -> {
      synchronized (this) {
        if (gauge.sources.remove(value) && gauge.sources.isEmpty()) {
          series.remove(gauge.key);
          registry.remove(gauge.key);
        }
      }
    };
  }

  /** A gauge that reads the newest of its open sources. */
  private static final class GaugeSeries implements Gauge<Number> {
    final java.util.List<Supplier<? extends Number>> sources =
        new java.util.concurrent.CopyOnWriteArrayList<>();
    String key;

    @Override
    public Number getValue() {
      int n = sources.size();
      return n == 0 ? Double.NaN : sources.get(n - 1).get();
    }
  }

  /** Removes every series of a family (a config reload drops a rule's counters). */
  public void removeFamily(String name) {
    series.values().removeIf(s -> {
      if (s.family.equals(name)) {
        registry.remove(key(s.family, s.labels));
        return true;
      }
      return false;
    });
  }

  private Metric register(
      String name, String help, Kind kind, String[] labels, Supplier<Metric> factory) {
    if (labels.length % 2 != 0) {
      throw new IllegalArgumentException("labels must be name/value pairs: " + labels.length);
    }
    Family family = families.computeIfAbsent(name, n -> new Family(help, kind));
    if (family.kind != kind) {
      throw new IllegalArgumentException(
          "metric " + name + " is a " + family.kind.text + ", not a " + kind.text);
    }
    String labelText = labelText(labels);
    String key = key(name, labelText);
    return series
        .computeIfAbsent(key, k -> {
          Metric m = factory.get();
          if (m instanceof GaugeSeries g) {
            g.key = k;
          }
          return new Series(name, labelText, registry.register(k, m));
        })
        .metric;
  }

  private static String key(String name, String labelText) {
    return labelText.isEmpty() ? name : name + "{" + labelText + "}";
  }

  private static String labelText(String[] labels) {
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < labels.length; i += 2) {
      if (i > 0) {
        b.append(',');
      }
      b.append(labels[i]).append("=\"").append(escape(labels[i + 1])).append('"');
    }
    return b.toString();
  }

  static String escape(String value) {
    if (value == null) {
      return "";
    }
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace("\"", "\\\"");
  }

  /** Writes every family in the Prometheus text exposition format, families sorted by name. */
  public void writePrometheus(Appendable out) {
    try {
      Map<String, TreeMap<String, Series>> byFamily = new TreeMap<>();
      for (Series s : series.values()) {
        byFamily.computeIfAbsent(s.family, f -> new TreeMap<>()).put(s.labels, s);
      }
      for (Map.Entry<String, TreeMap<String, Series>> e : byFamily.entrySet()) {
        String name = e.getKey();
        Family family = families.get(name);
        out.append("# HELP ").append(name).append(' ')
            .append(family.help.replace("\\", "\\\\").replace("\n", "\\n")).append('\n');
        out.append("# TYPE ").append(name).append(' ').append(family.kind.text).append('\n');
        for (Series s : e.getValue().values()) {
          write(out, s);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void write(Appendable out, Series s) throws IOException {
    String braces = s.labels.isEmpty() ? "" : "{" + s.labels + "}";
    if (s.metric instanceof Counter c) {
      out.append(s.family).append(braces).append(' ').append(Long.toString(c.getCount())).append('\n');
    } else if (s.metric instanceof Gauge<?> g) {
      Object v = g.getValue();
      out.append(s.family).append(braces).append(' ').append(number(v)).append('\n');
    } else if (s.metric instanceof BucketHistogram h) {
      double[] bounds = h.bounds();
      long[] counts = h.cumulativeCounts();
      String prefix = s.labels.isEmpty() ? "" : s.labels + ",";
      for (int i = 0; i < counts.length; i++) {
        String le = i < bounds.length ? format(bounds[i]) : "+Inf";
        out.append(s.family).append("_bucket{").append(prefix).append("le=\"").append(le)
            .append("\"} ").append(Long.toString(counts[i])).append('\n');
      }
      out.append(s.family).append("_sum").append(braces).append(' ').append(format(h.sum())).append('\n');
      out.append(s.family).append("_count").append(braces).append(' ')
          .append(Long.toString(counts[counts.length - 1])).append('\n');
    }
  }

  private static String number(Object v) {
    if (v instanceof Double || v instanceof Float) {
      return format(((Number) v).doubleValue());
    }
    return v instanceof Number n ? Long.toString(n.longValue()) : "NaN";
  }

  private static String format(double d) {
    if (d == Math.rint(d) && !Double.isInfinite(d) && Math.abs(d) < 1e15) {
      return Long.toString((long) d);
    }
    return Double.toString(d);
  }
}
