package io.arbiter.adapters.prometheus;

import io.arbiter.adapters.internal.telemetry.MetricSpec;
import io.arbiter.adapters.internal.telemetry.MetricSpec.Kind;
import io.arbiter.engine.spi.Adapter;
import io.arbiter.engine.spi.AdapterContext;
import io.arbiter.engine.spi.Handler;
import io.arbiter.engine.spi.Params;
import io.arbiter.engine.spi.Template;
import java.lang.System.Logger.Level;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The {@code prometheus} adapter: operator-defined metrics fed by {@code metric} instances and
 * exposed, under exactly the configured names, on the admin {@code /metrics} endpoint beside
 * Arbiter's own metrics.
 *
 * <p>Params: {@code metrics}, a non-empty list of
 *
 * <ul>
 *   <li>{@code name} (required): a Prometheus metric name, {@code [a-zA-Z_:][a-zA-Z0-9_:]*}, not
 *       starting with {@code arbiter_} (Arbiter's own); unique in the handler. A COUNTER whose name
 *       does not end in {@code _total} is accepted with a warning (the exposition convention).
 *   <li>{@code instance} (required): the {@code metric} instance whose values it records. Several
 *       metrics may take the same instance.
 *   <li>{@code kind} (required): {@code COUNTER} adds the value (a finite number, at least 0;
 *       fractions are carried, the count shows the integer part of the sum), {@code GAUGE} sets it,
 *       {@code DISTRIBUTION} observes it into a histogram ({@code _bucket}, {@code _sum}, {@code
 *       _count}).
 *   <li>{@code labels}: the dimension keys used as labels, in this order; each a label name ({@code
 *       [a-zA-Z_][a-zA-Z0-9_]*}, not starting with {@code __}; not {@code le} for a distribution).
 *       Instances are not visible at load, so this is applied per observation: a listed dimension
 *       the instance lacks is the empty string, dimensions not listed are ignored. Default none.
 *   <li>{@code buckets} (DISTRIBUTION only): upper bounds, finite, strictly increasing; {@code
 *       +Inf} is implied. Default {@code [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
 *       10]}.
 *   <li>{@code help}: the HELP text; default "User-defined KIND fed by instance 'INSTANCE'."
 *   <li>{@code maxSeries}: the cardinality guard, 1 to 1,000,000, default 10,000 label sets. Once
 *       a metric has that many, observations of a new label set go to one overflow series whose
 *       every label value is {@code other}, and are counted in {@code
 *       arbiter_metric_overflow_total{metric}}.
 * </ul>
 *
 * <p>Reloads: series belong to the registry, not the handler. A handler rebuilt with changed
 * params continues the series of metrics whose kind, labels and buckets did not change (counters
 * are not reset); a metric whose labels or buckets changed starts again from zero once the old
 * handler closes; a metric no handler defines any more disappears from {@code /metrics}. A name's
 * kind and HELP text are fixed until Arbiter restarts (the registry keeps a family's type and
 * help): giving a known name another kind is a config error. Handlers that name the same metric
 * share its series.
 *
 * <p>Stateless and thread-safe; handlers start no threads and schedule nothing.
 */
public final class PrometheusAdapter implements Adapter {

  static final MetricSpec.Naming NAMING =
      new MetricSpec.Naming(
          Pattern.compile("[a-zA-Z_:][a-zA-Z0-9_:]*"),
          "letters, digits, '_' and ':', not starting with a digit",
          Pattern.compile("(?!__)[a-zA-Z_][a-zA-Z0-9_]*"),
          "letters, digits and '_', not starting with a digit or '__'",
          "arbiter_",
          Map.of(Kind.DISTRIBUTION, Set.of("le")),
          false,
          List.of(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0));

  /** For {@link java.util.ServiceLoader}. */
  public PrometheusAdapter() {}

  @Override
  public String name() {
    return "prometheus";
  }

  @Override
  public Set<Template> templates() {
    return Set.of(Template.METRIC);
  }

  /**
   * Validates the metrics and registers them.
   *
   * @throws io.arbiter.engine.spi.ParamsException naming every bad setting, by {@code
   *     metrics[i].field}: unknown keys, invalid or duplicate names, a reserved prefix, invalid or
   *     duplicate labels, bad buckets, a name whose exposed series ({@code _bucket}, {@code _sum},
   *     {@code _count} of a distribution) collide with another metric's, a kind other than the one
   *     the name is registered with
   */
  @Override
  public Handler create(Params params, AdapterContext context) {
    List<MetricSpec> specs = MetricSpec.parseAll(params, "metrics", NAMING, true);
    checkCollisions(params, specs);
    Families families = Families.of(context.metrics());
    for (MetricSpec spec : specs) {
      String conflict = families.conflict(spec);
      if (conflict != null) {
        params.error(spec.origin() + ".kind", conflict);
      }
    }
    params.validate();
    for (MetricSpec spec : specs) {
      if (spec.kind() == Kind.COUNTER && !spec.name().endsWith("_total")) {
        context.logger().log(Level.WARNING,
            "prometheus handler ''{0}'': counter ''{1}'' does not end in _total, as Prometheus"
                + " counters conventionally do", context.handlerName(), spec.name());
      }
    }
    return new PrometheusHandler(specs, context);
  }

  /** Series names a distribution exposes besides its own must not be another metric's name. */
  private static void checkCollisions(Params params, List<MetricSpec> specs) {
    Map<String, String> exposed = new HashMap<>();
    for (MetricSpec s : specs) {
      if (s.kind() == Kind.DISTRIBUTION) {
        for (String suffix : List.of("_bucket", "_sum", "_count")) {
          exposed.put(s.name() + suffix, s.name());
        }
      }
    }
    for (MetricSpec s : specs) {
      String owner = exposed.get(s.name());
      if (owner != null) {
        params.error(s.origin() + ".name", "'" + s.name()
            + "' collides with a series of distribution '" + owner + "'");
      }
    }
  }
}
