package io.arbiter.engine.spi;

import java.util.Map;

/**
 * The values of one configured instance for one call, built by the engine from attributes by the
 * instance's CEL field expressions. Each record belongs to one {@link Template}; handlers switch on
 * the record type. {@code name} is the instance's name in config.
 */
public sealed interface Instance
    permits Instance.CheckNothing,
        Instance.ListEntry,
        Instance.Authorization,
        Instance.Metric,
        Instance.LogEntry,
        Instance.Quota {

  String name();

  /** {@code map} as an instance keeps it: a {@link FixedMap} as it is (immutable), others copied. */
  private static <V> Map<String, V> frozen(Map<String, V> map) {
    return map instanceof FixedMap<V> f
        ? f
        : java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(map));
  }

  /** Template {@code checknothing}. */
  record CheckNothing(String name) implements Instance {}

  /** Template {@code listentry}: the value to look up. */
  record ListEntry(String name, String value) implements Instance {}

  /** Template {@code authorization}: who asks to do what. */
  record Authorization(String name, Subject subject, Action action) implements Instance {
    public Authorization {
      properties(subject.properties());
      properties(action.properties());
    }

    private static void properties(Map<String, Object> p) {
      if (p == null) {
        throw new NullPointerException("properties");
      }
    }
  }

  /** Who makes the request; empty strings for what the config does not set. */
  record Subject(String user, String groups, Map<String, Object> properties) {
    public Subject {
      properties = Map.copyOf(properties);
    }
  }

  /** What the request does; empty strings for what the config does not set. */
  record Action(
      String namespace, String service, String method, String path, Map<String, Object> properties) {
    public Action {
      properties = Map.copyOf(properties);
    }
  }

  /**
   * Template {@code metric}: one observation. {@code value} is a number (Long or Double) for
   * counters, gauges and distributions; {@code dimensions} are the label values, as text.
   */
  record Metric(String name, Object value, Map<String, String> dimensions) implements Instance {
    public Metric {
      dimensions = frozen(dimensions);
    }
  }

  /**
   * Template {@code logentry}: one log entry; {@code variables} are JSON-like values (strings,
   * numbers, booleans, timestamps, durations, maps, lists) in config order.
   */
  record LogEntry(
      String name, String severity, java.time.Instant timestamp, Map<String, Object> variables)
      implements Instance {
    public LogEntry {
      variables = frozen(variables);
    }
  }

  /** Template {@code quota}: which quota bucket to allocate from, by its dimensions. */
  record Quota(String name, Map<String, String> dimensions) implements Instance {
    public Quota {
      dimensions = frozen(dimensions);
    }
  }
}
