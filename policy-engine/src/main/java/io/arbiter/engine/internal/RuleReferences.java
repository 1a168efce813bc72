package io.arbiter.engine.internal;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * What each rule of a {@link RuleSet} reads, as bit sets over one table of {@link Reference}s, so an
 * evaluation can record what it read by OR-ing a few words per rule it evaluated.
 *
 * <p>Per rule there are two sets: what its match reads ({@linkplain #match}), read whenever the rule
 * is evaluated; and what the rest of it reads once it matched ({@linkplain #body}: allow and deny
 * conditions, header and query directives, the expressions of its check and quota instances).
 * {@linkplain #index} is what the rule index reads to pick candidates; {@linkplain #all} is the
 * union of everything. Immutable.
 */
public final class RuleReferences {
  private final Reference[] table;
  private final long[][] match;
  private final long[][] body;
  private final long[] index;
  private final long[] all;

  private RuleReferences(Reference[] table, long[][] match, long[][] body, long[] index, long[] all) {
    this.table = table;
    this.match = match;
    this.body = body;
    this.index = index;
    this.all = all;
  }

  static RuleReferences of(List<CompiledRule> rules, RuleIndex ruleIndex) {
    List<Set<Reference>> matches = new ArrayList<>(rules.size());
    List<Set<Reference>> bodies = new ArrayList<>(rules.size());
    TreeSet<Reference> every = new TreeSet<>();
    for (CompiledRule rule : rules) {
      Set<Reference> m = new TreeSet<>();
      Reference.of(rule.match(), m);
      Set<Reference> b = new TreeSet<>();
      rule.ownExpressions().forEach(e -> Reference.of(e, b));
      for (CompiledRule.Action a : rule.actions()) {
        a.checks().forEach(i -> i.expressions().forEach(e -> Reference.of(e, b)));
        a.quotas().forEach(i -> i.expressions().forEach(e -> Reference.of(e, b)));
      }
      matches.add(m);
      bodies.add(b);
      every.addAll(m);
      every.addAll(b);
    }
    Set<Reference> indexed = new TreeSet<>();
    if (ruleIndex != null) {
      ruleIndex.attributes().forEach(a -> indexed.add(new Reference(a, null)));
      every.addAll(indexed);
    }
    Reference[] table = every.toArray(Reference[]::new);
    Map<Reference, Integer> position = new HashMap<>();
    for (int i = 0; i < table.length; i++) {
      position.put(table[i], i);
    }
    int words = Math.max(1, (table.length + 63) >>> 6);
    long[][] match = new long[rules.size()][];
    long[][] body = new long[rules.size()][];
    for (int r = 0; r < rules.size(); r++) {
      match[r] = bits(matches.get(r), position, words);
      body[r] = bits(bodies.get(r), position, words);
    }
    return new RuleReferences(table, match, body, bits(indexed, position, words),
        bits(every, position, words));
  }

  private static long[] bits(Set<Reference> refs, Map<Reference, Integer> position, int words) {
    long[] out = new long[words];
    for (Reference r : refs) {
      int i = position.get(r);
      out[i >>> 6] |= 1L << i;
    }
    return out;
  }

  /** Words in each bit set. */
  public int words() {
    return all.length;
  }

  public long[] match(int rule) {
    return match[rule];
  }

  public long[] body(int rule) {
    return body[rule];
  }

  public long[] index() {
    return index;
  }

  public long[] all() {
    return all;
  }

  /** The references a bit set names, in table order. */
  public Reference[] resolve(long[] bits) {
    List<Reference> out = new ArrayList<>();
    for (int w = 0; w < bits.length; w++) {
      long b = bits[w];
      while (b != 0) {
        out.add(table[(w << 6) + Long.numberOfTrailingZeros(b)]);
        b &= b - 1;
      }
    }
    return out.toArray(Reference[]::new);
  }

  /** ORs {@code bits} into {@code into}. */
  public static void or(long[] into, long[] bits) {
    for (int i = 0; i < bits.length; i++) {
      into[i] |= bits[i];
    }
  }
}
