package io.arbiter.engine.internal;

import dev.cel.common.CelAbstractSyntaxTree;
import dev.cel.common.CelIssue;
import dev.cel.common.CelOptions;
import dev.cel.common.CelValidationException;
import dev.cel.common.CelValidationResult;
import dev.cel.common.types.CelKind;
import dev.cel.common.types.CelType;
import dev.cel.common.types.MapType;
import dev.cel.common.types.SimpleType;
import dev.cel.compiler.CelCompiler;
import dev.cel.compiler.CelCompilerBuilder;
import dev.cel.compiler.CelCompilerFactory;
import dev.cel.extensions.CelExtensions;
import dev.cel.parser.CelStandardMacro;
import dev.cel.runtime.CelEvaluationException;
import dev.cel.runtime.CelRuntime;
import dev.cel.runtime.CelRuntimeFactory;
import io.arbiter.engine.AttributeType;
import io.arbiter.engine.Vocabulary;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Compiles expressions against the attribute vocabulary. One compiler and one runtime per
 * iteration budget; both are thread-safe. Compilation type-checks and returns every issue at once;
 * evaluation never compiles.
 */
public final class CelEnvironment {

  /** What an expression must produce. */
  public enum Expect {
    /** A bool (or a dyn value checked at run time), e.g. a rule's match. */
    BOOL,
    /** A scalar turned into text: string, int, uint, double, bool, timestamp, duration. */
    TEXT,
    /** Any value. */
    ANY
  }

  /** One compile problem, with the 1-based column of the expression where CEL knows it. */
  public record Problem(int column, String message) {
    @Override
    public String toString() {
      return column > 0 ? "column " + column + ": " + message : message;
    }
  }

  /** Thrown by {@link #compile} with every problem of an expression. */
  public static final class CompileException extends Exception {
    private final List<Problem> problems;

    CompileException(List<Problem> problems) {
      super(problems.toString());
      this.problems = List.copyOf(problems);
    }

    public List<Problem> problems() {
      return problems;
    }
  }

  private final CelCompiler compiler;
  private final CelRuntime runtime;

  /** @param maxIterations the most iterations one comprehension may run (bounds {@code all()}, {@code map()}, …) */
  public CelEnvironment(int maxIterations) {
    CelOptions options =
        CelOptions.current().comprehensionMaxIterations(maxIterations).build();
    CelCompilerBuilder builder =
        CelCompilerFactory.standardCelCompilerBuilder()
            .setOptions(options)
            .setStandardMacros(CelStandardMacro.STANDARD_MACROS)
            .addLibraries(CelExtensions.strings(), CelExtensions.optional());
    for (Map.Entry<String, AttributeType> e : Vocabulary.attributes().entrySet()) {
      builder.addVar(e.getKey(), celType(e.getValue()));
    }
    this.compiler = builder.build();
    this.runtime =
        CelRuntimeFactory.standardCelRuntimeBuilder()
            .setOptions(options)
            .addLibraries(CelExtensions.strings(), CelExtensions.optional())
            .build();
  }

  static CelType celType(AttributeType type) {
    return switch (type) {
      case STRING -> SimpleType.STRING;
      case INT -> SimpleType.INT;
      case DOUBLE -> SimpleType.DOUBLE;
      case BOOL -> SimpleType.BOOL;
      case TIMESTAMP -> SimpleType.TIMESTAMP;
      case DURATION -> SimpleType.DURATION;
      case STRING_MAP -> MapType.create(SimpleType.STRING, SimpleType.STRING);
      case DYN_MAP -> MapType.create(SimpleType.STRING, SimpleType.DYN);
    };
  }

  private static final java.util.regex.Pattern IDENT =
      java.util.regex.Pattern.compile("[A-Za-z_][A-Za-z0-9_]*(?:\\.[A-Za-z_][A-Za-z0-9_]*)*");

  /** Turns CEL's "undeclared reference" into "unknown attribute" with the nearest names. */
  private static String explain(String text, int column, String message) {
    if (!message.startsWith("undeclared reference") || column < 1 || column > text.length()) {
      return message;
    }
    java.util.regex.Matcher m = IDENT.matcher(text);
    if (!m.find(column - 1) || m.start() != column - 1) {
      return message;
    }
    String name = m.group();
    List<String> near = new ArrayList<>();
    for (String known : Vocabulary.attributes().keySet()) {
      if (distance(name, known) <= 3 || known.startsWith(name + ".")) {
        near.add(known);
      }
    }
    return "unknown attribute '" + name + "'"
        + (near.isEmpty() ? "" : " (did you mean " + String.join(", ", near) + "?)");
  }

  private static int distance(String a, String b) {
    int[] prev = new int[b.length() + 1];
    int[] cur = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) {
      prev[j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      cur[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
        cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
      }
      int[] t = prev;
      prev = cur;
      cur = t;
    }
    return prev[b.length()];
  }

  /**
   * Parses and type-checks {@code text}.
   *
   * @throws CompileException with every problem: syntax, unknown attribute, type mismatch, wrong
   *     result type
   */
  public Expression compile(String text, Expect expect) throws CompileException {
    if (text == null || text.isBlank()) {
      throw new CompileException(List.of(new Problem(0, "empty expression")));
    }
    CelValidationResult result = compiler.compile(text);
    if (result.hasError()) {
      List<Problem> problems = new ArrayList<>();
      for (CelIssue issue : result.getErrors()) {
        int column = issue.getSourceLocation().getColumn() + 1;
        problems.add(new Problem(column, explain(text, column, issue.getMessage())));
      }
      throw new CompileException(problems);
    }
    CelAbstractSyntaxTree ast;
    try {
      ast = result.getAst();
    } catch (CelValidationException e) {
      throw new CompileException(List.of(new Problem(0, e.getMessage())));
    }
    CelKind kind = ast.getResultType().kind();
    boolean ok =
        switch (expect) {
          case BOOL -> kind == CelKind.BOOL || kind == CelKind.DYN;
          case TEXT ->
              switch (kind) {
                case STRING, INT, UINT, DOUBLE, BOOL, TIMESTAMP, DURATION, DYN -> true;
                default -> false;
              };
          case ANY -> true;
        };
    if (!ok) {
      throw new CompileException(
          List.of(
              new Problem(
                  1,
                  "expected a "
                      + (expect == Expect.BOOL ? "bool" : "string or other scalar")
                      + " but the expression is a "
                      + ast.getResultType().name())));
    }
    try {
      return new Expression(text, runtime.createProgram(ast), ast);
    } catch (CelEvaluationException e) {
      throw new CompileException(List.of(new Problem(0, e.getMessage())));
    }
  }
}
