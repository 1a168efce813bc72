package io.arbiter.engine.internal;

import io.arbiter.engine.AttributeBag;
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

  /** {@code checknothing}: no fields. */
  public static final class CheckNothing extends CompiledInstance {
    private final Instance.CheckNothing value;

    public CheckNothing(String name) {
      super(name, Template.CHECKNOTHING);
      this.value = new Instance.CheckNothing(name);
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
}
