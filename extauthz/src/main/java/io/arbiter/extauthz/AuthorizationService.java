package io.arbiter.extauthz;

import com.codahale.metrics.Counter;
import io.arbiter.engine.PolicyEngine;
import io.arbiter.frontend.Arrival;
import io.arbiter.frontend.SerializedMessages;
import io.envoyproxy.envoy.service.auth.v3.AuthorizationGrpc;
import io.envoyproxy.envoy.service.auth.v3.CheckRequest;
import io.envoyproxy.envoy.service.auth.v3.CheckResponse;
import com.google.protobuf.InvalidProtocolBufferException;
import io.grpc.BindableService;
import io.grpc.MethodDescriptor;
import io.grpc.ServerServiceDefinition;
import io.grpc.ServiceDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.util.Objects;
import java.util.concurrent.CompletionStage;

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
public final class AuthorizationService implements AuthorizationGrpc.AsyncService, BindableService {
  private final CheckPipeline pipeline;
  private final Counter cancelled;
  private final Counter malformed;

  public AuthorizationService(PolicyEngine engine) {
    Objects.requireNonNull(engine, "engine");
    this.pipeline = new CheckPipeline(engine);
    this.cancelled =
        engine.services().metrics().counter(
            "arbiter_extauthz_cancelled_total",
            "ext_authz checks whose call was cancelled before the answer was sent.");
    this.malformed =
        engine.services().metrics().counter(
            "arbiter_extauthz_malformed_total",
            "ext_authz calls failed with INVALID_ARGUMENT: the request was not a well-formed"
                + " CheckRequest.");
  }

  /**
   * Runs a representative check through the pipeline, without effects, so the first real checks
   * find their classes loaded; see {@link PolicyEngine#warmUp}. Call it before serving.
   */
  public void warmUp() {
    pipeline.warmUp();
  }

  /**
   * This service with {@code Check} taking its request serialized ({@link #check(byte[],
   * StreamObserver)}), so the server never builds the generated {@code CheckRequest}. The service's
   * name, method and schema (for reflection) are Envoy's.
   */
  @Override
  public ServerServiceDefinition bindService() {
    ServiceDescriptor envoys = AuthorizationGrpc.getServiceDescriptor();
    MethodDescriptor<byte[], byte[]> check =
        AuthorizationGrpc.getCheckMethod()
            .toBuilder(SerializedMessages.MARSHALLER, SerializedMessages.MARSHALLER)
            .build();
    return ServerServiceDefinition.builder(
            ServiceDescriptor.newBuilder(envoys.getName())
                .setSchemaDescriptor(envoys.getSchemaDescriptor())
                .addMethod(check)
                .build())
        .addMethod(check, ServerCalls.asyncUnaryCall(this::check))
        .build();
  }

  @Override
  public void check(CheckRequest request, StreamObserver<CheckResponse> responseObserver) {
    ServerCallStreamObserver<CheckResponse> call = open(responseObserver);
    if (call != null && call.isCancelled()) {
      return;
    }
    answer(pipeline.check(request, Arrival.queuedNanos()), call, responseObserver);
  }

  /**
   * {@code Check} with the request and response serialized: the request read without building
   * the generated message, the answer written without it when it can be ({@link
   * CheckResponseBytes}); what {@link #bindService()} binds. A request that is not a well-formed
   * {@code CheckRequest} fails the call with {@code INVALID_ARGUMENT}, counted in {@code
   * arbiter_extauthz_malformed_total}; Envoy then applies its {@code failure_mode_allow}.
   */
  public void check(byte[] request, StreamObserver<byte[]> responseObserver) {
    ServerCallStreamObserver<byte[]> call = open(responseObserver);
    if (call != null && call.isCancelled()) {
      return;
    }
    CompletionStage<byte[]> answer;
    try {
      answer = pipeline.check(request, Arrival.queuedNanos());
    } catch (InvalidProtocolBufferException e) {
      malformed.inc();
      responseObserver.onError(Status.INVALID_ARGUMENT
          .withDescription("malformed CheckRequest: " + e.getMessage()).asRuntimeException());
      return;
    }
    answer.whenComplete((bytes, error) -> respond(call, responseObserver,
        error == null ? bytes : pipeline.failure(error).response().toByteArray()));
  }

  /** The call's server side, set up to be answered; counted when it is already cancelled. */
  private <T> ServerCallStreamObserver<T> open(StreamObserver<T> observer) {
    @SuppressWarnings("unchecked")
    ServerCallStreamObserver<T> call =
        observer instanceof ServerCallStreamObserver<?> s ? (ServerCallStreamObserver<T>) s : null;
    if (call != null) {
      // With a handler set, answering a cancelled call is a no-op instead of an exception.
      call.setOnCancelHandler(() -> {});
      if (call.isCancelled()) {
        cancelled.inc();
      }
    }
    return call;
  }

  private void answer(
      CompletionStage<CheckResponses.Outcome> outcome,
      ServerCallStreamObserver<CheckResponse> call,
      StreamObserver<CheckResponse> responseObserver) {
    outcome.whenComplete(
        (done, error) -> {
          CheckResponse response =
              error == null ? done.response() : pipeline.failure(error).response();
          respond(call, responseObserver, response);
        });
  }

  private <T> void respond(ServerCallStreamObserver<T> call, StreamObserver<T> observer, T response) {
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
