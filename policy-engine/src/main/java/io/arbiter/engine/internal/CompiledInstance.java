package io.arbiter.engine.internal;

import io.arbiter.engine.AttributeBag;
import io.arbiter.engine.spi.FixedMap;
import io.arbiter.engine.spi.Instance;
import io.arbiter.engine.spi.Template;
import java.util.LinkedHashMap;
import java.util.Map;

/** An instance whose field expressions are compiled; builds its template record per call. */
public abstract sealed class CompiledInstance {
  private final String name;
  private final Template template;

  CompiledInstance(String name, Template template) {
    this.name = name;
    this.template = template;
  }

  public String name() {
    return name;
  }

  public Template template() {
    return template;
  }

  public abstract Instance build(AttributeBag bag) throws EvaluationException;

  /** Every expression {@link #build} evaluates, for reference analysis. */
  public abstract java.util.List<Expression> expressions();

  static java.util.List<Expression> all(Object... parts) {
    java.util.List<Expression> out = new java.util.ArrayList<>();
    for (Object p : parts) {
      if (p instanceof Expression e) {
        out.add(e);
      } else if (p instanceof Map<?, ?> m) {
        m.values().forEach(v -> out.add((Expression) v));
      }
    }
    return out;
  }

  /** {@code checknothing}: no fields. */
  public static final class CheckNothing extends CompiledInstance {
    private final Instance.CheckNothing value;

    public CheckNothing(String name) {
      super(name, Template.CHECKNOTHING);
      this.value = new Instance.CheckNothing(name);
    }

    @Override
    public java.util.List<Expression> expressions() {
      return all();
    }

    @Override
    public Instance build(AttributeBag bag) {
      return value;
    }
  }

  /** {@code listentry}: one value. */
  public static final class ListEntry extends CompiledInstance {
    private final Expression value;

    public ListEntry(String name, Expression value) {
      super(name, Template.LISTENTRY);
      this.value = value;
    }

    @Override
    public java.util.List<Expression> expressions() {
      return all(value);
    }

    @Override
    public Instance build(AttributeBag bag) throws EvaluationException {
      return new Instance.ListEntry(name(), value.evalText(bag));
    }
  }

  /** {@code authorization}: subject and action fields; null expressions mean empty. */
  public static final class Authorization extends CompiledInstance {
    private final Expression user;
    private final Expression groups;
    private final Map<String, Expression> subjectProperties;
    private final Expression namespace;
    private final Expression service;
    private final Expression method;
    private final Expression path;
    private final Map<String, Expression> actionProperties;

    public Authorization(
        String name,
        Expression user,
        Expression groups,
        Map<String, Expression> subjectProperties,
        Expression namespace,
        Expression service,
        Expression method,
        Expression path,
        Map<String, Expression> actionProperties) {
      super(name, Template.AUTHORIZATION);
      this.user = user;
      this.groups = groups;
      this.subjectProperties = Map.copyOf(subjectProperties);
      this.namespace = namespace;
      this.service = service;
      this.method = method;
      this.path = path;
      this.actionProperties = Map.copyOf(actionProperties);
    }

    @Override
    public java.util.List<Expression> expressions() {
      return all(user, groups, subjectProperties, namespace, service, method, path, actionProperties);
    }

    @Override
    public Instance build(AttributeBag bag) throws EvaluationException {
      return new Instance.Authorization(
          name(),
          new Instance.Subject(text(user, bag), text(groups, bag), values(subjectProperties, bag)),
          new Instance.Action(
              text(namespace, bag),
              text(service, bag),
              text(method, bag),
              text(path, bag),
              values(actionProperties, bag)));
    }

    private static String text(Expression e, AttributeBag bag) throws EvaluationException {
      return e == null ? "" : e.evalText(bag);
    }

    private static Map<String, Object> values(Map<String, Expression> exprs, AttributeBag bag)
        throws EvaluationException {
      Map<String, Object> out = new LinkedHashMap<>();
      for (Map.Entry<String, Expression> e : exprs.entrySet()) {
        out.put(e.getKey(), e.getValue().eval(bag));
      }
      return out;
    }
  }

  /** {@code metric}: a value and label values. */
  public static final class Metric extends CompiledInstance {
    private final Expression value;
    private final Map<String, Expression> dimensions;
    private final FixedMap.Keys keys;
    private final Expression[] dimensionExpressions;

    public Metric(String name, Expression value, Map<String, Expression> dimensions) {
      super(name, Template.METRIC);
      this.value = value;
      this.dimensions = new LinkedHashMap<>(dimensions);
      this.keys = new FixedMap.Keys(this.dimensions.keySet());
      this.dimensionExpressions = this.dimensions.values().toArray(new Expression[0]);
    }

    @Override
    public java.util.List<Expression> expressions() {
      return all(value, dimensions);
    }

    @Override
    public Instance build(AttributeBag bag) throws EvaluationException {
      Object v = value.eval(bag);
      if (v instanceof java.time.Duration d) {
        v = d.toNanos() / 1e9;
      } else if (v instanceof com.google.common.primitives.UnsignedLong u) {
        v = u.longValue();
      } else if (!(v instanceof Long || v instanceof Double)) {
        throw new EvaluationException(value, "a metric value must be a number or duration, got "
            + (v == null ? "null" : v.getClass().getSimpleName()), null);
      }
      FixedMap.Builder<String> dims = keys.builder();
      for (int i = 0; i < dimensionExpressions.length; i++) {
        dims.set(i, dimensionExpressions[i].evalText(bag));
      }
      return new Instance.Metric(name(), v, dims.build());
    }
  }

  /** {@code logentry}: severity, timestamp and variables. */
  public static final class LogEntry extends CompiledInstance {
    private final Expression severity;
    private final Expression timestamp;
    private final Map<String, Expression> variables;
    private final FixedMap.Keys keys;
    private final Expression[] variableExpressions;

    /**
     * @param timestamp null means the report's {@code request.time}, else now; an expression that
     *     gives anything but a timestamp fails the instance (counted as an expression error)
     */
    public LogEntry(String name, Expression severity, Expression timestamp, Map<String, Expression> variables) {
      super(name, Template.LOGENTRY);
      this.severity = severity;
      this.timestamp = timestamp;
      this.variables = new LinkedHashMap<>(variables);
      this.keys = new FixedMap.Keys(this.variables.keySet());
      this.variableExpressions = this.variables.values().toArray(new Expression[0]);
    }

    @Override
    public java.util.List<Expression> expressions() {
      return all(severity, timestamp, variables);
    }

    @Override
    public Instance build(AttributeBag bag) throws EvaluationException {
      java.time.Instant at;
      if (timestamp != null) {
        Object t = timestamp.eval(bag);
        if (t instanceof java.time.Instant i) {
          at = i;
        } else if (t instanceof com.google.protobuf.Timestamp ts) {
          at = java.time.Instant.ofEpochSecond(ts.getSeconds(), ts.getNanos());
        } else {
          throw new EvaluationException(timestamp, "a logentry timestamp must be a timestamp, got "
              + (t == null ? "null" : t.getClass().getSimpleName()), null);
        }
      } else {
        Object t = bag.get("request.time");
        at = t instanceof java.time.Instant i ? i : java.time.Instant.now();
      }
      FixedMap.Builder<Object> vars = keys.builder();
      for (int i = 0; i < variableExpressions.length; i++) {
        vars.set(i, variableExpressions[i].eval(bag));
      }
      return new Instance.LogEntry(
          name(), severity == null ? "INFO" : severity.evalText(bag), at, vars.build());
    }
  }

  /**
   * {@code quota}: the dimensions that select a bucket. Built for every allocation of every
   * rate-limit descriptor, so, like {@link Metric}, into a {@link FixedMap} the instance keeps as
   * it is: one array per call instead of a hash map copied into another.
   */
  public static final class Quota extends CompiledInstance {
    private final Map<String, Expression> dimensions;
    private final FixedMap.Keys keys;
    private final Expression[] dimensionExpressions;

    public Quota(String name, Map<String, Expression> dimensions) {
      super(name, Template.QUOTA);
      this.dimensions = new LinkedHashMap<>(dimensions);
      this.keys = new FixedMap.Keys(this.dimensions.keySet());
      this.dimensionExpressions = this.dimensions.values().toArray(new Expression[0]);
    }

    @Override
    public java.util.List<Expression> expressions() {
      return all(dimensions);
    }

    @Override
    public Instance.Quota build(AttributeBag bag) throws EvaluationException {
      FixedMap.Builder<String> dims = keys.builder();
      for (int i = 0; i < dimensionExpressions.length; i++) {
        dims.set(i, dimensionExpressions[i].evalText(bag));
      }
      return new Instance.Quota(name(), dims.build());
    }
  }
}
