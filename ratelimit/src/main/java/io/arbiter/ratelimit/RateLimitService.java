package io.arbiter.ratelimit;

import com.codahale.metrics.Counter;
import io.arbiter.engine.PolicyEngine;
import io.envoyproxy.envoy.service.ratelimit.v3.RateLimitRequest;
import io.envoyproxy.envoy.service.ratelimit.v3.RateLimitResponse;
import io.envoyproxy.envoy.service.ratelimit.v3.RateLimitServiceGrpc;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.util.Objects;

/**
 * Envoy's {@code envoy.service.ratelimit.v3.RateLimitService/ShouldRateLimit}, served from a {@link
 * PolicyEngine}: the service Envoy's HTTP ({@code envoy.filters.http.ratelimit}) and network
 * rate-limit filters call. Bind it to any gRPC server ({@code ServerBuilder.addService(new
 * RateLimitService(engine))}).
 *
 * <p>Each descriptor of a request is mapped to attributes ({@link RateLimitRequestMapper}) and
 * decided on its own, all of a request's descriptors in one {@link PolicyEngine#quota(java.util.List)}
 * batch (one handler call, so one Redis round trip, per handler); the decisions become one {@code
 * RateLimitResponse} ({@link RateLimitResponseMapper}). A request with no descriptors is answered
 * OK with no statuses.
 *
 * <p>Every call gets a response with gRPC status OK: Envoy treats any gRPC error as a failure of
 * the service ({@code failure_mode_deny} and {@code status_on_error}, 500 by default), which would
 * hide Arbiter's own failure policy. A request over the limits and an unexpected exception are
 * answered by the config's failure policy instead (fail-open OK, fail-closed OVER_LIMIT), counted
 * and logged with a decision id.
 *
 * <p>The answer is sent from whichever thread completes the last decision (the calling gRPC thread
 * for in-memory handlers), never blocking one. A call cancelled before its answer (Envoy's {@code
 * timeout}, a client gone) is not answered and is counted in {@code
 * arbiter_ratelimit_cancelled_total}; a call already cancelled when it arrives is not decided, so
 * it consumes no quota. Thread-safe.
 */
public final class RateLimitService extends RateLimitServiceGrpc.RateLimitServiceImplBase {
  private final RateLimitPipeline pipeline;
  private final Counter cancelled;

  public RateLimitService(PolicyEngine engine) {
    Objects.requireNonNull(engine, "engine");
    this.pipeline = new RateLimitPipeline(engine);
    this.cancelled =
        engine.services().metrics().counter(
            "arbiter_ratelimit_cancelled_total",
            "Rate-limit calls cancelled before the answer was sent.");
  }

  @Override
  public void shouldRateLimit(
      RateLimitRequest request, StreamObserver<RateLimitResponse> responseObserver) {
    ServerCallStreamObserver<RateLimitResponse> call =
        responseObserver instanceof ServerCallStreamObserver<RateLimitResponse> s ? s : null;
    if (call != null) {
      // With a handler set, answering a cancelled call is a no-op instead of an exception.
      call.setOnCancelHandler(() -> {});
      if (call.isCancelled()) {
        cancelled.inc();
        return;
      }
    }
    pipeline
        .decide(request)
        .whenComplete(
            (response, error) ->
                respond(call, responseObserver,
                    error == null ? response : pipeline.failure(request, error)));
  }

  private void respond(
      ServerCallStreamObserver<RateLimitResponse> call,
      StreamObserver<RateLimitResponse> observer,
      RateLimitResponse response) {
    if (call != null && call.isCancelled()) {
      cancelled.inc();
      return;
    }
    try {
      observer.onNext(response);
      observer.onCompleted();
    } catch (IllegalStateException | StatusRuntimeException e) {
      // The call ended (cancelled, or closed by the transport) between the decision and the answer.
      cancelled.inc();
    }
  }
}
