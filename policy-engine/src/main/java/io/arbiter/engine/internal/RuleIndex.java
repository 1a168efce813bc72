package io.arbiter.engine.internal;

import dev.cel.common.CelAbstractSyntaxTree;
import dev.cel.common.ast.CelExpr;
import io.arbiter.engine.AttributeBag;
import io.arbiter.engine.AttributeType;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Picks, per call, the rules whose match can be true, so a config of many rules does not evaluate
 * every match on every call.
 *
 * <p>A rule is indexed by one conjunct of its match (the whole match, or one operand of its
 * top-level {@code &&} chain) of the form {@code attr == 'v'}, {@code 'v' == attr}, {@code attr in
 * ['v1', 'v2']} or {@code attr.startsWith('p')}, where {@code attr} is a string attribute. When that
 * conjunct is false the match is false whatever the other conjuncts do (CEL's {@code &&} is false
 * if any operand is false, even if another errs), so skipping the rule is exactly what evaluating
 * it would decide. Rules without such a conjunct are candidates on every call. Absent attributes
 * read as {@code ""}, as in evaluation. Candidates keep config order.
 *
 * <p>Immutable and thread-safe. Finding candidates allocates one small bit set per call.
 */
public final class RuleIndex {
  private final int ruleCount;
  private final long[] always;
  private final AttributeIndex[] attributes;

  private RuleIndex(int ruleCount, long[] always, AttributeIndex[] attributes) {
    this.ruleCount = ruleCount;
    this.always = always;
    this.attributes = attributes;
  }

  /** The index of {@code rules}, or null when no rule can be indexed (every rule always runs). */
  public static RuleIndex build(List<CompiledRule> rules) {
    long[] always = new long[(rules.size() + 63) >>> 6];
    Map<String, AttributeIndex.Builder> byAttribute = new LinkedHashMap<>();
    boolean any = false;
    for (int i = 0; i < rules.size(); i++) {
      Key key = keyOf(rules.get(i).match());
      if (key == null) {
        always[i >>> 6] |= 1L << i;
        continue;
      }
      any = true;
      AttributeIndex.Builder b = byAttribute.computeIfAbsent(key.attribute, a -> new AttributeIndex.Builder(a));
      for (String v : key.values) {
        if (key.prefix) {
          b.prefix(v, i);
        } else {
          b.exact(v, i);
        }
      }
    }
    if (!any) {
      return null;
    }
    return new RuleIndex(rules.size(), always,
        byAttribute.values().stream().map(AttributeIndex.Builder::build).toArray(AttributeIndex[]::new));
  }

  /** The rules to evaluate for {@code bag}, as a bit set over rule positions. */
  public long[] candidates(AttributeBag bag) {
    long[] out = always.clone();
    for (AttributeIndex a : attributes) {
      Object v = bag.get(a.attribute);
      a.mark(v instanceof String s ? s : "", out);
    }
    return out;
  }

  /** The attributes {@link #candidates} reads. */
  public List<String> attributes() {
    List<String> out = new ArrayList<>(attributes.length);
    for (AttributeIndex a : attributes) {
      out.add(a.attribute);
    }
    return out;
  }

  public int ruleCount() {
    return ruleCount;
  }

  /** What a rule is indexed by: an attribute and the values (or prefixes) one of which it needs. */
  private record Key(String attribute, List<String> values, boolean prefix) {}

  static Key keyOf(Expression match) {
    CelAbstractSyntaxTree ast = match.ast();
    List<CelExpr> conjuncts = new ArrayList<>();
    conjuncts(ast.getExpr(), conjuncts);
    Key prefixKey = null;
    for (CelExpr c : conjuncts) {
      if (c.getKind() != CelExpr.ExprKind.Kind.CALL) {
        continue;
      }
      CelExpr.CelCall call = c.call();
      List<CelExpr> args = call.args();
      switch (call.function()) {
        case "_==_" -> {
          String attr = AstNames.attribute(ast, AttributeType.STRING, args.get(0));
          String value = AstNames.stringConstant(args.get(1));
          if (attr == null || value == null) {
            attr = AstNames.attribute(ast, AttributeType.STRING, args.get(1));
            value = AstNames.stringConstant(args.get(0));
          }
          if (attr != null && value != null) {
            return new Key(attr, List.of(value), false);
          }
        }
        case "@in" -> {
          String attr = AstNames.attribute(ast, AttributeType.STRING, args.get(0));
          if (attr != null && args.get(1).getKind() == CelExpr.ExprKind.Kind.LIST) {
            List<String> values = new ArrayList<>();
            for (CelExpr e : args.get(1).list().elements()) {
              String v = AstNames.stringConstant(e);
              if (v == null) {
                values = null;
                break;
              }
              values.add(v);
            }
            if (values != null) {
              return new Key(attr, values, false);
            }
          }
        }
        case "startsWith" -> {
          if (prefixKey == null && call.target().isPresent() && args.size() == 1) {
            String attr = AstNames.attribute(ast, AttributeType.STRING, call.target().get());
            String prefix = AstNames.stringConstant(args.get(0));
            if (attr != null && prefix != null) {
              prefixKey = new Key(attr, List.of(prefix), true);
            }
          }
        }
        default -> {}
      }
    }
    return prefixKey;
  }

  private static void conjuncts(CelExpr e, List<CelExpr> out) {
    if (e.getKind() == CelExpr.ExprKind.Kind.CALL && e.call().function().equals("_&&_")) {
      for (CelExpr arg : e.call().args()) {
        conjuncts(arg, out);
      }
    } else {
      out.add(e);
    }
  }

  /** Exact values and prefixes of one attribute. */
  private static final class AttributeIndex {
    final String attribute;
    final Map<String, int[]> exact;
    final Trie prefixes;

    AttributeIndex(String attribute, Map<String, int[]> exact, Trie prefixes) {
      this.attribute = attribute;
      this.exact = exact;
      this.prefixes = prefixes;
    }

    void mark(String value, long[] out) {
      int[] rules = exact.get(value);
      if (rules != null) {
        set(rules, out);
      }
      Trie node = prefixes;
      while (node != null) {
        if (node.rules != null) {
          set(node.rules, out);
        }
        if (node.depth >= value.length()) {
          break;
        }
        node = node.child(value.charAt(node.depth));
      }
    }

    private static void set(int[] rules, long[] out) {
      for (int r : rules) {
        out[r >>> 6] |= 1L << r;
      }
    }

    static final class Builder {
      final String attribute;
      final Map<String, List<Integer>> exact = new HashMap<>();
      final TreeMap<String, List<Integer>> prefixes = new TreeMap<>();

      Builder(String attribute) {
        this.attribute = attribute;
      }

      void exact(String value, int rule) {
        exact.computeIfAbsent(value, v -> new ArrayList<>()).add(rule);
      }

      void prefix(String prefix, int rule) {
        prefixes.computeIfAbsent(prefix, v -> new ArrayList<>()).add(rule);
      }

      AttributeIndex build() {
        Map<String, int[]> e = new HashMap<>();
        exact.forEach((k, v) -> e.put(k, v.stream().mapToInt(Integer::intValue).toArray()));
        return new AttributeIndex(attribute, e, prefixes.isEmpty() ? null : Trie.of(prefixes, "", 0));
      }
    }
  }

  /** A prefix trie over chars; children sorted for binary search. */
  private static final class Trie {
    final int depth;
    final int[] rules;
    final char[] keys;
    final Trie[] children;

    private Trie(int depth, int[] rules, char[] keys, Trie[] children) {
      this.depth = depth;
      this.rules = rules;
      this.keys = keys;
      this.children = children;
    }

    /** The node for {@code path} over the prefixes starting with it. */
    static Trie of(TreeMap<String, List<Integer>> all, String path, int depth) {
      List<Integer> own = all.get(path);
      TreeMap<Character, Boolean> next = new TreeMap<>();
      for (String p : all.subMap(path, true, path + Character.MAX_VALUE, true).keySet()) {
        if (p.length() > depth && p.startsWith(path)) {
          next.put(p.charAt(depth), Boolean.TRUE);
        }
      }
      char[] keys = new char[next.size()];
      Trie[] children = new Trie[next.size()];
      int i = 0;
      for (char c : next.keySet()) {
        keys[i] = c;
        children[i] = of(all, path + c, depth + 1);
        i++;
      }
      return new Trie(depth, own == null ? null : own.stream().mapToInt(Integer::intValue).toArray(), keys, children);
    }

    Trie child(char c) {
      int i = java.util.Arrays.binarySearch(keys, c);
      return i >= 0 ? children[i] : null;
    }
  }
}
