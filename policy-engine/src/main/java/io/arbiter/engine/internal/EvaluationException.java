package io.arbiter.engine.internal;

/** An expression failed at run time: a missing map key, a division by zero, a spent budget. */
public final class EvaluationException extends Exception {
  private final transient Expression expression;

  EvaluationException(Expression expression, String message, Throwable cause) {
    super("'" + expression.text() + "': " + message, cause);
    this.expression = expression;
  }

  public Expression expression() {
    return expression;
  }
}
