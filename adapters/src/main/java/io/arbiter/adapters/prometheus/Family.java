package io.arbiter.adapters.prometheus;

import io.arbiter.adapters.internal.telemetry.MetricSpec;
import io.arbiter.adapters.internal.telemetry.MetricSpec.Kind;
import io.arbiter.engine.metrics.Metrics;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One user-defined metric in the registry: its series by label set, the cardinality guard over
 * them, and which handlers use it ({@link Families} explains the sharing).
 *
 * <p>Series are looked up without a lock; a new label set is admitted under the family's lock,
 * which is also what a reset takes, so a series is never registered into a family being reset.
 *
 * <p>Reset: handlers that define the metric differently (other labels or buckets) can be open at
 * once during a reload. When the last handler of a definition that created series closes while
 * others stay, the family is reset: every series is removed from the registry and the remaining
 * handlers start new ones from zero (what Prometheus sees as a counter reset), so series of the old
 * definition do not linger frozen beside the new ones. A definition that never created a series
 * (that of a config that was rejected, say) resets nothing.
 */
final class Family {

  /** What makes two handlers' series of one metric compatible. */
  record Definition(Kind kind, List<String> labels, List<Double> buckets) {
    static Definition of(MetricSpec spec) {
      return new Definition(spec.kind(), spec.labels(), spec.buckets());
    }
  }

  /** The series an observation goes to, and whether that is the overflow series. */
  record Target(Series series, boolean overflow) {}

  /**
   * A label set as a map key: alternating names and values, hashed once. (A {@code List} key
   * hashes and compares through iterators on every lookup, a measurable cost per observation.)
   */
  static final class LabelSet {
    private final String[] pairs;
    private final int hash;

    /** @param pairs must not be modified afterwards */
    LabelSet(String[] pairs) {
      this.pairs = pairs;
      this.hash = Arrays.hashCode(pairs);
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof LabelSet other && other.hash == hash && Arrays.equals(other.pairs, pairs);
    }

    @Override
    public int hashCode() {
      return hash;
    }

    @Override
    public String toString() {
      return Arrays.toString(pairs);
    }
  }

  private final Metrics metrics;
  private final String name;
  private final Kind kind;
  private final String help;
  private final Map<LabelSet, Series> series = new ConcurrentHashMap<>();
  // Guarded by this.
  private final Map<Definition, Integer> users = new HashMap<>();
  private final Set<Definition> writers = new HashSet<>();
  private int admitted;
  private volatile boolean full;

  Family(Metrics metrics, String name, Kind kind, String help) {
    this.metrics = metrics;
    this.name = name;
    this.kind = kind;
    this.help = help;
  }

  String name() {
    return name;
  }

  synchronized void join(Definition d) {
    users.merge(d, 1, Integer::sum);
  }

  /**
   * @return true if no handler uses the family any more (its series were removed)
   */
  synchronized boolean leave(Definition d) {
    Integer n = users.get(d);
    if (n == null) {
      return users.isEmpty();
    }
    if (n > 1) {
      users.put(d, n - 1);
      return false;
    }
    users.remove(d);
    if (users.isEmpty()) {
      reset();
      return true;
    }
    if (writers.contains(d)) {
      reset();
    }
    return false;
  }

  /**
   * The series of the label set {@code labelPairs} (alternating names and values, in the definition's
   * label order), admitting it if the family has fewer than {@code maxSeries} label sets, else the
   * overflow series. Null if the definition's handlers all left (a late call of a closed handler).
   *
   * @param labelPairs must not be modified afterwards: it becomes the series' key
   * @throws IllegalArgumentException if the registry refuses the series (a name another part of
   *     Arbiter registered with another type)
   */
  Target target(String[] labelPairs, Definition d, int maxSeries) {
    LabelSet pairs = new LabelSet(labelPairs);
    Series s = series.get(pairs);
    if (s != null) {
      return new Target(s, false);
    }
    LabelSet other = null;
    if (full) {
      other = overflowPairs(pairs);
      Series o = series.get(other);
      if (o != null) {
        return new Target(o, true);
      }
    }
    synchronized (this) {
      if (!users.containsKey(d)) {
        return null;
      }
      s = series.get(pairs);
      if (s != null) {
        return new Target(s, false);
      }
      writers.add(d);
      if (admitted < maxSeries) {
        s = create(pairs, d);
        series.put(pairs, s);
        admitted++;
        return new Target(s, false);
      }
      full = true;
      if (other == null) {
        other = overflowPairs(pairs);
      }
      Series o = series.get(other);
      if (o == null) {
        o = create(other, d);
        series.put(other, o);
      }
      return new Target(o, true);
    }
  }

  /** How many label sets were admitted (not counting the overflow series). */
  synchronized int admitted() {
    return admitted;
  }

  private Series create(LabelSet pairs, Definition d) {
    String[] labels = pairs.pairs.clone();
    return switch (kind) {
      case COUNTER -> new Series.CounterSeries(metrics.counter(name, help, labels));
      case DISTRIBUTION -> new Series.HistogramSeries(
          metrics.histogram(name, help, buckets(d), labels));
      case GAUGE -> {
        Series.GaugeSeries g = new Series.GaugeSeries();
        g.registered(metrics.gauge(name, help, g::read, labels));
        yield g;
      }
    };
  }

  private static double[] buckets(Definition d) {
    double[] out = new double[d.buckets().size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = d.buckets().get(i);
    }
    return out;
  }

  private void reset() {
    List<Series> all = new ArrayList<>(series.values());
    series.clear();
    for (Series s : all) {
      s.close();
    }
    metrics.removeFamily(name);
    writers.clear();
    admitted = 0;
    full = false;
  }

  private static LabelSet overflowPairs(LabelSet pairs) {
    String[] out = pairs.pairs.clone();
    for (int i = 1; i < out.length; i += 2) {
      out[i] = MetricSpec.OVERFLOW_VALUE;
    }
    return new LabelSet(out);
  }
}
