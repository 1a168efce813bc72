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
 */
public record CheckDecision(
    String id,
    CheckResult result,
    List<String> matchedRules,
    String configVersion,
    List<String> errors) {

  public CheckDecision {
    matchedRules = List.copyOf(matchedRules);
    errors = List.copyOf(errors);
  }

  public boolean failed() {
    return !errors.isEmpty();
  }
}
