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

  /**
   * True when an allocation that counts (not in shadow mode) was over its limit.
   *
   * <p>This and {@link #tightestOrNull} loop by index: they run for every descriptor of every
   * rate-limit call, and an iterator over the immutable list is an allocation the JIT does not
   * always remove.
   */
  public boolean overLimit() {
    for (int i = 0; i < outcomes.size(); i++) {
      Outcome o = outcomes.get(i);
      if (!o.shadow && o.result.overLimit()) {
        return true;
      }
    }
    return false;
  }

  /** The outcome that limits most (least remaining among those that count), if any. */
  public java.util.Optional<Outcome> tightest() {
    return java.util.Optional.ofNullable(tightestOrNull());
  }

  /**
   * {@link #tightest()} without the {@code Optional}: the outcome that limits most, or null when
   * no outcome counts. For front ends that answer every call with it.
   */
  public Outcome tightestOrNull() {
    Outcome best = null;
    long bestRank = 0;
    for (int i = 0; i < outcomes.size(); i++) {
      Outcome o = outcomes.get(i);
      if (o.shadow) {
        continue;
      }
      long rank = o.result.overLimit() ? -1 : o.result.remaining();
      if (best == null || rank < bestRank) {
        best = o;
        bestRank = rank;
      }
    }
    return best;
  }
}
