package io.arbiter.ratelimit;

import com.codahale.metrics.Counter;
import io.arbiter.engine.PolicyEngine;
import io.arbiter.engine.QuotaCall;
import io.arbiter.engine.QuotaDecision;
import io.arbiter.engine.config.ConfigSnapshot;
import io.arbiter.engine.config.Settings;
import io.arbiter.engine.metrics.Metrics;
import io.arbiter.engine.spi.LogLimiter;
import io.arbiter.ratelimit.RateLimitRequestMapper.DescriptorCall;
import io.arbiter.ratelimit.RateLimitRequestMapper.Rejection;
import io.arbiter.ratelimit.RateLimitResponseMapper.DescriptorDecision;
import io.envoyproxy.envoy.service.ratelimit.v3.RateLimitRequest;
import io.envoyproxy.envoy.service.ratelimit.v3.RateLimitResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;

/**
 * One {@code ShouldRateLimit} call from request to response: check the limits, map each
 * descriptor, let the engine decide them in one batch ({@link PolicyEngine#quota(List)}: each
 * descriptor its own decision, each handler one call for all of them, so redisquota makes one
 * round trip per request; in-memory handlers answer on the calling thread), answer. Its stage never
 * completes exceptionally.
 *
 * <p>Answers given without the engine resolve by the serving config's failure policy ({@code
 * settings.failurePolicy}; the default settings without a config): fail-open answers OK,
 * fail-closed OVER_LIMIT, for every descriptor. That is the answer to a request over the limits
 * ({@link RateLimitRequestMapper#check}; counted in {@code
 * arbiter_ratelimit_rejected_total{reason}}) and to an unexpected exception of this front end
 * (counted in {@code arbiter_ratelimit_internal_errors_total}); both are logged, at most one
 * message a second each, with the decision id they answered with. Failures inside the engine (an
 * expression, a handler, a deadline) are the engine's: they come back as decisions, fail-closed
 * ones as over the limit.
 *
 * <p>Every decided descriptor is counted in {@code arbiter_ratelimit_descriptors_total{result}}:
 * {@code over_limit}, {@code unmatched} (no rule matched it, an unknown domain included: OK) or
 * {@code ok}. Thread-safe.
 */
final class RateLimitPipeline {
  private static final System.Logger LOG = System.getLogger("arbiter.ratelimit");

  private final PolicyEngine engine;
  private final Counter ok;
  private final Counter overLimit;
  private final Counter unmatched;
  private final Counter tooManyDescriptors;
  private final Counter tooManyEntries;
  private final Counter internalErrors;
  private final LogLimiter errorLog = new LogLimiter(1);
  private final LogLimiter rejectionLog = new LogLimiter(1);

  RateLimitPipeline(PolicyEngine engine) {
    this.engine = engine;
    Metrics m = engine.services().metrics();
    String descriptors = "arbiter_ratelimit_descriptors_total";
    String descriptorsHelp =
        "Rate-limit descriptors decided, by result: ok, over_limit, or unmatched (no rule matched;"
            + " answered OK).";
    ok = m.counter(descriptors, descriptorsHelp, "result", "ok");
    overLimit = m.counter(descriptors, descriptorsHelp, "result", "over_limit");
    unmatched = m.counter(descriptors, descriptorsHelp, "result", "unmatched");
    String rejected = "arbiter_ratelimit_rejected_total";
    String rejectedHelp =
        "Rate-limit requests not evaluated for exceeding a limit, answered by the failure policy,"
            + " by reason.";
    tooManyDescriptors =
        m.counter(rejected, rejectedHelp, "reason", RateLimitRequestMapper.TOO_MANY_DESCRIPTORS);
    tooManyEntries =
        m.counter(rejected, rejectedHelp, "reason", RateLimitRequestMapper.TOO_MANY_ENTRIES);
    internalErrors =
        m.counter(
            "arbiter_ratelimit_internal_errors_total",
            "Rate-limit requests the front end answered by the failure policy after an unexpected"
                + " error of its own.");
  }

  CompletionStage<RateLimitResponse> decide(RateLimitRequest request) {
    try {
      Rejection rejection = RateLimitRequestMapper.check(request);
      if (rejection != null) {
        return CompletableFuture.completedFuture(reject(request, rejection));
      }
      int n = request.getDescriptorsCount();
      List<QuotaCall> calls = new ArrayList<>(n);
      String[] notes = new String[n];
      for (int i = 0; i < n; i++) {
        DescriptorCall call = RateLimitRequestMapper.map(request, i);
        calls.add(new QuotaCall(call.attributes(), call.request()));
        notes[i] = call.note();
      }
      CompletableFuture<List<QuotaDecision>> decided = engine.quota(calls).toCompletableFuture();
      if (decided.isDone() && !decided.isCompletedExceptionally()) {
        return CompletableFuture.completedFuture(answer(request, decided.join(), notes));
      }
      return decided.handle((d, t) -> t != null ? failure(request, t) : answer(request, d, notes));
    } catch (RuntimeException e) {
      return CompletableFuture.completedFuture(failure(request, e));
    }
  }

  private RateLimitResponse answer(
      RateLimitRequest request, List<QuotaDecision> decided, String[] notes) {
    try {
      if (decided.size() != notes.length) {
        throw new IllegalStateException(
            decided.size() + " decisions for " + notes.length + " descriptors");
      }
      List<DescriptorDecision> decisions = new ArrayList<>(notes.length);
      for (int i = 0; i < notes.length; i++) {
        decisions.add(new DescriptorDecision(decided.get(i), notes[i]));
      }
      RateLimitResponse response = RateLimitResponseMapper.toResponse(decisions);
      for (DescriptorDecision d : decisions) {
        (d.decision().overLimit() ? overLimit : d.unmatched() ? unmatched : ok).inc();
      }
      return response;
    } catch (RuntimeException e) {
      return failure(request, e);
    }
  }

  private Settings settings() {
    return engine.current().map(ConfigSnapshot::settings).orElse(Settings.DEFAULT);
  }

  private String configVersion() {
    Optional<ConfigSnapshot> s = engine.current();
    return s.map(ConfigSnapshot::version).orElse("");
  }

  private RateLimitResponse reject(RateLimitRequest request, Rejection rejection) {
    (rejection.reason().equals(RateLimitRequestMapper.TOO_MANY_DESCRIPTORS)
            ? tooManyDescriptors : tooManyEntries).inc();
    boolean open = settings().failOpen();
    String id = PolicyEngine.newDecisionId();
    long suppressed = rejectionLog.tryAcquire(System.currentTimeMillis());
    if (suppressed >= 0) {
      LOG.log(System.Logger.Level.WARNING,
          "decision {0}: rate-limit request for domain ''{1}'' not evaluated: {2}; answered {3} by"
              + " fail-{4}{5}",
          id, request.getDomain(), rejection.message(), open ? "OK" : "OVER_LIMIT",
          open ? "open" : "closed",
          suppressed > 0 ? " (" + suppressed + " similar messages suppressed)" : "");
    }
    return RateLimitResponseMapper.failure(request.getDescriptorsCount(), open, id,
        configVersion(), "request not evaluated: " + rejection.message(), rejection.reason());
  }

  /** The failure-policy answer for {@code error}, counted and logged. Never throws. */
  RateLimitResponse failure(RateLimitRequest request, Throwable error) {
    Throwable cause =
        error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
    internalErrors.inc();
    boolean open;
    String version;
    try {
      open = settings().failOpen();
      version = configVersion();
    } catch (RuntimeException e) {
      open = Settings.DEFAULT.failOpen();
      version = "";
    }
    String id = PolicyEngine.newDecisionId();
    long suppressed = errorLog.tryAcquire(System.currentTimeMillis());
    if (suppressed >= 0) {
      boolean o = open;
      LOG.log(System.Logger.Level.ERROR,
          () -> "decision " + id + ": rate-limit request failed, answered "
              + (o ? "OK by fail-open" : "OVER_LIMIT by fail-closed")
              + (suppressed > 0 ? " (" + suppressed + " similar messages suppressed)" : ""),
          cause);
    }
    return RateLimitResponseMapper.failure(request.getDescriptorsCount(), open, id, version,
        "ratelimit internal error: " + cause, null);
  }
}
