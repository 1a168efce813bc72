package io.arbiter.engine.internal;

import com.codahale.metrics.Counter;
import io.arbiter.engine.spi.CheckHandler;
import io.arbiter.engine.spi.CheckResult;
import io.arbiter.engine.spi.QuotaHandler;
import io.arbiter.engine.spi.ReportHandler;
import java.util.List;
import java.util.Map;

/**
 * A rule ready to evaluate: its match, the actions it dispatches, the header and query directives
 * it adds on allow, and its own allow/deny condition.
 *
 * @param allow when set, the call is denied with {@code denial} unless it evaluates to true
 * @param deny when set, the call is denied with {@code denial} if it evaluates to true
 * @param sampler which reports the rule takes; null takes all
 * @param shadow decide and count, but never deny (quota over its limit included)
 * @param matches counts the calls this rule matched
 * @param shadowDenials counts the denials shadow mode turned into allows
 * @param cacheCap the longest and most often a decision this rule matched may be reused; null
 *     leaves it to the results and {@code settings.cache}
 */
public record CompiledRule(
    String name,
    Expression match,
    List<Action> actions,
    List<HeaderDirective> requestHeadersToAdd,
    List<String> requestHeadersToRemove,
    List<HeaderDirective> responseHeadersToAdd,
    Map<String, Expression> queryParametersToSet,
    List<String> queryParametersToRemove,
    Expression allow,
    Expression deny,
    CheckResult denial,
    Sampler sampler,
    boolean shadow,
    Counter matches,
    Counter shadowDenials,
    CacheCap cacheCap) {

  /** A rule's cap on reusing the decisions it takes part in (its {@code cache:} field). */
  public record CacheCap(java.time.Duration validDuration, int validUseCount) {}

  /**
   * One handler and the instances it receives, split by variety. A handler field is set exactly
   * when its list is not empty. Checks call the handler through its {@code guard}.
   */
  public record Action(
      String handlerName,
      HandlerGuard guard,
      CheckHandler checkHandler,
      List<CompiledInstance> checks,
      ReportHandler reportHandler,
      List<CompiledInstance> reports,
      QuotaHandler quotaHandler,
      List<CompiledInstance.Quota> quotas) {}

  /** A header whose value is an expression. */
  public record HeaderDirective(String name, Expression value, boolean append) {}

  /** The rule's own expressions beside its match and its instances: conditions and directives. */
  public List<Expression> ownExpressions() {
    List<Expression> out = new java.util.ArrayList<>();
    if (allow != null) {
      out.add(allow);
    }
    if (deny != null) {
      out.add(deny);
    }
    requestHeadersToAdd.forEach(d -> out.add(d.value()));
    responseHeadersToAdd.forEach(d -> out.add(d.value()));
    out.addAll(queryParametersToSet.values());
    return out;
  }

  /** True if this rule adds directives of its own beside its actions. */
  public boolean hasDirectives() {
    return !requestHeadersToAdd.isEmpty()
        || !requestHeadersToRemove.isEmpty()
        || !responseHeadersToAdd.isEmpty()
        || !queryParametersToSet.isEmpty()
        || !queryParametersToRemove.isEmpty();
  }

  /** Whether checks evaluate this rule: anything but a rule that only reports. */
  public boolean servesChecks() {
    return actions.isEmpty()
        || hasDirectives()
        || allow != null
        || deny != null
        || actions.stream().anyMatch(a -> !a.checks.isEmpty() || !a.quotas.isEmpty());
  }

  public boolean servesReports() {
    return actions.stream().anyMatch(a -> !a.reports.isEmpty());
  }

  public boolean servesQuotas() {
    return actions.stream().anyMatch(a -> !a.quotas.isEmpty());
  }
}
