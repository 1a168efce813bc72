package io.arbiter.engine.internal;

import dev.cel.runtime.CelEvaluationException;
import dev.cel.runtime.CelRuntime;
import io.arbiter.engine.AttributeBag;
import io.arbiter.engine.Vocabulary;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * A CEL expression compiled and type-checked once. Evaluation reads attributes from a bag; an
 * absent attribute reads as its type's zero value. Thread-safe.
 */
public final class Expression {
  private final String text;
  private final CelRuntime.Program program;
  private final dev.cel.common.CelAbstractSyntaxTree ast;
  private final Boolean constant;
  /** Evaluates the expression without CEL when it has a common shape; null otherwise. */
  private final FastPath fast;

  Expression(String text, CelRuntime.Program program, dev.cel.common.CelAbstractSyntaxTree ast) {
    this(text, program, ast, true);
  }

  /** @param fastPath false evaluates every call with CEL (for tests that compare the two) */
  Expression(String text, CelRuntime.Program program, dev.cel.common.CelAbstractSyntaxTree ast,
      boolean fastPath) {
    this.text = text;
    this.program = program;
    this.ast = ast;
    this.fast = fastPath ? FastPath.of(ast) : null;
    String t = text.trim();
    this.constant = t.equals("true") ? Boolean.TRUE : t.equals("false") ? Boolean.FALSE : null;
  }

  public String text() {
    return text;
  }

  /** True when common calls skip the CEL interpreter ({@link FastPath}). */
  boolean hasFastPath() {
    return fast != null;
  }

  /** The same expression evaluated by CEL alone. */
  Expression withoutFastPath() {
    return new Expression(text, program, ast, false);
  }

  /** The checked syntax tree, for analysis (rule indexing). */
  dev.cel.common.CelAbstractSyntaxTree ast() {
    return ast;
  }

  /**
   * @throws EvaluationException when CEL fails (missing map key, division by zero, budget spent)
   */
  public Object eval(AttributeBag bag) throws EvaluationException {
    if (fast != null) {
      Object v = fast.eval(bag);
      if (v != FastPath.UNKNOWN) {
        return v;
      }
    }
    try {
      return program.eval(name -> resolve(bag, name));
    } catch (CelEvaluationException e) {
      throw new EvaluationException(this, describe(e), e);
    } catch (RuntimeException e) {
      throw new EvaluationException(this, e.toString(), e);
    }
  }

  public boolean evalBool(AttributeBag bag) throws EvaluationException {
    if (constant != null) {
      return constant;
    }
    Object v = eval(bag);
    if (v instanceof Boolean b) {
      return b;
    }
    throw new EvaluationException(
        this, "expected a bool, got " + (v == null ? "null" : v.getClass().getSimpleName()), null);
  }

  /** Evaluates to text: strings as they are, other scalars in CEL's string() form. */
  public String evalText(AttributeBag bag) throws EvaluationException {
    Object v = eval(bag);
    if (v instanceof String s) {
      return s;
    }
    if (v instanceof Number || v instanceof Boolean || v instanceof java.time.Instant
        || v instanceof java.time.Duration) {
      return String.valueOf(v);
    }
    if (v instanceof com.google.common.primitives.UnsignedLong u) {
      return u.toString();
    }
    throw new EvaluationException(
        this,
        "expected a scalar, got " + (v == null ? "null" : v.getClass().getSimpleName()),
        null);
  }

  /** True for the literal {@code true}, which rules use to match every call. */
  public boolean isConstantTrue() {
    return Boolean.TRUE.equals(constant);
  }

  /** CEL's message without its {@code evaluation error at <input>:N:} prefix, with a hint. */
  private static String describe(CelEvaluationException e) {
    String m = e.getMessage() == null ? "" : e.getMessage();
    java.util.regex.Matcher at = AT.matcher(m);
    String where = "";
    if (at.lookingAt()) {
      where = " (at offset " + at.group(1) + ")";
      m = m.substring(at.end());
    }
    String code = String.valueOf(e.getErrorCode());
    return switch (code) {
      case "ATTRIBUTE_NOT_FOUND" -> "no such key: " + m + where
          + "; test it first with 'key' in map, or use map[?'key'].orValue(default)";
      case "DIVIDE_BY_ZERO" -> "division by zero" + where;
      default -> m + where;
    };
  }

  private static final java.util.regex.Pattern AT =
      java.util.regex.Pattern.compile("evaluation error at <input>:(\\d+): ");

  /**
   * What CEL reads for an attribute: its value, or its type's zero when absent. CEL asks once per
   * attribute an expression reads, on every evaluation, and most rules read some absent
   * attributes, whose answers never change: {@link #ZEROS} holds them, made once.
   */
  private static Optional<Object> resolve(AttributeBag bag, String name) {
    Object v = bag.get(name);
    if (v != null) {
      return Optional.of(v);
    }
    return ZEROS.getOrDefault(name, Optional.empty());
  }

  /** Each attribute's zero value as CEL reads it, by name. */
  private static final Map<String, Optional<Object>> ZEROS = zeros();

  private static Map<String, Optional<Object>> zeros() {
    Map<String, Optional<Object>> out = new HashMap<>();
    Vocabulary.attributes().forEach((name, type) -> out.put(name, Optional.of(type.zero())));
    return Map.copyOf(out);
  }

  @Override
  public String toString() {
    return text;
  }
}
