package io.arbiter.engine;

import com.codahale.metrics.Counter;
import io.arbiter.engine.config.ConfigCompiler;
import io.arbiter.engine.config.ConfigDocument;
import io.arbiter.engine.config.ConfigException;
import io.arbiter.engine.config.ConfigSnapshot;
import io.arbiter.engine.config.OverloadSettings;
import io.arbiter.engine.config.Settings;
import io.arbiter.engine.internal.CompiledInstance;
import io.arbiter.engine.internal.CompiledRule;
import io.arbiter.engine.internal.DecisionCache;
import io.arbiter.engine.internal.EvaluationException;
import io.arbiter.engine.internal.HandlerGuard;
import io.arbiter.engine.internal.Expression;
import io.arbiter.engine.internal.RuleIndex;
import io.arbiter.engine.internal.QuotaDispatcher;
import io.arbiter.engine.internal.ReportDispatcher;
import io.arbiter.engine.internal.RuleReferences;
import io.arbiter.engine.internal.RuleSet;
import io.arbiter.engine.metrics.BucketHistogram;
import io.arbiter.engine.spi.CheckResult;
import io.arbiter.engine.spi.Code;
import io.arbiter.engine.spi.HeaderValue;
import io.arbiter.engine.spi.Instance;
import io.arbiter.engine.spi.LogLimiter;
import io.arbiter.engine.spi.QuotaRequest;
import io.arbiter.engine.spi.QuotaResult;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The policy engine: holds the serving {@link ConfigSnapshot} and decides checks against it.
 *
 * <p>A check evaluates the match of every rule that can match (a {@link RuleIndex} skips rules
 * whose match an attribute's value already rules out); each matching rule contributes its own allow/deny
 * condition, its header directives and its actions' handler results, which combine into the most
 * restrictive result ({@link CheckResult#combine}). An expression that fails at run time, a handler
 * that fails, and a handler that misses {@code settings.handlerTimeout} each contribute the
 * configured failure outcome instead (fail-closed denies with UNAVAILABLE), and are counted, logged
 * with the decision id, and listed in the decision.
 *
 * <p>Thread-safe. Checks never block: in-memory handlers complete synchronously and the decision
 * comes back already complete; slow handlers complete it later.
 */
public final class PolicyEngine {
  private static final System.Logger LOG = System.getLogger("arbiter.engine");
  private static final double[] LATENCY_BUCKETS = {
    0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
    0.1, 0.25, 0.5, 1
  };

  private final EngineServices services;
  private final ConfigCompiler compiler;
  private final AtomicReference<ConfigSnapshot> snapshot = new AtomicReference<>();
  private final LogLimiter errorLog = new LogLimiter(10);
  private final LogLimiter staleLog = new LogLimiter(1);
  private final Counter allowed;
  private final Counter denied;
  private final Counter failedOpen;
  private final Counter failedClosed;
  private final Counter ruleErrors;
  private final Counter handlerErrors;
  private final Counter handlerTimeouts;
  private final Counter circuitOpen;
  private final BucketHistogram latency;
  private final ReportDispatcher reports;
  private final QuotaDispatcher quotas;
  private final DecisionCache.Counters cacheCounters;
  private final Counter shedQueue;
  private final Counter shedConcurrency;
  /** Checks being decided now (cache hits aside). */
  private final java.util.concurrent.atomic.AtomicInteger inflight = new java.util.concurrent.atomic.AtomicInteger();
  /** The serving snapshot's decision cache; null when it has the cache off. */
  private volatile DecisionCache cache;

  public PolicyEngine(EngineServices services) {
    this.services = services;
    this.compiler = new ConfigCompiler(services);
    var m = services.metrics();
    String checks = "arbiter_checks_total";
    String checksHelp = "Check decisions by result.";
    allowed = m.counter(checks, checksHelp, "result", "allow");
    denied = m.counter(checks, checksHelp, "result", "deny");
    String failures = "arbiter_check_failures_total";
    String failuresHelp =
        "Checks resolved by the failure policy (an expression or handler failed), by outcome.";
    failedOpen = m.counter(failures, failuresHelp, "outcome", "open");
    failedClosed = m.counter(failures, failuresHelp, "outcome", "closed");
    String errors = "arbiter_check_errors_total";
    String errorsHelp = "Errors met while deciding checks, by kind.";
    ruleErrors = m.counter(errors, errorsHelp, "kind", "expression");
    handlerErrors = m.counter(errors, errorsHelp, "kind", "handler");
    handlerTimeouts = m.counter(errors, errorsHelp, "kind", "timeout");
    circuitOpen = m.counter(errors, errorsHelp, "kind", "circuit_open");
    latency =
        m.histogram(
            "arbiter_check_duration_seconds",
            "Time the engine took to decide a check, including handler calls.",
            LATENCY_BUCKETS);
    reports = new ReportDispatcher(m, services.clock());
    quotas = new QuotaDispatcher(m, services.clock(), services.deadlines());
    cacheCounters = DecisionCache.Counters.register(m);
    String shedName = "arbiter_checks_shed_total";
    String shedHelp = "Checks answered by the failure policy without evaluation because Arbiter was"
        + " overloaded, by reason: queue (waited longer than settings.overload.maxQueueTime) or"
        + " concurrency (settings.overload.maxConcurrentChecks were being decided).";
    shedQueue = m.counter(shedName, shedHelp, "reason", "queue");
    shedConcurrency = m.counter(shedName, shedHelp, "reason", "concurrency");
    m.gauge("arbiter_checks_in_flight", "Checks being decided now (cache hits aside).", inflight::get);
    m.gauge("arbiter_checks_concurrency_limit",
        "The most checks decided at once before more are shed (settings.overload.maxConcurrentChecks).",
        () -> {
          ConfigSnapshot s = snapshot.get();
          return (s == null ? Settings.DEFAULT : s.settings()).overload().maxConcurrentChecks();
        });
    m.gauge("arbiter_check_cache_entries", "Decisions in the check decision cache.", () -> {
      DecisionCache c = cache;
      return c == null ? 0 : c.size();
    });
    m.gauge("arbiter_check_cache_shapes",
        "Distinct sets of read attributes the cached decisions of the serving config have.", () -> {
          DecisionCache c = cache;
          return c == null ? 0 : c.shapes();
        });
  }

  /**
   * Dispatches a batch of reports (access-log entries) to the report handlers of the rules they
   * match, one batch per handler. Never completes exceptionally; with no config, reports nothing.
   */
  public CompletionStage<ReportOutcome> report(List<AttributeBag> bags) {
    ConfigSnapshot snap = snapshot.get();
    if (snap == null) {
      return CompletableFuture.completedFuture(new ReportOutcome(bags.size(), 0, 0, 0));
    }
    return reports.dispatch(snap, bags);
  }

  /**
   * Decides one quota call (one rate-limit descriptor): allocates {@code request} from every quota
   * instance of every matching quota rule. Never completes exceptionally; with no config the
   * failure policy decides (fail-closed: over the limit).
   */
  public CompletionStage<QuotaDecision> quota(AttributeBag bag, QuotaRequest request) {
    ConfigSnapshot snap = snapshot.get();
    String id = newDecisionId();
    if (snap == null) {
      return CompletableFuture.completedFuture(new QuotaDecision(id,
          List.of(new QuotaDecision.Outcome("", "", "", new QuotaResult(0, 0, 0, Duration.ZERO, Duration.ZERO), false)),
          List.of(), "", List.of("no config loaded")));
    }
    return quotas.dispatch(snap, id, bag, request);
  }

  /**
   * Decides several quota calls together (every descriptor of one rate-limit request): one decision
   * per call, in order, each exactly what {@link #quota(AttributeBag, QuotaRequest)} would decide
   * for it alone, with its own decision id, outcomes, errors and counts; calls that allocate from
   * the same bucket take from it in list order. What differs is the dispatch: each handler gets
   * all the batch's allocations for it in one {@link io.arbiter.engine.spi.QuotaHandler#allocateAll}
   * call, so a handler backed by Redis answers the whole request in one round trip. Never
   * completes exceptionally; with no config the failure policy decides each call (fail-closed:
   * over the limit).
   */
  public CompletionStage<List<QuotaDecision>> quota(List<QuotaCall> calls) {
    ConfigSnapshot snap = snapshot.get();
    List<String> ids = QuotaDispatcher.newIds(calls.size());
    if (snap == null) {
      List<QuotaDecision> out = new ArrayList<>(calls.size());
      for (String id : ids) {
        out.add(new QuotaDecision(id,
            List.of(new QuotaDecision.Outcome("", "", "", new QuotaResult(0, 0, 0, Duration.ZERO, Duration.ZERO), false)),
            List.of(), "", List.of("no config loaded")));
      }
      return CompletableFuture.completedFuture(out);
    }
    return quotas.dispatch(snap, ids, calls);
  }

  public EngineServices services() {
    return services;
  }

  /** The snapshot serving now, if one was applied. */
  public Optional<ConfigSnapshot> current() {
    return Optional.ofNullable(snapshot.get());
  }

  /**
   * Compiles documents into a snapshot that reuses the serving snapshot's unchanged handlers. The
   * result serves nothing until {@link #apply}; discard it with {@link #discard}.
   *
   * @throws ConfigException with every error
   */
  public ConfigSnapshot compile(List<ConfigDocument> documents) throws ConfigException {
    return compiler.compile(documents, snapshot.get());
  }

  /**
   * Makes {@code next} the serving snapshot, atomically. Handlers of the previous snapshot that
   * {@code next} does not reuse are closed after a grace period for in-flight checks.
   */
  public void apply(ConfigSnapshot next) {
    DecisionCache old = cache;
    cache = next.settings().cache().enabled() ? new DecisionCache(next, cacheCounters, services.clock()) : null;
    ConfigSnapshot previous = snapshot.getAndSet(next);
    if (old != null) {
      old.clear();
    }
    if (previous != null) {
      Set<Object> keep = new HashSet<>();
      next.handlers().values().forEach(h -> {
        keep.add(h.handler());
        keep.add(h.guard());
      });
      long graceMillis = next.settings().handlerTimeout().toMillis() * 2 + 1000;
      services.scheduler().schedule(
          () -> previous.closeHandlers(Collections.unmodifiableSet(keep)),
          graceMillis, TimeUnit.MILLISECONDS);
    }
  }

  /** Closes the handlers a compiled snapshot built that the serving one does not share. */
  public void discard(ConfigSnapshot unused) {
    Set<Object> keep = new HashSet<>();
    ConfigSnapshot serving = snapshot.get();
    if (serving != null) {
      serving.handlers().values().forEach(h -> {
        keep.add(h.handler());
        keep.add(h.guard());
      });
    }
    unused.closeHandlers(keep);
  }

  @SuppressWarnings("unchecked")
  private static <T> Set<T> cast(Set<Object> s) {
    return (Set<T>) s;
  }

  /** Closes the serving snapshot's handlers. The engine serves nothing afterwards. */
  public void close() {
    cache = null;
    ConfigSnapshot s = snapshot.getAndSet(null);
    if (s != null) {
      s.closeHandlers(Set.of());
    }
  }

  /** Decides one check that did not wait; see {@link #check(AttributeBag, long)}. */
  public CompletionStage<CheckDecision> check(AttributeBag bag) {
    return check(bag, 0);
  }

  /**
   * Decides one check, from the decision cache when a reusable decision for the attributes it
   * depends on is there ({@link DecisionCache}); otherwise sheds it by {@code settings.overload}
   * (answered by the failure policy, counted) or evaluates it. The stage never completes
   * exceptionally.
   *
   * @param queuedNanos how long the call waited in the front end's queue before its processing
   *     began (0 when unknown)
   */
  public CompletionStage<CheckDecision> check(AttributeBag bag, long queuedNanos) {
    long start = System.nanoTime();
    ConfigSnapshot snap = snapshot.get();
    if (snap == null) {
      Evaluation ev = new Evaluation(newDecisionId(), null, start, false);
      ev.error("no config loaded");
      ev.add(failure(ev, Settings.DEFAULT));
      return CompletableFuture.completedFuture(ev.finish());
    }
    DecisionCache c = cache;
    if (c != null && c.snapshot() != snap) {
      c = null;
    }
    if (c != null) {
      DecisionCache.Entry hit = c.lookup(bag);
      if (hit != null) {
        return CompletableFuture.completedFuture(reused(hit, start));
      }
    }
    OverloadSettings overload = snap.settings().overload();
    if (!overload.maxQueueTime().isZero() && queuedNanos > overload.maxQueueTime().toNanos()) {
      shedQueue.inc();
      return shed(snap, start, "overloaded: waited " + queuedNanos / 1_000_000 + "ms in the queue (settings.overload.maxQueueTime "
          + overload.maxQueueTime().toMillis() + "ms)");
    }
    if (inflight.incrementAndGet() > overload.maxConcurrentChecks()) {
      inflight.decrementAndGet();
      shedConcurrency.inc();
      return shed(snap, start, "overloaded: " + overload.maxConcurrentChecks()
          + " checks already being decided (settings.overload.maxConcurrentChecks)");
    }
    CompletionStage<CheckDecision> decision;
    try {
      decision = c == null ? evaluate(snap, bag, start, false).decision() : cached(c, snap, bag, start);
    } catch (RuntimeException | Error e) {
      inflight.decrementAndGet();
      throw e;
    }
    CompletableFuture<CheckDecision> f = decision.toCompletableFuture();
    if (f.isDone()) {
      inflight.decrementAndGet();
      return f;
    }
    return f.whenComplete((d, t) -> inflight.decrementAndGet());
  }

  private CompletionStage<CheckDecision> shed(ConfigSnapshot snap, long start, String why) {
    Evaluation ev = new Evaluation(newDecisionId(), snap, start, false);
    ev.error(why);
    ev.add(failure(ev, snap.settings()));
    return CompletableFuture.completedFuture(ev.finish());
  }

  /** A miss: leads the evaluation of identical checks in flight, or waits for their leader. */
  private CompletionStage<CheckDecision> cached(DecisionCache c, ConfigSnapshot snap, AttributeBag bag, long start) {
    DecisionCache.Flight flight = c.join(bag);
    if (!flight.leader()) {
      return flight.done().thenCompose(e -> {
        if (e != null && e.tryUse()) {
          c.merged();
          return CompletableFuture.completedFuture(reused(e, start));
        }
        return evaluate(snap, bag, start, false).decision();
      });
    }
    Evaluation ev;
    try {
      ev = evaluate(snap, bag, start, true);
    } catch (RuntimeException | Error e) {
      c.complete(flight, bag, null, List.of(), true, null, null);
      throw e;
    }
    return ev.decision().whenComplete((d, t) -> c.complete(flight, bag,
        d == null ? null : d.result(), d == null ? List.of() : d.matchedRules(),
        d == null || d.failed(), ev.read, ev.cap));
  }

  /**
   * Loads and runs, once, everything evaluation needs for the serving config, without effects: every
   * rule's expressions and instances are evaluated against {@code sample} and the results dropped;
   * no handler is called, nothing is counted or cached. A server calls this before it takes
   * traffic, so the first real checks do not pay for class loading (a cold JVM took most of a
   * second over its first check, past Envoy's usual timeout).
   */
  public void warmUp(AttributeBag sample) {
    ConfigSnapshot snap = snapshot.get();
    if (snap == null) {
      return;
    }
    for (CompiledRule rule : snap.rules()) {
      try {
        rule.match().evalBool(sample);
      } catch (EvaluationException | RuntimeException e) {
        // a sample is not a real call: any outcome is fine
      }
      for (Expression e : rule.ownExpressions()) {
        try {
          e.eval(sample);
        } catch (EvaluationException | RuntimeException ignored) {
          // as above
        }
      }
      for (CompiledRule.Action a : rule.actions()) {
        for (CompiledInstance i : a.checks()) {
          warmUp(i, sample);
        }
        for (CompiledInstance i : a.reports()) {
          warmUp(i, sample);
        }
        for (CompiledInstance i : a.quotas()) {
          warmUp(i, sample);
        }
      }
    }
    CheckResult.combine(List.of(CheckResult.ok(), CheckResult.ok()));
  }

  private static void warmUp(CompiledInstance instance, AttributeBag sample) {
    try {
      instance.build(sample);
    } catch (EvaluationException | RuntimeException ignored) {
      // a sample is not a real call
    }
  }

  /** A cached decision answering this call: its own id, counted like an evaluated one. */
  private CheckDecision reused(DecisionCache.Entry e, long start) {
    (e.result().allowed() ? allowed : denied).inc();
    latency.observe((System.nanoTime() - start) / 1e9);
    return new CheckDecision(newDecisionId(), e.result(), e.matchedRules(), e.configVersion(),
        List.of(), true);
  }

  /** Evaluates every candidate rule; {@code track} records what was read, for the cache. */
  private Evaluation evaluate(ConfigSnapshot snap, AttributeBag bag, long start, boolean track) {
    Evaluation ev = new Evaluation(newDecisionId(), snap, start, track);
    RuleSet checks = snap.checks();
    RuleIndex index = checks.index();
    List<CompiledRule> rules = checks.rules();
    if (index == null) {
      for (int i = 0; i < rules.size(); i++) {
        evaluate(rules.get(i), i, bag, ev);
      }
    } else {
      if (track) {
        RuleReferences.or(ev.read, checks.references().index());
      }
      long[] candidates = index.candidates(bag);
      for (int w = 0; w < candidates.length; w++) {
        long bits = candidates[w];
        while (bits != 0) {
          int position = (w << 6) + Long.numberOfTrailingZeros(bits);
          evaluate(rules.get(position), position, bag, ev);
          bits &= bits - 1;
        }
      }
    }
    return ev;
  }

  private void evaluate(CompiledRule rule, int position, AttributeBag bag, Evaluation ev) {
    RuleReferences refs = ev.read == null ? null : ev.snapshot.checks().references();
    if (refs != null) {
      RuleReferences.or(ev.read, refs.match(position));
    }
    try {
      if (!rule.match().evalBool(bag)) {
        return;
      }
    } catch (EvaluationException e) {
      expressionFailed(ev, rule, "match", e);
      return;
    }
    rule.matches().inc();
    ev.matched.add(rule.name());
    if (refs != null) {
      RuleReferences.or(ev.read, refs.body(position));
      ev.cap(rule.cacheCap());
    }
    int firstPart = ev.parts.size();
    try {
      if (rule.allow() != null && !rule.allow().evalBool(bag)) {
        ev.add(rule.denial());
      }
      if (rule.deny() != null && rule.deny().evalBool(bag)) {
        ev.add(rule.denial());
      }
      if (rule.hasDirectives()) {
        ev.add(directives(rule, bag));
      }
    } catch (EvaluationException e) {
      expressionFailed(ev, rule, "condition or directive", e);
    }
    for (CompiledRule.Action action : rule.actions()) {
      for (CompiledInstance instance : action.checks()) {
        Instance built;
        try {
          built = instance.build(bag);
        } catch (EvaluationException e) {
          expressionFailed(ev, rule, "instance '" + instance.name() + "'", e);
          continue;
        }
        HandlerGuard guard = action.guard();
        if (!guard.admit()) {
          ev.add(unanswered(ev, rule, action, built, null));
          continue;
        }
        CompletableFuture<CheckResult> part;
        try {
          part = action.checkHandler().check(built).toCompletableFuture();
        } catch (RuntimeException e) {
          part = CompletableFuture.failedFuture(e);
        }
        CheckResult now = part.isDone() && !part.isCompletedExceptionally() ? part.getNow(null) : null;
        if (now != null) {
          guard.succeeded(built, now);
          ev.add(now);
        } else {
          ev.add((part.isDone() ? part : part.copy().orTimeout(guard.timeoutNanos(), TimeUnit.NANOSECONDS))
              .handle((r, t) -> {
                if (t == null && r != null) {
                  guard.succeeded(built, r);
                  return r;
                }
                guard.failed();
                return unanswered(ev, rule, action, built,
                    t != null ? t : new IllegalStateException("the handler completed without a result"));
              }));
        }
      }
      for (CompiledInstance.Quota quota : action.quotas()) {
        CompletableFuture<QuotaResult> allocation;
        try {
          allocation = action.quotaHandler().allocate(quota.build(bag), CHECK_QUOTA).toCompletableFuture();
        } catch (EvaluationException e) {
          expressionFailed(ev, rule, "instance '" + quota.name() + "'", e);
          continue;
        } catch (RuntimeException e) {
          allocation = CompletableFuture.failedFuture(e);
        }
        ev.add(withDeadline(allocation, ev).thenApply(r -> quotaResult(quota.name(), r))
            .exceptionally(t -> handlerFailed(ev, rule, action, t)));
      }
    }
    if (rule.shadow()) {
      for (int i = firstPart; i < ev.parts.size(); i++) {
        Object part = ev.parts.get(i);
        ev.parts.set(i, part instanceof CheckResult r
            ? shadowed(rule, r)
            : ((CompletableFuture<?>) part).thenApply(r -> shadowed(rule, (CheckResult) r)));
      }
    }
  }

  private static final QuotaRequest CHECK_QUOTA = QuotaRequest.of(1);

  /** What a shadow-mode rule's result becomes: a denial is counted and turned into an allow. */
  private static CheckResult shadowed(CompiledRule rule, CheckResult r) {
    if (r.allowed()) {
      return r;
    }
    rule.shadowDenials().inc();
    return CheckResult.ok().withValidity(r.validDuration(), r.validUseCount());
  }

  private static <T> CompletableFuture<T> withDeadline(CompletableFuture<T> part, Evaluation ev) {
    if (part.isDone()) {
      return part;
    }
    return part.copy().orTimeout(ev.snapshot.settings().handlerTimeout().toNanos(), TimeUnit.NANOSECONDS);
  }

  /**
   * A check's view of a quota allocation: over the limit denies with RESOURCE_EXHAUSTED (HTTP 429)
   * and the standard RateLimit headers; either way the result is never reused.
   */
  private static CheckResult quotaResult(String quota, QuotaResult r) {
    if (r == null) {
      throw new IllegalStateException("the handler completed without a result");
    }
    if (!r.overLimit()) {
      return CheckResult.ok().withValidity(Duration.ZERO, 0);
    }
    return CheckResult.deny(Code.RESOURCE_EXHAUSTED, "quota '" + quota + "' exhausted", 429)
        .withResponseHeaders(List.of(
            new HeaderValue("ratelimit-limit", Long.toString(r.limit()), false),
            new HeaderValue("ratelimit-remaining", Long.toString(Math.max(0, r.remaining())), false),
            new HeaderValue("ratelimit-reset", Long.toString(ceilSeconds(r.resetAfter())), false)))
        .withValidity(Duration.ZERO, 0);
  }

  /** Whole seconds, rounded up, as the RateLimit-Reset header counts them. */
  public static long ceilSeconds(Duration d) {
    long s = d.getSeconds();
    return d.getNano() > 0 ? s + 1 : s;
  }

  private static CheckResult requireResult(CheckResult r) {
    if (r == null) {
      throw new IllegalStateException("the handler completed without a result");
    }
    return r;
  }

  private static CheckResult directives(CompiledRule rule, AttributeBag bag) throws EvaluationException {
    List<HeaderValue> add = headers(rule.requestHeadersToAdd(), bag);
    List<HeaderValue> responseAdd = headers(rule.responseHeadersToAdd(), bag);
    Map<String, String> query = new LinkedHashMap<>();
    for (Map.Entry<String, Expression> e : rule.queryParametersToSet().entrySet()) {
      query.put(e.getKey(), e.getValue().evalText(bag));
    }
    return new CheckResult(
        Code.OK, "", 0, add, rule.requestHeadersToRemove(), responseAdd, query,
        rule.queryParametersToRemove(), "", CheckResult.DEFAULT_VALID_DURATION,
        CheckResult.DEFAULT_VALID_USE_COUNT);
  }

  private static List<HeaderValue> headers(List<CompiledRule.HeaderDirective> directives, AttributeBag bag)
      throws EvaluationException {
    if (directives.isEmpty()) {
      return List.of();
    }
    List<HeaderValue> out = new ArrayList<>(directives.size());
    for (CompiledRule.HeaderDirective d : directives) {
      out.add(new HeaderValue(d.name(), d.value().evalText(bag), d.append()));
    }
    return out;
  }

  private void expressionFailed(Evaluation ev, CompiledRule rule, String what, EvaluationException e) {
    ruleErrors.inc();
    ev.error("rule '" + rule.name() + "': " + what + ": " + e.getMessage());
    ev.add(failure(ev, ev.snapshot.settings()));
  }

  /**
   * The stand-in for a check call that failed ({@code failure}) or was not made because the
   * handler's breaker is open (null): the handler's last good result for this instance when its
   * {@code staleFor} allows (never reused by the decision cache), else the failure policy.
   */
  private CheckResult unanswered(Evaluation ev, CompiledRule rule, CompiledRule.Action action,
      Instance instance, Throwable failure) {
    HandlerGuard.Stale stale = action.guard().stale(instance);
    if (stale != null) {
      long suppressed = staleLog.tryAcquire(System.currentTimeMillis());
      if (suppressed >= 0) {
        LOG.log(System.Logger.Level.WARNING,
            "decision {0}: rule ''{1}'': handler ''{2}'' {3}; served its last good result from {4} ms ago{5}",
            ev.id, rule.name(), action.handlerName(), failure == null ? "is short-circuited (breaker open)"
                : "failed (" + describe(failure) + ")", stale.age().toMillis(),
            suppressed > 0 ? " (" + suppressed + " similar messages suppressed)" : "");
      }
      return stale.result().withValidity(Duration.ZERO, 0);
    }
    if (failure == null) {
      circuitOpen.inc();
      ev.error("rule '" + rule.name() + "': handler '" + action.handlerName()
          + "': circuit breaker open, not called");
      return failure(ev, ev.snapshot.settings());
    }
    return handlerFailed(ev, rule, action, failure);
  }

  private static String describe(Throwable t) {
    Throwable cause = t instanceof java.util.concurrent.CompletionException && t.getCause() != null ? t.getCause() : t;
    if (cause instanceof TimeoutException) {
      return "no answer within deadline";
    }
    return cause.getMessage() == null ? cause.toString() : cause.getMessage();
  }

  /** Only on failure: the message naming rule and handler is built here, not on every check. */
  private CheckResult handlerFailed(
      Evaluation ev, CompiledRule rule, CompiledRule.Action action, Throwable t) {
    String where = "rule '" + rule.name() + "': handler '" + action.handlerName() + "'";
    Throwable cause = t instanceof java.util.concurrent.CompletionException && t.getCause() != null ? t.getCause() : t;
    if (cause instanceof TimeoutException) {
      handlerTimeouts.inc();
      ev.error(where + ": no answer within " + action.guard().timeoutNanos() / 1_000_000 + "ms");
    } else {
      handlerErrors.inc();
      ev.error(where + ": " + (cause.getMessage() == null ? cause.toString() : cause.getMessage()));
    }
    return failure(ev, ev.snapshot.settings());
  }

  private static CheckResult failure(Evaluation ev, Settings settings) {
    return failureResult(ev.id, settings);
  }

  /** The configured failure outcome: an allow, or an UNAVAILABLE denial; never reused. */
  private static CheckResult failureResult(String decisionId, Settings settings) {
    if (settings.failOpen()) {
      return CheckResult.ok().withValidity(Duration.ZERO, 0);
    }
    return CheckResult.deny(Code.UNAVAILABLE, "policy evaluation failed (decision " + decisionId + ")",
            settings.failureHttpStatus())
        .withValidity(Duration.ZERO, 0);
  }

  /**
   * The decision for a call a front end could not get decided (its own unexpected error): the
   * serving config's failure outcome under a new decision id, counted like the engine's own
   * failures. The caller logs it.
   */
  public CheckDecision failureDecision(String error) {
    ConfigSnapshot snap = snapshot.get();
    Settings settings = snap == null ? Settings.DEFAULT : snap.settings();
    String id = newDecisionId();
    (settings.failOpen() ? failedOpen : failedClosed).inc();
    CheckResult result = failureResult(id, settings);
    (result.allowed() ? allowed : denied).inc();
    return new CheckDecision(id, result, List.of(), snap == null ? "" : snap.version(), List.of(error));
  }

  /**
   * A new decision id: 16 lowercase hex digits, random. Front ends use it for answers they give
   * without the engine (a request over a limit), so every answer has one of the same form.
   */
  public static String newDecisionId() {
    long v = ThreadLocalRandom.current().nextLong();
    char[] out = new char[16];
    for (int i = 15; i >= 0; i--) {
      out[i] = Character.forDigit((int) (v & 0xf), 16);
      v >>>= 4;
    }
    return new String(out);
  }

  /** The state of one check while it is decided. */
  private final class Evaluation {
    final String id;
    final ConfigSnapshot snapshot;
    final long start;
    final List<String> matched = new ArrayList<>(4);
    /** Each a CheckResult, or a CompletableFuture of one when a handler answers later. */
    final List<Object> parts = new ArrayList<>(4);
    /** What the evaluation read, as bits over the snapshot's check references; null untracked. */
    final long[] read;
    /** The tightest cache cap of the matched rules, or null. */
    CompiledRule.CacheCap cap;
    private List<String> errors;

    Evaluation(String id, ConfigSnapshot snapshot, long start, boolean track) {
      this.id = id;
      this.snapshot = snapshot;
      this.start = start;
      this.read = track ? new long[snapshot.checks().references().words()] : null;
    }

    void cap(CompiledRule.CacheCap c) {
      if (c == null) {
        return;
      }
      cap = cap == null ? c : new CompiledRule.CacheCap(
          c.validDuration().compareTo(cap.validDuration()) < 0 ? c.validDuration() : cap.validDuration(),
          Math.min(c.validUseCount(), cap.validUseCount()));
    }

    /** The decision, now when every part is done, else when the last one is. */
    CompletionStage<CheckDecision> decision() {
      if (allDone()) {
        return CompletableFuture.completedFuture(finish());
      }
      return CompletableFuture.allOf(pendingParts()).handle((v, t) -> finish());
    }

    synchronized void error(String message) {
      if (errors == null) {
        errors = new ArrayList<>(2);
      }
      errors.add(message);
    }

    void add(CheckResult r) {
      parts.add(r);
    }

    void add(CompletableFuture<CheckResult> r) {
      parts.add(r);
    }

    boolean allDone() {
      for (Object p : parts) {
        if (p instanceof CompletableFuture<?> f && !f.isDone()) {
          return false;
        }
      }
      return true;
    }

    CompletableFuture<?>[] pendingParts() {
      return parts.stream().filter(p -> p instanceof CompletableFuture<?>).toArray(CompletableFuture[]::new);
    }

    CheckDecision finish() {
      List<CheckResult> results = new ArrayList<>(parts.size());
      for (Object p : parts) {
        results.add(p instanceof CheckResult r ? r : (CheckResult) ((CompletableFuture<?>) p).join());
      }
      CheckResult result = CheckResult.combine(results);
      List<String> errs;
      synchronized (this) {
        errs = errors == null ? List.of() : errors;
      }
      (result.allowed() ? allowed : denied).inc();
      if (!errs.isEmpty()) {
        boolean open = snapshot == null ? false : snapshot.settings().failOpen();
        (open ? failedOpen : failedClosed).inc();
        long suppressed = errorLog.tryAcquire(System.currentTimeMillis());
        if (suppressed >= 0) {
          LOG.log(System.Logger.Level.WARNING,
              "decision {0}: failed {1}, resolved by fail-{2}{3}", id, errs, open ? "open" : "closed",
              suppressed > 0 ? " (" + suppressed + " similar messages suppressed)" : "");
        }
      }
      latency.observe((System.nanoTime() - start) / 1e9);
      return new CheckDecision(id, result, matched, snapshot == null ? "" : snapshot.version(), errs);
    }
  }
}
