package io.arbiter.engine.internal;

import com.codahale.metrics.Counter;
import io.arbiter.engine.AttributeBag;
import io.arbiter.engine.PolicyEngine;
import io.arbiter.engine.QuotaCall;
import io.arbiter.engine.QuotaDecision;
import io.arbiter.engine.config.ConfigSnapshot;
import io.arbiter.engine.metrics.Metrics;
import io.arbiter.engine.spi.Instance;
import io.arbiter.engine.spi.LogLimiter;
import io.arbiter.engine.spi.QuotaHandler;
import io.arbiter.engine.spi.QuotaRequest;
import io.arbiter.engine.spi.QuotaResult;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Decides quota calls: evaluates the quota rules and allocates from every quota instance of every
 * matching rule. A batch of calls (the descriptors of one rate-limit request) is decided together:
 * each call is matched and its instances built on its own, then every allocation of the batch that
 * goes to one handler is handed to that handler in one {@link QuotaHandler#allocateAll} (in call
 * order, then rule order), so a handler backed by a remote store answers the whole request in one
 * round trip. Each call still gets its own decision, errors and counts.
 *
 * <p>A failing expression or handler (or one past the handler timeout) resolves by the failure
 * policy: fail-open skips the allocation, fail-closed reports it over the limit. A handler whose
 * {@code allocateAll} throws, or returns the wrong number of stages, fails every allocation of its
 * batch. Thread-safe.
 */
public final class QuotaDispatcher {
  private static final System.Logger LOG = System.getLogger("arbiter.engine.quota");
  /** What a fail-closed allocation looks like: nothing granted, nothing left. */
  private static final QuotaResult CLOSED = new QuotaResult(0, 0, 0, Duration.ZERO, Duration.ZERO);

  private final Clock clock;
  private final ScheduledExecutorService deadlines;
  private final Counter withinLimit;
  private final Counter overLimit;
  private final Counter errors;
  private final LogLimiter log = new LogLimiter(5);

  /**
   * @param deadlines where a batch's deadline is timed; the server's times it on the event loop
   *     that armed it (no other thread woken to arm or disarm it)
   */
  public QuotaDispatcher(Metrics metrics, Clock clock, ScheduledExecutorService deadlines) {
    this.clock = clock;
    this.deadlines = deadlines;
    String calls = "arbiter_quota_calls_total";
    String help = "Quota calls (rate-limit descriptors) decided, by result.";
    withinLimit = metrics.counter(calls, help, "result", "ok");
    overLimit = metrics.counter(calls, help, "result", "over_limit");
    errors = metrics.counter("arbiter_quota_errors_total",
        "Quota allocations that failed (expression, handler or timeout) and were resolved by the failure policy.");
  }

  /** One call of the batch while it is decided. */
  private static final class Call {
    final String id;
    final List<Slot> slots = new ArrayList<>(2);
    final List<String> matched = new ArrayList<>(2);
    /**
     * What failed, in order; null until something does (most calls), so a call that succeeds
     * allocates no list for it. Guarded by this: handler stages may fail on other threads.
     */
    private List<String> failures;

    Call(String id) {
      this.id = id;
    }

    synchronized void failed(String message) {
      if (failures == null) {
        failures = new ArrayList<>(1);
      }
      failures.add(message);
    }

    synchronized List<String> failures() {
      return failures == null ? List.of() : List.copyOf(failures);
    }
  }

  /** One allocation of a call; {@code result} null means fail-open skipped it. */
  private static final class Slot {
    final Call call;
    final CompiledRule rule;
    final String handler;
    final String instance;
    CompletableFuture<QuotaResult> result;

    Slot(Call call, CompiledRule rule, String handler, String instance,
        CompletableFuture<QuotaResult> result) {
      this.call = call;
      this.rule = rule;
      this.handler = handler;
      this.instance = instance;
      this.result = result;
    }
  }

  /** The allocations of the batch that go to one handler. */
  private static final class Group {
    final QuotaHandler handler;
    final List<Slot> slots = new ArrayList<>(2);
    final List<QuotaHandler.Allocation> allocations = new ArrayList<>(2);

    Group(QuotaHandler handler) {
      this.handler = handler;
    }
  }

  /** Decides one call. Never completes exceptionally. */
  public CompletionStage<QuotaDecision> dispatch(
      ConfigSnapshot snap, String id, AttributeBag bag, QuotaRequest request) {
    return dispatch(snap, List.of(id), List.of(new QuotaCall(bag, request)))
        .thenApply(decisions -> decisions.get(0));
  }

  /**
   * Decides {@code calls} together, the decision of {@code calls.get(i)} under {@code ids.get(i)};
   * one decision per call, in order. Never completes exceptionally.
   */
  public CompletionStage<List<QuotaDecision>> dispatch(
      ConfigSnapshot snap, List<String> ids, List<QuotaCall> calls) {
    if (ids.size() != calls.size()) {
      throw new IllegalArgumentException(ids.size() + " ids for " + calls.size() + " calls");
    }
    boolean failOpen = snap.settings().failOpen();
    List<Call> state = new ArrayList<>(calls.size());
    List<Group> groups = new ArrayList<>(2);
    for (int i = 0; i < calls.size(); i++) {
      Call call = new Call(ids.get(i));
      state.add(call);
      AttributeBag bag = calls.get(i).attributes();
      QuotaRequest request = calls.get(i).request();
      snap.quotas().forCandidates(bag, rule -> {
        try {
          if (!rule.match().evalBool(bag)) {
            return;
          }
        } catch (EvaluationException e) {
          fail(call, "rule '" + rule.name() + "': match: " + e.getMessage());
          if (!failOpen) {
            call.slots.add(new Slot(call, rule, "", "", CompletableFuture.completedFuture(CLOSED)));
          }
          return;
        }
        rule.matches().inc();
        call.matched.add(rule.name());
        for (CompiledRule.Action action : rule.actions()) {
          for (CompiledInstance.Quota quota : action.quotas()) {
            Instance.Quota instance;
            try {
              instance = quota.build(bag);
            } catch (EvaluationException e) {
              fail(call, "rule '" + rule.name() + "': handler '" + action.handlerName()
                  + "': instance '" + quota.name() + "': " + e.getMessage());
              call.slots.add(new Slot(call, rule, action.handlerName(), quota.name(),
                  CompletableFuture.completedFuture(failOpen ? null : CLOSED)));
              continue;
            }
            Slot slot = new Slot(call, rule, action.handlerName(), quota.name(), null);
            call.slots.add(slot);
            Group group = group(groups, action.quotaHandler());
            group.slots.add(slot);
            group.allocations.add(new QuotaHandler.Allocation(instance, request));
          }
        }
      });
    }
    for (int g = 0; g < groups.size(); g++) {
      allocate(snap, groups.get(g), failOpen);
    }
    if (allDone(state)) {
      return CompletableFuture.completedFuture(decideAll(snap, state));
    }
    List<CompletableFuture<QuotaResult>> all = new ArrayList<>();
    for (Call call : state) {
      for (Slot s : call.slots) {
        all.add(s.result);
      }
    }
    return CompletableFuture.allOf(all.toArray(CompletableFuture[]::new))
        .thenApply(v -> decideAll(snap, state));
  }

  /**
   * True when every allocation of the batch has its result already, as with in-memory handlers:
   * the batch is then decided on the spot, without a stage waiting for all of them.
   */
  private static boolean allDone(List<Call> state) {
    for (int i = 0; i < state.size(); i++) {
      List<Slot> slots = state.get(i).slots;
      for (int j = 0; j < slots.size(); j++) {
        if (!slots.get(j).result.isDone()) {
          return false;
        }
      }
    }
    return true;
  }

  private List<QuotaDecision> decideAll(ConfigSnapshot snap, List<Call> state) {
    List<QuotaDecision> out = new ArrayList<>(state.size());
    for (int i = 0; i < state.size(); i++) {
      out.add(decide(snap, state.get(i)));
    }
    return out;
  }

  private static Group group(List<Group> groups, QuotaHandler handler) {
    for (Group g : groups) {
      if (g.handler == handler) {
        return g;
      }
    }
    Group g = new Group(handler);
    groups.add(g);
    return g;
  }

  /** One {@code allocateAll} for the group; every slot gets its result or its failure outcome. */
  private void allocate(ConfigSnapshot snap, Group group, boolean failOpen) {
    int n = group.slots.size();
    List<? extends CompletionStage<QuotaResult>> results;
    RuntimeException batchFailure = null;
    try {
      results = group.handler.allocateAll(Collections.unmodifiableList(group.allocations));
      if (results == null || results.size() != n) {
        batchFailure = new IllegalStateException("allocateAll answered "
            + (results == null ? "null" : results.size() + " results") + " for " + n + " allocations");
      }
    } catch (RuntimeException e) {
      results = null;
      batchFailure = e;
    }
    List<CompletableFuture<QuotaResult>> raw = new ArrayList<>(n);
    int pending = 0;
    for (int j = 0; j < n; j++) {
      CompletableFuture<QuotaResult> r;
      if (batchFailure != null) {
        r = CompletableFuture.failedFuture(batchFailure);
      } else {
        CompletionStage<QuotaResult> stage = results.get(j);
        r = stage == null
            ? CompletableFuture.failedFuture(new IllegalStateException("allocateAll answered a null stage"))
            : stage.toCompletableFuture();
      }
      raw.add(r);
      if (!r.isDone()) {
        pending++;
      }
    }
    // One deadline for the whole batch (not a timer per allocation): a stage still open when it
    // fires resolves as a timeout; it is cancelled when the last one completes.
    CompletableFuture<Void> deadline = null;
    AtomicInteger open = null;
    if (pending > 0) {
      deadline = deadline(snap.settings().handlerTimeout().toNanos());
      open = new AtomicInteger(pending);
    }
    for (int j = 0; j < n; j++) {
      Slot slot = group.slots.get(j);
      CompletableFuture<QuotaResult> r = raw.get(j);
      if (answered(r)) {
        slot.result = r; // nothing to resolve: no stage for it
        continue;
      }
      if (!r.isDone()) {
        CompletableFuture<QuotaResult> bounded = new CompletableFuture<>();
        CompletableFuture<Void> d = deadline;
        AtomicInteger o = open;
        r.whenComplete((v, t) -> {
          if (t != null) {
            bounded.completeExceptionally(t);
          } else {
            bounded.complete(v);
          }
          if (o.decrementAndGet() == 0) {
            d.complete(null);
          }
        });
        d.whenComplete((v, t) -> {
          if (t != null) {
            bounded.completeExceptionally(t);
          }
        });
        r = bounded;
      }
      slot.result = r.handle((v, t) -> {
        if (t == null && v != null) {
          return v;
        }
        Throwable cause = t instanceof CompletionException && t.getCause() != null ? t.getCause() : t;
        fail(slot.call, "rule '" + slot.rule.name() + "': handler '" + slot.handler + "': "
            + (cause == null ? "completed without a result"
                : cause instanceof TimeoutException
                    ? "no answer within " + snap.settings().handlerTimeout().toMillis() + "ms"
                    : cause.toString()));
        return failOpen ? null : CLOSED;
      });
    }
  }

  /** True when {@code r} already holds a result, the usual answer of an in-memory handler. */
  private static boolean answered(CompletableFuture<QuotaResult> r) {
    return r.isDone() && !r.isCompletedExceptionally() && r.getNow(null) != null;
  }

  /**
   * A stage that fails with {@link TimeoutException} after {@code nanos} unless completed first;
   * completing it disarms the timer. Timed on {@code deadlines}, not the JDK's delayer thread (as
   * {@code orTimeout} would): on the server, that is the calling event loop itself.
   */
  private CompletableFuture<Void> deadline(long nanos) {
    CompletableFuture<Void> d = new CompletableFuture<>();
    ScheduledFuture<?> timer;
    try {
      timer = deadlines.schedule(() -> {
        d.completeExceptionally(new TimeoutException());
      }, nanos, TimeUnit.NANOSECONDS);
    } catch (RejectedExecutionException e) { // shutting down: the JDK's timer instead
      return d.orTimeout(nanos, TimeUnit.NANOSECONDS);
    }
    d.whenComplete((v, t) -> timer.cancel(false));
    return d;
  }

  private QuotaDecision decide(ConfigSnapshot snap, Call call) {
    List<QuotaDecision.Outcome> outcomes = new ArrayList<>(call.slots.size());
    for (Slot s : call.slots) {
      QuotaResult r = s.result.join();
      if (r == null) {
        continue;
      }
      outcomes.add(new QuotaDecision.Outcome(s.rule.name(), s.handler, s.instance, r, s.rule.shadow()));
      if (s.rule.shadow() && r.overLimit()) {
        s.rule.shadowDenials().inc();
      }
    }
    QuotaDecision d = new QuotaDecision(call.id, outcomes, call.matched, snap.version(), call.failures());
    (d.overLimit() ? overLimit : withinLimit).inc();
    return d;
  }

  private void fail(Call call, String message) {
    call.failed(message);
    errors.inc();
    long suppressed = log.tryAcquire(clock.millis());
    if (suppressed >= 0) {
      LOG.log(System.Logger.Level.WARNING, "quota decision {0}: {1}{2}", call.id, message,
          suppressed > 0 ? " (" + suppressed + " similar messages suppressed)" : "");
    }
  }

  /** A new decision id per call. */
  public static List<String> newIds(int n) {
    List<String> ids = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      ids.add(PolicyEngine.newDecisionId());
    }
    return ids;
  }
}
