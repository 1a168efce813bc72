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
    return outcomes.stream().anyMatch(o -> !o.shadow && o.result.overLimit());
  }

  /** The outcome that limits most (least remaining among those that count), if any. */
  public java.util.Optional<Outcome> tightest() {
    return outcomes.stream()
        .filter(o -> !o.shadow)
        .min(java.util.Comparator.comparingLong((Outcome o) -> o.result.overLimit() ? -1 : o.result.remaining()));
  }
}
