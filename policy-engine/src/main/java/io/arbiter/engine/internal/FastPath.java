package io.arbiter.engine.internal;

import dev.cel.common.CelAbstractSyntaxTree;
import dev.cel.common.ast.CelConstant;
import dev.cel.common.ast.CelExpr;
import io.arbiter.engine.AttributeBag;
import io.arbiter.engine.AttributeType;
import io.arbiter.engine.Vocabulary;
import java.util.List;
import java.util.Map;

/**
 * Evaluates the common shapes of expressions without cel-java's interpreter: literals, attributes,
 * literal map keys ({@code m['k']}, {@code 'k' in m}, {@code m[?'k'].orValue(lit)}), a string
 * among string literals ({@code x in ['a', 'b']}), equality of strings, ints
 * and bools and ordering of ints and bools, {@code startsWith}/{@code endsWith}/{@code contains}, {@code
 * !}, {@code &&}, {@code ||} and {@code ?:}. Most rule matches and most instance fields (a metric
 * dimension is usually one attribute) are such shapes, and the interpreter costs about a
 * microsecond and 2 KB per evaluation even for them.
 *
 * <p>Exactness comes first: a node answers only when its answer is certainly CEL's, and otherwise
 * returns {@link #UNKNOWN} (a missing map key, which CEL reports as an error; operands of types
 * this class does not compare), upon which the whole expression is evaluated by CEL instead. So a
 * fast path never changes a result or an error, only its cost. {@code FastPathTest} checks this
 * against CEL on random expressions and calls.
 */
abstract class FastPath {
  /** "Ask CEL": this node cannot answer for this call with certainty. */
  static final Object UNKNOWN = new Object();

  abstract Object eval(AttributeBag bag);

  /** The fast path of {@code ast}, or null when some node of it has none. */
  static FastPath of(CelAbstractSyntaxTree ast) {
    return new Builder(ast).build(ast.getExpr());
  }

  private record Builder(CelAbstractSyntaxTree ast) {

    FastPath build(CelExpr e) {
      String attribute = AstNames.attribute(ast, e);
      if (attribute != null) {
        return attribute(attribute);
      }
      return switch (e.getKind()) {
        case CONSTANT -> constant(e.constant());
        case CALL -> call(e.call());
        default -> null;
      };
    }

    private static FastPath attribute(String name) {
      AttributeType type = Vocabulary.typeOf(name).orElseThrow();
      if (type == AttributeType.TIMESTAMP || type == AttributeType.DURATION) {
        return null; // CEL may convert these; leave them to it
      }
      Object zero = type.zero();
      return new FastPath() {
        @Override
        Object eval(AttributeBag bag) {
          Object v = bag.get(name);
          return v != null ? v : zero;
        }
      };
    }

    private static FastPath constant(CelConstant c) {
      Object v = switch (c.getKind()) {
        case STRING_VALUE -> c.stringValue();
        case INT64_VALUE -> c.int64Value();
        case BOOLEAN_VALUE -> c.booleanValue();
        default -> null;
      };
      if (v == null) {
        return null;
      }
      return new FastPath() {
        @Override
        Object eval(AttributeBag bag) {
          return v;
        }
      };
    }

    private FastPath call(CelExpr.CelCall call) {
      List<CelExpr> args = call.args();
      String f = call.function();
      if (call.target().isPresent()) {
        CelExpr target = call.target().get();
        if (args.size() != 1) {
          return null;
        }
        if (f.equals("orValue") && target.getKind() == CelExpr.ExprKind.Kind.CALL
            && target.call().function().equals("_[?_]") && target.call().args().size() == 2) {
          String map = AstNames.mapAttribute(ast, target.call().args().get(0));
          String key = AstNames.stringConstant(target.call().args().get(1));
          FastPath fallback = build(args.get(0));
          if (map == null || key == null || fallback == null) {
            return null;
          }
          return new FastPath() {
            @Override
            Object eval(AttributeBag bag) {
              Object m = bag.get(map);
              Object v = m == null ? null : ((Map<?, ?>) m).get(key);
              return v != null ? v : fallback.eval(bag);
            }
          };
        }
        FastPath receiver = build(target);
        FastPath arg = build(args.get(0));
        if (receiver == null || arg == null) {
          return null;
        }
        return switch (f) {
          case "startsWith" -> strings(receiver, arg, String::startsWith);
          case "endsWith" -> strings(receiver, arg, String::endsWith);
          case "contains" -> strings(receiver, arg, String::contains);
          default -> null;
        };
      }
      switch (f) {
        case "_[_]" -> {
          String map = args.size() == 2 ? AstNames.mapAttribute(ast, args.get(0)) : null;
          String key = args.size() == 2 ? AstNames.stringConstant(args.get(1)) : null;
          if (map == null || key == null) {
            return null;
          }
          return new FastPath() {
            @Override
            Object eval(AttributeBag bag) {
              Object m = bag.get(map);
              Object v = m == null ? null : ((Map<?, ?>) m).get(key);
              return v != null ? v : UNKNOWN; // CEL's "no such key" error, with its own message
            }
          };
        }
        case "@in" -> {
          if (args.size() == 2 && args.get(1).getKind() == CelExpr.ExprKind.Kind.LIST) {
            return inList(args.get(0), args.get(1).list().elements());
          }
          String key = args.size() == 2 ? AstNames.stringConstant(args.get(0)) : null;
          String map = args.size() == 2 ? AstNames.mapAttribute(ast, args.get(1)) : null;
          if (map == null || key == null) {
            return null;
          }
          return new FastPath() {
            @Override
            Object eval(AttributeBag bag) {
              Object m = bag.get(map);
              return m != null && ((Map<?, ?>) m).containsKey(key);
            }
          };
        }
        case "!_" -> {
          FastPath a = args.size() == 1 ? build(args.get(0)) : null;
          if (a == null) {
            return null;
          }
          return new FastPath() {
            @Override
            Object eval(AttributeBag bag) {
              Object v = a.eval(bag);
              return v instanceof Boolean b ? !b : UNKNOWN;
            }
          };
        }
        case "_&&_", "_||_" -> {
          if (args.size() != 2) {
            return null;
          }
          FastPath a = build(args.get(0));
          FastPath b = build(args.get(1));
          if (a == null || b == null) {
            return null;
          }
          boolean and = f.equals("_&&_");
          return new FastPath() {
            @Override
            Object eval(AttributeBag bag) {
              Object l = a.eval(bag);
              if (!(l instanceof Boolean lb)) {
                return UNKNOWN;
              }
              if (lb != and) {
                return lb; // false && x is false, true || x is true, whatever x is
              }
              Object r = b.eval(bag);
              return r instanceof Boolean ? r : UNKNOWN;
            }
          };
        }
        case "_?_:_" -> {
          if (args.size() != 3) {
            return null;
          }
          FastPath c = build(args.get(0));
          FastPath t = build(args.get(1));
          FastPath o = build(args.get(2));
          if (c == null || t == null || o == null) {
            return null;
          }
          return new FastPath() {
            @Override
            Object eval(AttributeBag bag) {
              Object v = c.eval(bag);
              if (!(v instanceof Boolean b)) {
                return UNKNOWN;
              }
              return b ? t.eval(bag) : o.eval(bag);
            }
          };
        }
        case "_==_", "_!=_", "_<_", "_<=_", "_>_", "_>=_" -> {
          if (args.size() != 2) {
            return null;
          }
          FastPath a = build(args.get(0));
          FastPath b = build(args.get(1));
          if (a == null || b == null) {
            return null;
          }
          return compare(f, a, b);
        }
        default -> {
          return null;
        }
      }
    }

    /** {@code x in ['a', 'b']}: a string among string literals. */
    private FastPath inList(CelExpr value, List<CelExpr> elements) {
      FastPath v = build(value);
      java.util.Set<String> set = new java.util.HashSet<>();
      for (CelExpr e : elements) {
        String s = AstNames.stringConstant(e);
        if (s == null) {
          return null;
        }
        set.add(s);
      }
      if (v == null) {
        return null;
      }
      return new FastPath() {
        @Override
        Object eval(AttributeBag bag) {
          Object x = v.eval(bag);
          return x instanceof String s ? set.contains(s) : UNKNOWN;
        }
      };
    }

    private interface StringTest {
      boolean test(String s, String t);
    }

    private static FastPath strings(FastPath receiver, FastPath arg, StringTest test) {
      return new FastPath() {
        @Override
        Object eval(AttributeBag bag) {
          Object s = receiver.eval(bag);
          Object t = arg.eval(bag);
          if (s instanceof String ss && t instanceof String ts) {
            return test.test(ss, ts);
          }
          return UNKNOWN;
        }
      };
    }

    /** Equality and order of two values of one type among string, int and bool; else CEL's. */
    private static FastPath compare(String f, FastPath a, FastPath b) {
      return new FastPath() {
        @Override
        Object eval(AttributeBag bag) {
          Object l = a.eval(bag);
          Object r = b.eval(bag);
          int c;
          if (l instanceof String ls && r instanceof String rs) {
            if (!f.equals("_==_") && !f.equals("_!=_")) {
              return UNKNOWN; // CEL orders strings by code point; leave that to it
            }
            c = ls.equals(rs) ? 0 : 1;
          } else if (l instanceof Long ll && r instanceof Long rl) {
            c = Long.compare(ll, rl);
          } else if (l instanceof Boolean lb && r instanceof Boolean rb) {
            c = Boolean.compare(lb, rb);
          } else {
            return UNKNOWN;
          }
          return switch (f) {
            case "_==_" -> c == 0;
            case "_!=_" -> c != 0;
            case "_<_" -> c < 0;
            case "_<=_" -> c <= 0;
            case "_>_" -> c > 0;
            default -> c >= 0;
          };
        }
      };
    }

  }
}
