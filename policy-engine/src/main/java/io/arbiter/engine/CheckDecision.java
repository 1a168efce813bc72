package io.arbiter.engine;

import io.arbiter.engine.spi.CheckResult;
import java.util.List;

/**
 * The engine's answer to one check.
 *
 * @param id unique per decision; front ends return it (dynamic metadata, a header on denials) and
 *     logs carry it, so one request can be traced through both
 * @param result the combined result to send
 * @param matchedRules the rules whose match was true, in config order
 * @param configVersion the version of the config that decided
 * @param errors what failed (expressions, handlers, deadlines); when not empty, {@code result}
 *     includes the configured fail-open or fail-closed outcome
 * @param cached true when the decision was reused from the decision cache (the result, matched
 *     rules and config version are those of the evaluation that took it; the id is this call's)
 */
public record CheckDecision(
    String id,
    CheckResult result,
    List<String> matchedRules,
    String configVersion,
    List<String> errors,
    boolean cached) {

  public CheckDecision {
    matchedRules = List.copyOf(matchedRules);
    errors = List.copyOf(errors);
  }

  /** A decision that was evaluated, not reused. */
  public CheckDecision(String id, CheckResult result, List<String> matchedRules,
      String configVersion, List<String> errors) {
    this(id, result, matchedRules, configVersion, errors, false);
  }

  public boolean failed() {
    return !errors.isEmpty();
  }
}
