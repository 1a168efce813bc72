package io.arbiter.engine;

import io.arbiter.engine.spi.QuotaResult;
import java.util.List;

/**
 * The engine's answer to one quota call: the allocation of every quota instance of every
 * matching rule.
 *
 * @param outcomes one per quota instance allocated, in rule order
 * @param errors what failed; a failure resolved fail-closed appears as an over-limit outcome
 */
public record QuotaDecision(
    String id, List<Outcome> outcomes, List<String> matchedRules, String configVersion, List<String> errors) {

  /** One allocation. {@code shadow}: its rule is in shadow mode, so it never limits. */
  public record Outcome(String rule, String handler, String instance, QuotaResult result, boolean shadow) {}

  public QuotaDecision {
    outcomes = List.copyOf(outcomes);
    matchedRules = List.copyOf(matchedRules);
    errors = List.copyOf(errors);
  }

  /** True when an allocation that counts (not in shadow mode) was over its limit. */
  public boolean overLimit() {
    for (Outcome o : outcomes) {
      if (!o.shadow && o.result.overLimit()) {
        return true;
      }
    }
    return false;
  }

  /** The outcome that limits most (least remaining among those that count), if any. */
  public java.util.Optional<Outcome> tightest() {
    Outcome best = null;
    long bestRank = 0;
    for (Outcome o : outcomes) {
      if (o.shadow) {
        continue;
      }
      long rank = o.result.overLimit() ? -1 : o.result.remaining();
      if (best == null || rank < bestRank) {
        best = o;
        bestRank = rank;
      }
    }
    return java.util.Optional.ofNullable(best);
  }
}
