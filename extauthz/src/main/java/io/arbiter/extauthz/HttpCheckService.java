package io.arbiter.extauthz;

import com.codahale.metrics.Counter;
import io.arbiter.engine.CheckDecision;
import io.arbiter.engine.PolicyEngine;
import io.arbiter.engine.spi.CheckResult;
import io.arbiter.engine.spi.LogLimiter;
import io.arbiter.extauthz.CheckResponses.Outcome;
import io.envoyproxy.envoy.service.auth.v3.CheckRequest;
import java.time.Clock;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Envoy's HTTP-mode ext_authz contract ({@code http_service}), which nginx's {@code auth_request}
 * also speaks, without any HTTP server: the server module feeds it what its listener received and
 * writes back what it answers.
 *
 * <p>A check is mapped to the {@code CheckRequest} Envoy's gRPC mode would send for the same
 * original request ({@link HttpCheckRequestMapper}), then decided exactly as {@link
 * AuthorizationService} decides: the same attributes, limits and rejections (counted in {@code
 * arbiter_check_rejected_total}), failure policy and decision ids. The decision becomes a status,
 * headers and body ({@link HttpCheckResponseMapper}): 200 allows, anything else denies.
 *
 * <p>What the HTTP contract cannot carry: query parameter directives ({@code queryParametersToSet},
 * {@code queryParametersToRemove}) of an allowed check are not applied by the proxy; each allowed
 * check that had some is counted in {@code arbiter_http_check_unapplied_total{directive}} and logged
 * (throttled) with its decision id. Use gRPC mode for them. Per-header {@code append} is not sent
 * either: the proxy's config decides (Envoy's {@code allowed_upstream_headers} replaces, {@code
 * allowed_upstream_headers_to_append} appends).
 *
 * <p>The returned stage never completes exceptionally: a response that cannot be written (a header
 * value with a line break, say) or any unexpected exception becomes the config's failure outcome,
 * counted in {@code arbiter_extauthz_internal_errors_total} and logged. It completes on whichever
 * thread completes the decision; the caller should write the answer on a thread of its own.
 * Thread-safe.
 */
public final class HttpCheckService {
  private static final System.Logger LOG = System.getLogger("arbiter.extauthz");

  private final CheckPipeline pipeline;
  private final Clock clock;
  private final Counter unappliedSet;
  private final Counter unappliedRemove;
  private final LogLimiter logLimiter = new LogLimiter(1);

  public HttpCheckService(PolicyEngine engine) {
    Objects.requireNonNull(engine, "engine");
    this.pipeline = new CheckPipeline(engine);
    this.clock = engine.services().clock();
    String name = "arbiter_http_check_unapplied_total";
    String help =
        "Allowed HTTP-mode checks whose directives the HTTP contract cannot carry, by directive.";
    this.unappliedSet =
        engine.services().metrics().counter(name, help, "directive", "queryParametersToSet");
    this.unappliedRemove =
        engine.services().metrics().counter(name, help, "directive", "queryParametersToRemove");
  }

  /** Decides {@code request}; see the class comment. */
  public CompletionStage<HttpCheckResponse> check(HttpCheckRequest request) {
    return check(request, 0);
  }

  /**
   * Decides one check that waited {@code queuedNanos} for a thread; past {@code
   * settings.overload.maxQueueTime} it is shed (answered by the failure policy).
   */
  public CompletionStage<HttpCheckResponse> check(HttpCheckRequest request, long queuedNanos) {
    Objects.requireNonNull(request, "request");
    CheckRequest mapped;
    try {
      mapped = HttpCheckRequestMapper.toCheckRequest(request, clock.instant());
    } catch (RuntimeException e) {
      return CompletableFuture.completedFuture(answer(pipeline.failure(e)));
    }
    return pipeline.check(mapped, queuedNanos).thenApply(this::answer);
  }

  private HttpCheckResponse answer(Outcome outcome) {
    CheckDecision decision = outcome.decision();
    try {
      HttpCheckResponse response = HttpCheckResponseMapper.toResponse(decision);
      if (response.allowed()) {
        countUnapplied(decision);
      }
      return response;
    } catch (RuntimeException e) {
      return HttpCheckResponseMapper.toResponse(pipeline.failure(e).decision());
    }
  }

  private void countUnapplied(CheckDecision decision) {
    CheckResult result = decision.result();
    boolean set = !result.queryParametersToSet().isEmpty();
    boolean remove = !result.queryParametersToRemove().isEmpty();
    if (!set && !remove) {
      return;
    }
    if (set) {
      unappliedSet.inc();
    }
    if (remove) {
      unappliedRemove.inc();
    }
    long suppressed = logLimiter.tryAcquire(System.currentTimeMillis());
    if (suppressed >= 0) {
      LOG.log(
          System.Logger.Level.WARNING,
          () ->
              "decision " + decision.id() + ": rules " + decision.matchedRules()
                  + " set or remove query parameters, which an HTTP-mode check cannot carry;"
                  + " allowed without them"
                  + (suppressed > 0 ? " (" + suppressed + " similar messages suppressed)" : ""));
    }
  }
}
