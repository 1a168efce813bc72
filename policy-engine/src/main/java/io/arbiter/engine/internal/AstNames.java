package io.arbiter.engine.internal;

import dev.cel.common.CelAbstractSyntaxTree;
import dev.cel.common.ast.CelConstant;
import dev.cel.common.ast.CelExpr;
import dev.cel.common.ast.CelReference;
import io.arbiter.engine.AttributeType;
import io.arbiter.engine.Vocabulary;
import java.util.Optional;

/**
 * What a node of a checked CEL tree names, for the analyses that read the tree (the rule index,
 * referenced attributes, the fast path): a vocabulary attribute, a map attribute, a string literal.
 */
final class AstNames {
  private AstNames() {}

  /** The vocabulary attribute {@code e} names (an identifier or a qualified name), or null. */
  static String attribute(CelAbstractSyntaxTree ast, CelExpr e) {
    CelExpr.ExprKind.Kind kind = e.getKind();
    if (kind != CelExpr.ExprKind.Kind.IDENT && kind != CelExpr.ExprKind.Kind.SELECT) {
      return null;
    }
    if (kind == CelExpr.ExprKind.Kind.SELECT && e.select().testOnly()) {
      return null;
    }
    Optional<CelReference> ref = ast.getReference(e.id());
    if (ref.isEmpty() || ref.get().value().isPresent()) {
      return null;
    }
    String name = ref.get().name();
    return Vocabulary.typeOf(name).isPresent() ? name : null;
  }

  /** The attribute {@code e} names if it has type {@code type}, else null. */
  static String attribute(CelAbstractSyntaxTree ast, AttributeType type, CelExpr e) {
    String name = attribute(ast, e);
    return name != null && Vocabulary.typeOf(name).orElseThrow() == type ? name : null;
  }

  /** The map attribute (string or dyn values) {@code e} names, or null. */
  static String mapAttribute(CelAbstractSyntaxTree ast, CelExpr e) {
    String name = attribute(ast, e);
    if (name == null) {
      return null;
    }
    AttributeType t = Vocabulary.typeOf(name).orElseThrow();
    return t == AttributeType.STRING_MAP || t == AttributeType.DYN_MAP ? name : null;
  }

  /** The string literal {@code e} is, or null. */
  static String stringConstant(CelExpr e) {
    if (e.getKind() == CelExpr.ExprKind.Kind.CONSTANT
        && e.constant().getKind() == CelConstant.Kind.STRING_VALUE) {
      return e.constant().stringValue();
    }
    return null;
  }
}
