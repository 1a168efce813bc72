package io.arbiter.extauthz;

import com.codahale.metrics.Counter;
import io.arbiter.engine.PolicyEngine;
import io.arbiter.frontend.Arrival;
import io.envoyproxy.envoy.service.auth.v3.AuthorizationGrpc;
import io.envoyproxy.envoy.service.auth.v3.CheckRequest;
import io.envoyproxy.envoy.service.auth.v3.CheckResponse;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.util.Objects;

/**
 * Envoy's {@code envoy.service.auth.v3.Authorization/Check}, served from a {@link PolicyEngine}.
 * Bind it to any gRPC server ({@code ServerBuilder.addService(new AuthorizationService(engine))}).
 *
 * <p>Every call gets a {@code CheckResponse} with gRPC status OK; the decision is in the response
 * (see {@link CheckResponseMapper}). The call never fails with a gRPC error: a request over a limit
 * is denied ({@link CheckRequestMapper}), and an unexpected exception becomes the config's failure
 * outcome (fail-open allows; fail-closed denies with UNAVAILABLE and {@code failureHttpStatus}),
 * counted and logged with its decision id.
 *
 * <p>The answer is sent from whichever thread completes the decision (the calling gRPC thread for
 * in-memory handlers), never blocking one. A call cancelled before its answer (Envoy's timeout, a
 * client gone) is not answered and is counted in {@code arbiter_extauthz_cancelled_total}.
 * Thread-safe.
 */
public final class AuthorizationService extends AuthorizationGrpc.AuthorizationImplBase {
  private final CheckPipeline pipeline;
  private final Counter cancelled;

  public AuthorizationService(PolicyEngine engine) {
    Objects.requireNonNull(engine, "engine");
    this.pipeline = new CheckPipeline(engine);
    this.cancelled =
        engine.services().metrics().counter(
            "arbiter_extauthz_cancelled_total",
            "ext_authz checks whose call was cancelled before the answer was sent.");
  }

  /**
   * Runs a representative check through the pipeline, without effects, so the first real checks
   * find their classes loaded; see {@link PolicyEngine#warmUp}. Call it before serving.
   */
  public void warmUp() {
    pipeline.warmUp();
  }

  @Override
  public void check(CheckRequest request, StreamObserver<CheckResponse> responseObserver) {
    ServerCallStreamObserver<CheckResponse> call =
        responseObserver instanceof ServerCallStreamObserver<CheckResponse> s ? s : null;
    if (call != null) {
      // With a handler set, answering a cancelled call is a no-op instead of an exception.
      call.setOnCancelHandler(() -> {});
      if (call.isCancelled()) {
        cancelled.inc();
        return;
      }
    }
    pipeline
        .check(request, Arrival.queuedNanos())
        .whenComplete(
            (outcome, error) -> {
              CheckResponse response =
                  error == null ? outcome.response() : pipeline.failure(error).response();
              respond(call, responseObserver, response);
            });
  }

  private void respond(
      ServerCallStreamObserver<CheckResponse> call,
      StreamObserver<CheckResponse> observer,
      CheckResponse response) {
    if (call != null && call.isCancelled()) {
      cancelled.inc();
      return;
    }
    try {
      observer.onNext(response);
      observer.onCompleted();
    } catch (IllegalStateException | StatusRuntimeException e) {
      // The call ended (cancelled, or closed by the transport) between the check and the answer.
      cancelled.inc();
    }
  }
}
