package io.arbiter.adapters.prometheus;

import io.arbiter.adapters.internal.telemetry.MetricSpec;
import io.arbiter.adapters.internal.telemetry.MetricSpec.Kind;
import io.arbiter.engine.metrics.Metrics;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.WeakHashMap;

/**
 * The user-defined metric families of one {@link Metrics} registry, shared by every {@code
 * prometheus} handler that registers into it, so that series outlive the handler that created them.
 *
 * <p>Why shared: a config reload that changes a handler's params builds a new handler before it
 * closes the old one. Both must feed the same series, and the cardinality guard must count the
 * series both created, or a reload would reset counters (the registry hands the same counter to
 * both, but a handler-local guard would start from zero and admit {@code maxSeries} more label
 * sets). A family is open while at least one handler uses it; when the last one closes, its series
 * are removed from the registry.
 *
 * <p>A name's kind is fixed for the registry's lifetime (the registry keeps the family's type even
 * after its series are removed), so a handler that gives a known name another kind is a config
 * error. Thread-safe; lock order is this, then a {@link Family}.
 */
final class Families {
  private static final Map<Metrics, Families> ALL = new WeakHashMap<>();

  /**
   * The families of {@code metrics}. Nothing here references the registry once no family is open,
   * so a registry that is no longer used can be collected.
   */
  static Families of(Metrics metrics) {
    synchronized (ALL) {
      return ALL.computeIfAbsent(metrics, m -> new Families());
    }
  }

  private final Map<String, Kind> kinds = new HashMap<>();
  private final Map<String, Family> open = new HashMap<>();

  private Families() {}

  /**
   * Why {@code spec} cannot be registered, or null if it can: its name was registered before with
   * another kind.
   */
  synchronized String conflict(MetricSpec spec) {
    Kind known = kinds.get(spec.name());
    if (known != null && known != spec.kind()) {
      return "metric '" + spec.name() + "' is already registered as a "
          + known.name().toLowerCase(Locale.ROOT)
          + "; a metric's kind cannot change until Arbiter restarts (or give it a new name)";
    }
    return null;
  }

  /** Opens (or joins) the family of {@code spec} for one handler; pair with {@link #release}. */
  synchronized Family acquire(Metrics metrics, MetricSpec spec) {
    String c = conflict(spec);
    if (c != null) {
      throw new IllegalArgumentException(c);
    }
    kinds.put(spec.name(), spec.kind());
    Family f = open.computeIfAbsent(spec.name(), n -> new Family(metrics, n, spec.kind(), spec.help()));
    f.join(Family.Definition.of(spec));
    return f;
  }

  /** Leaves the family; the last handler to leave removes its series from the registry. */
  synchronized void release(Family family, MetricSpec spec) {
    if (family.leave(Family.Definition.of(spec))) {
      open.remove(family.name(), family);
    }
  }
}
