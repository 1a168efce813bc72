package io.arbiter.engine.internal;

import dev.cel.common.CelAbstractSyntaxTree;
import dev.cel.common.ast.CelConstant;
import dev.cel.common.ast.CelExpr;
import io.arbiter.engine.AttributeBag;
import io.arbiter.engine.Vocabulary;
import java.util.Map;
import java.util.Set;

/**
 * One thing an expression reads: a whole attribute, or one key of a map attribute (its presence
 * and its value). Mixer's "referenced attributes": a decision depends on exactly what its
 * expressions read, present or absent, and on nothing else.
 *
 * <p>{@link #of} finds them statically, from the checked syntax tree, so the set is a superset of
 * what any one evaluation reads: {@code request.headers['x-user']}, {@code 'x-user' in
 * request.headers}, {@code has(request.headers.x)} and {@code request.headers[?'x-user']} read one
 * key; any other use of a map ({@code size(m)}, {@code m.exists(...)}, {@code m[expr]}) reads all of
 * it.
 *
 * @param attribute a vocabulary name
 * @param key the map key read, or null for the whole attribute
 */
public record Reference(String attribute, String key) implements Comparable<Reference> {

  /** What {@link #read} returns for an absent attribute or key; distinct from every value. */
  public static final Object ABSENT = new Object() {
    @Override
    public String toString() {
      return "<absent>";
    }
  };

  /** The value this reference reads from {@code bag}, or {@link #ABSENT}. */
  public Object read(AttributeBag bag) {
    Object v = bag.get(attribute);
    if (v == null) {
      return ABSENT;
    }
    if (key == null) {
      return v;
    }
    Object e = ((Map<?, ?>) v).get(key);
    return e != null ? e : ABSENT;
  }

  @Override
  public int compareTo(Reference o) {
    int c = attribute.compareTo(o.attribute);
    if (c != 0) {
      return c;
    }
    if (key == null || o.key == null) {
      return key == null ? (o.key == null ? 0 : -1) : 1;
    }
    return key.compareTo(o.key);
  }

  @Override
  public String toString() {
    return key == null ? attribute : attribute + "['" + key + "']";
  }

  /** Adds every reference {@code e} makes to {@code out}. */
  public static void of(Expression e, Set<Reference> out) {
    if (e != null) {
      new Walker(e.ast(), out).visit(e.ast().getExpr());
    }
  }

  private record Walker(CelAbstractSyntaxTree ast, Set<Reference> out) {

    void visit(CelExpr e) {
      String attribute = AstNames.attribute(ast, e);
      if (attribute != null) {
        out.add(new Reference(attribute, null));
        return;
      }
      switch (e.getKind()) {
        case CALL -> {
          CelExpr.CelCall call = e.call();
          var args = call.args();
          String f = call.function();
          if ((f.equals("_[_]") || f.equals("_[?_]")) && args.size() == 2
              && mapKey(args.get(0), args.get(1))) {
            return;
          }
          if (f.equals("@in") && args.size() == 2 && mapKey(args.get(1), args.get(0))) {
            return;
          }
          call.target().ifPresent(this::visit);
          args.forEach(this::visit);
        }
        case SELECT -> {
          CelExpr.CelSelect s = e.select();
          String map = AstNames.mapAttribute(ast, s.operand());
          String qualified = s.testOnly() ? qualifiedName(s.operand()) : null;
          if (map != null) {
            out.add(new Reference(map, s.field()));
          } else if (qualified != null && Vocabulary.typeOf(qualified + "." + s.field()).isPresent()) {
            out.add(new Reference(qualified + "." + s.field(), null));
          } else {
            visit(s.operand());
          }
        }
        case LIST -> e.list().elements().forEach(this::visit);
        case MAP -> e.map().entries().forEach(entry -> {
          visit(entry.key());
          visit(entry.value());
        });
        case STRUCT -> e.struct().entries().forEach(entry -> visit(entry.value()));
        case COMPREHENSION -> {
          var c = e.comprehension();
          visit(c.iterRange());
          visit(c.accuInit());
          visit(c.loopCondition());
          visit(c.loopStep());
          visit(c.result());
        }
        default -> {}
      }
    }

    /** Records {@code map[key]} when {@code map} is a map attribute and {@code key} a string literal. */
    private boolean mapKey(CelExpr map, CelExpr key) {
      String name = AstNames.mapAttribute(ast, map);
      if (name == null || key.getKind() != CelExpr.ExprKind.Kind.CONSTANT
          || key.constant().getKind() != CelConstant.Kind.STRING_VALUE) {
        return false;
      }
      out.add(new Reference(name, key.constant().stringValue()));
      return true;
    }

    /** {@code a.b.c} for a chain of identifier and field selections, else null. */
    private static String qualifiedName(CelExpr e) {
      return switch (e.getKind()) {
        case IDENT -> e.ident().name();
        case SELECT -> {
          String operand = e.select().testOnly() ? null : qualifiedName(e.select().operand());
          yield operand == null ? null : operand + "." + e.select().field();
        }
        default -> null;
      };
    }

  }
}
