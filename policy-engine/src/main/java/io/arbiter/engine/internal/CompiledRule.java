package io.arbiter.engine.internal;

import com.codahale.metrics.Counter;
import io.arbiter.engine.spi.CheckHandler;
import io.arbiter.engine.spi.CheckResult;
import java.util.List;
import java.util.Map;

/**
 * A rule ready to evaluate: its match, the actions it dispatches, the header and query directives
 * it adds on allow, and its own allow/deny condition.
 *
 * @param allow when set, the call is denied with {@code denial} unless it evaluates to true
 * @param deny when set, the call is denied with {@code denial} if it evaluates to true
 * @param matches counts the calls this rule matched
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
    Counter matches) {

  /** One handler and the instances it receives. */
  public record Action(String handlerName, CheckHandler handler, List<CompiledInstance> instances) {}

  /** A header whose value is an expression. */
  public record HeaderDirective(String name, Expression value, boolean append) {}

  /** True if this rule adds directives of its own beside its actions. */
  public boolean hasDirectives() {
    return !requestHeadersToAdd.isEmpty()
        || !requestHeadersToRemove.isEmpty()
        || !responseHeadersToAdd.isEmpty()
        || !queryParametersToSet.isEmpty()
        || !queryParametersToRemove.isEmpty();
  }
}
