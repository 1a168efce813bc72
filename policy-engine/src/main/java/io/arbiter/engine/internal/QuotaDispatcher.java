package io.arbiter.engine.internal;

import com.codahale.metrics.Counter;
import io.arbiter.engine.AttributeBag;
import io.arbiter.engine.QuotaDecision;
import io.arbiter.engine.config.ConfigSnapshot;
import io.arbiter.engine.metrics.Metrics;
import io.arbiter.engine.spi.LogLimiter;
import io.arbiter.engine.spi.QuotaRequest;
import io.arbiter.engine.spi.QuotaResult;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

/**
 * Decides quota calls: evaluates the quota rules and allocates from every quota instance of every
 * matching rule. A failing expression or handler (or one past the handler timeout) resolves by the
 * failure policy: fail-open skips the allocation, fail-closed reports it over the limit. Thread-safe.
 */
public final class QuotaDispatcher {
  private static final System.Logger LOG = System.getLogger("arbiter.engine.quota");
  /** What a fail-closed allocation looks like: nothing granted, nothing left. */
  private static final QuotaResult CLOSED = new QuotaResult(0, 0, 0, Duration.ZERO, Duration.ZERO);

  private final Clock clock;
  private final Counter withinLimit;
  private final Counter overLimit;
  private final Counter errors;
  private final LogLimiter log = new LogLimiter(5);

  public QuotaDispatcher(Metrics metrics, Clock clock) {
    this.clock = clock;
    String calls = "arbiter_quota_calls_total";
    String help = "Quota calls (rate-limit descriptors) decided, by result.";
    withinLimit = metrics.counter(calls, help, "result", "ok");
    overLimit = metrics.counter(calls, help, "result", "over_limit");
    errors = metrics.counter("arbiter_quota_errors_total",
        "Quota allocations that failed (expression, handler or timeout) and were resolved by the failure policy.");
  }

  private record Pending(CompiledRule rule, String handler, String instance, CompletableFuture<QuotaResult> result) {}

  public CompletionStage<QuotaDecision> dispatch(
      ConfigSnapshot snap, String id, AttributeBag bag, QuotaRequest request) {
    List<Pending> pending = new ArrayList<>(2);
    List<String> matched = new ArrayList<>(2);
    List<String> failures = java.util.Collections.synchronizedList(new ArrayList<>());
    boolean failOpen = snap.settings().failOpen();
    long timeoutNanos = snap.settings().handlerTimeout().toNanos();
    snap.quotas().forCandidates(bag, rule -> {
      try {
        if (!rule.match().evalBool(bag)) {
          return;
        }
      } catch (EvaluationException e) {
        fail(failures, id, "rule '" + rule.name() + "': match: " + e.getMessage());
        if (!failOpen) {
          pending.add(new Pending(rule, "", "", CompletableFuture.completedFuture(CLOSED)));
        }
        return;
      }
      rule.matches().inc();
      matched.add(rule.name());
      for (CompiledRule.Action action : rule.actions()) {
        for (CompiledInstance.Quota quota : action.quotas()) {
          String where = "rule '" + rule.name() + "': handler '" + action.handlerName() + "'";
          CompletableFuture<QuotaResult> r;
          try {
            r = action.quotaHandler().allocate(quota.build(bag), request).toCompletableFuture();
          } catch (EvaluationException e) {
            fail(failures, id, where + ": instance '" + quota.name() + "': " + e.getMessage());
            r = CompletableFuture.completedFuture(failOpen ? null : CLOSED);
            pending.add(new Pending(rule, action.handlerName(), quota.name(), r));
            continue;
          } catch (RuntimeException e) {
            r = CompletableFuture.failedFuture(e);
          }
          if (!r.isDone()) {
            r = r.copy().orTimeout(timeoutNanos, TimeUnit.NANOSECONDS);
          }
          pending.add(new Pending(rule, action.handlerName(), quota.name(), r.handle((v, t) -> {
            if (t == null && v != null) {
              return v;
            }
            Throwable cause = t instanceof java.util.concurrent.CompletionException && t.getCause() != null ? t.getCause() : t;
            fail(failures, id, where + ": " + (cause == null ? "completed without a result"
                : cause instanceof java.util.concurrent.TimeoutException
                    ? "no answer within " + snap.settings().handlerTimeout().toMillis() + "ms" : cause.toString()));
            return failOpen ? null : CLOSED;
          })));
        }
      }
    });
    CompletableFuture<?>[] all = pending.stream().map(Pending::result).toArray(CompletableFuture[]::new);
    return CompletableFuture.allOf(all).thenApply(v -> {
      List<QuotaDecision.Outcome> outcomes = new ArrayList<>(pending.size());
      for (Pending p : pending) {
        QuotaResult r = p.result.join();
        if (r == null) {
          continue;
        }
        outcomes.add(new QuotaDecision.Outcome(p.rule.name(), p.handler, p.instance, r, p.rule.shadow()));
        if (p.rule.shadow() && r.overLimit()) {
          p.rule.shadowDenials().inc();
        }
      }
      QuotaDecision d = new QuotaDecision(id, outcomes, matched, snap.version(), failures);
      (d.overLimit() ? overLimit : withinLimit).inc();
      return d;
    });
  }

  private void fail(List<String> failures, String id, String message) {
    failures.add(message);
    errors.inc();
    long suppressed = log.tryAcquire(clock.millis());
    if (suppressed >= 0) {
      LOG.log(System.Logger.Level.WARNING, "quota decision {0}: {1}{2}", id, message,
          suppressed > 0 ? " (" + suppressed + " similar messages suppressed)" : "");
    }
  }
}
