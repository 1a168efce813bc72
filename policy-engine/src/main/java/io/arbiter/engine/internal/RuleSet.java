package io.arbiter.engine.internal;

import java.util.List;
import java.util.function.Predicate;

/**
 * The rules one variety of call evaluates (checks, reports or quotas), in config order, with their
 * index and what each reads.
 *
 * @param index null when every rule must be evaluated
 * @param references what each rule and the index read, for the decision cache
 */
public record RuleSet(List<CompiledRule> rules, RuleIndex index, RuleReferences references) {
  public RuleSet {
    rules = List.copyOf(rules);
  }

  public static RuleSet of(List<CompiledRule> all, Predicate<CompiledRule> serves) {
    List<CompiledRule> rules = all.stream().filter(serves).toList();
    RuleIndex index = RuleIndex.build(rules);
    return new RuleSet(rules, index, RuleReferences.of(rules, index));
  }

  /** Calls {@code visit} with each rule that may match {@code bag}, in order. */
  public void forCandidates(io.arbiter.engine.AttributeBag bag, java.util.function.Consumer<CompiledRule> visit) {
    if (index == null) {
      for (CompiledRule rule : rules) {
        visit.accept(rule);
      }
      return;
    }
    long[] candidates = index.candidates(bag);
    for (int w = 0; w < candidates.length; w++) {
      long bits = candidates[w];
      while (bits != 0) {
        visit.accept(rules.get((w << 6) + Long.numberOfTrailingZeros(bits)));
        bits &= bits - 1;
      }
    }
  }
}
