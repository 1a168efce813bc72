package io.arbiter.adapters.internal.telemetry;

import io.arbiter.engine.spi.Params;
import io.arbiter.engine.spi.ParamsException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * One entry of a telemetry handler's {@code metrics} setting: which {@code metric} instance feeds
 * which metric, of what kind, with which of the instance's dimensions as labels. Immutable.
 *
 * @param name the metric's name, exactly as exported
 * @param instance the name of the {@code metric} instance whose values it records
 * @param kind what a value does to the metric
 * @param labels the dimension keys used as labels, in order; a dimension the instance does not
 *     have reads as {@code ""}, dimensions not listed are ignored
 * @param buckets the upper bounds of a distribution's buckets, strictly increasing; empty for the
 *     other kinds (and for a distribution that leaves them to its backend's default)
 * @param help the description exported with the metric
 * @param maxSeries the most distinct label sets the metric keeps; observations of further label
 *     sets go to one overflow series whose every label is {@link #OVERFLOW_VALUE}
 * @param valueType whether the exported points are integers or doubles, where the backend cares
 * @param origin where it is configured, e.g. {@code metrics[2]}, for error messages
 */
public record MetricSpec(
    String name,
    String instance,
    Kind kind,
    List<String> labels,
    List<Double> buckets,
    String help,
    int maxSeries,
    ValueType valueType,
    String origin) {

  /** The label value of every label of a metric's overflow series. */
  public static final String OVERFLOW_VALUE = "other";

  public static final int DEFAULT_MAX_SERIES = 10_000;

  /** What a value does to a metric. */
  public enum Kind {
    /** Adds the value (which must not be negative). */
    COUNTER,
    /** Sets the value. */
    GAUGE,
    /** Observes the value into a histogram. */
    DISTRIBUTION
  }

  /** How a backend stores points. */
  public enum ValueType {
    INT,
    DOUBLE
  }

  private static final Pattern INSTANCE = Pattern.compile("[A-Za-z0-9._-]{1,127}");

  /**
   * The naming rules of one backend.
   *
   * @param name what a metric name must match
   * @param nameRule the rule in words, for errors
   * @param label what a label name must match
   * @param labelRule the rule in words, for errors
   * @param reservedPrefix a prefix metric names may not start with (Arbiter's own metrics); null
   *     for none
   * @param reservedLabels label names a metric of this kind may not use, by kind
   * @param valueTypes whether {@code valueType} may be set
   * @param defaultBuckets the buckets of a distribution that names none; empty for the backend's
   */
  public record Naming(
      Pattern name,
      String nameRule,
      Pattern label,
      String labelRule,
      String reservedPrefix,
      Map<Kind, Set<String>> reservedLabels,
      boolean valueTypes,
      List<Double> defaultBuckets) {}

  public MetricSpec {
    labels = List.copyOf(labels);
    buckets = List.copyOf(buckets);
  }

  /** The buckets as an array, for registries that take one. */
  public double[] bucketArray() {
    double[] out = new double[buckets.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = buckets.get(i);
    }
    return out;
  }

  /**
   * Reads the list of metrics under {@code key}, recording each problem on {@code params} as
   * {@code key[i].field}. Returns the valid entries; an invalid one is left out. Names must be
   * unique within the list; an instance may feed several metrics.
   *
   * @param required whether an absent or empty list is an error
   */
  public static List<MetricSpec> parseAll(
      Params params, String key, Naming naming, boolean required) {
    Object raw = params.has(key) ? params.asMap().get(key) : null;
    if (raw == null) {
      if (required) {
        params.error(key, "required: a list of {name, instance, kind, labels}");
      }
      return List.of();
    }
    if (!(raw instanceof List<?> list)) {
      params.error(key, "must be a list of {name, instance, kind, labels}");
      return List.of();
    }
    if (list.isEmpty() && required) {
      params.error(key, "must name at least one metric");
    }
    List<MetricSpec> out = new ArrayList<>(list.size());
    Set<String> names = new HashSet<>();
    for (int i = 0; i < list.size(); i++) {
      String field = key + "[" + i + "]";
      if (!(list.get(i) instanceof Map<?, ?> map)) {
        params.error(field, "must be a mapping {name, instance, kind, labels}");
        continue;
      }
      @SuppressWarnings("unchecked")
      Params item = new Params((Map<String, ?>) map);
      MetricSpec spec = parse(item, naming, field);
      try {
        item.validate();
      } catch (ParamsException e) {
        for (Params.Problem p : e.problems()) {
          params.error(field + "." + p.field(), p.reason());
        }
        continue;
      }
      if (!names.add(spec.name())) {
        params.error(field + ".name", "another metric is named '" + spec.name() + "'");
        continue;
      }
      out.add(spec);
    }
    return out;
  }

  private static MetricSpec parse(Params p, Naming naming, String origin) {
    String name = p.string("name", "");
    if (name.isEmpty()) {
      p.error("name", "required");
    } else if (!naming.name().matcher(name).matches()) {
      p.error("name", "'" + name + "' is not a valid metric name (" + naming.nameRule() + ")");
    } else if (naming.reservedPrefix() != null && name.startsWith(naming.reservedPrefix())) {
      p.error("name", "'" + name + "': the prefix '" + naming.reservedPrefix()
          + "' is reserved for Arbiter's own metrics");
    }
    String instance = p.string("instance", "");
    if (instance.isEmpty()) {
      p.error("instance", "required: the name of a metric instance");
    } else if (!INSTANCE.matcher(instance).matches()) {
      p.error("instance", "'" + instance + "' is not an instance name");
    }
    Kind kind = null;
    if (!p.has("kind")) {
      p.error("kind", "required: one of " + List.of(Kind.values()));
    } else {
      kind = p.enumValue("kind", Kind.class, null);
    }
    List<String> labels = labels(p, naming, kind);
    List<Double> buckets = buckets(p, naming, kind);
    String help = p.string("help", "");
    if (help.isEmpty() && kind != null) {
      help = "User-defined " + kind.name().toLowerCase(Locale.ROOT) + " fed by instance '"
          + instance + "'.";
    }
    int maxSeries = (int) p.integer("maxSeries", DEFAULT_MAX_SERIES, 1, 1_000_000);
    ValueType valueType = ValueType.DOUBLE;
    if (naming.valueTypes()) {
      valueType = p.enumValue("valueType", ValueType.class, ValueType.DOUBLE);
    }
    return new MetricSpec(
        name, instance, kind == null ? Kind.COUNTER : kind, labels, buckets, help, maxSeries,
        valueType, origin);
  }

  private static List<String> labels(Params p, Naming naming, Kind kind) {
    List<String> labels = p.stringList("labels");
    Set<String> seen = new HashSet<>();
    Set<String> reserved = kind == null ? Set.of() : naming.reservedLabels().getOrDefault(kind, Set.of());
    List<String> valid = new ArrayList<>(labels.size());
    for (int i = 0; i < labels.size(); i++) {
      String label = labels.get(i);
      String field = "labels[" + i + "]";
      if (!naming.label().matcher(label).matches()) {
        p.error(field, "'" + label + "' is not a valid label name (" + naming.labelRule() + ")");
      } else if (reserved.contains(label)) {
        p.error(field, "'" + label + "' is reserved for a " + kind.name().toLowerCase(Locale.ROOT));
      } else if (!seen.add(label)) {
        p.error(field, "'" + label + "' is listed twice");
      } else {
        valid.add(label);
      }
    }
    return valid;
  }

  private static List<Double> buckets(Params p, Naming naming, Kind kind) {
    if (!p.has("buckets")) {
      return kind == Kind.DISTRIBUTION ? naming.defaultBuckets() : List.of();
    }
    List<String> texts = p.stringList("buckets");
    if (kind != null && kind != Kind.DISTRIBUTION) {
      p.error("buckets", "only a DISTRIBUTION has buckets");
      return List.of();
    }
    if (texts.isEmpty()) {
      p.error("buckets", "must list at least one bucket bound");
      return List.of();
    }
    List<Double> out = new ArrayList<>(texts.size());
    for (int i = 0; i < texts.size(); i++) {
      double b;
      try {
        b = Double.parseDouble(texts.get(i));
      } catch (NumberFormatException e) {
        p.error("buckets[" + i + "]", "'" + texts.get(i) + "' is not a number");
        return List.of();
      }
      if (!Double.isFinite(b)) {
        p.error("buckets[" + i + "]", "must be finite (+Inf is implied), was " + texts.get(i));
        return List.of();
      }
      if (!out.isEmpty() && !(b > out.get(out.size() - 1))) {
        p.error("buckets[" + i + "]", "bounds must increase strictly: " + texts.get(i)
            + " follows " + texts.get(i - 1));
        return List.of();
      }
      out.add(b);
    }
    return out;
  }
}
