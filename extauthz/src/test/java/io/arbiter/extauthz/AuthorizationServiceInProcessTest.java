package io.arbiter.extauthz;

import static org.assertj.core.api.Assertions.assertThat;

import io.arbiter.engine.PolicyEngine;
import io.arbiter.engine.spi.CheckResult;
import io.envoyproxy.envoy.service.auth.v3.AttributeContext;
import io.envoyproxy.envoy.service.auth.v3.AuthorizationGrpc;
import io.envoyproxy.envoy.service.auth.v3.CheckRequest;
import io.envoyproxy.envoy.service.auth.v3.CheckResponse;
import io.grpc.Context;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The service over the in-process transport: asynchronous answers and cancellation. */
class AuthorizationServiceInProcessTest {
  private static final String GATED =
      """
      settings:
        handlerTimeout: 1m
      handlers:
      - name: gate
        adapter: gate
      rules:
      - name: gated
        actions:
        - handler: gate
      """;

  private final GateAdapter gate = new GateAdapter();
  private PolicyEngine engine;
  private Server server;
  private ManagedChannel channel;

  private void start() throws IOException {
    engine = Engines.engine(GATED, gate);
    String name = InProcessServerBuilder.generateName();
    server =
        InProcessServerBuilder.forName(name)
            .directExecutor()
            .addService(new AuthorizationService(engine))
            .build()
            .start();
    channel = InProcessChannelBuilder.forName(name).directExecutor().build();
  }

  @AfterEach
  void stop() throws InterruptedException {
    channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
    server.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
    engine.close();
    engine.services().close();
  }

  private static CheckRequest request() {
    return CheckRequest.newBuilder()
        .setAttributes(
            AttributeContext.newBuilder()
                .setRequest(
                    AttributeContext.Request.newBuilder()
                        .setHttp(AttributeContext.HttpRequest.newBuilder().setPath("/"))))
        .build();
  }

  /** Records what the client got. */
  private static final class Recorder implements StreamObserver<CheckResponse> {
    final CompletableFuture<CheckResponse> response = new CompletableFuture<>();

    @Override
    public void onNext(CheckResponse value) {
      response.complete(value);
    }

    @Override
    public void onError(Throwable t) {
      response.completeExceptionally(t);
    }

    @Override
    public void onCompleted() {}
  }

  @Test
  void answersWhenAHandlerCompletesLater() throws Exception {
    start();
    Recorder recorder = new Recorder();

    AuthorizationGrpc.newStub(channel).check(request(), recorder);
    GateAdapter.Pending pending = gate.pending.poll(10, TimeUnit.SECONDS);
    assertThat(pending).isNotNull();
    assertThat(recorder.response).isNotDone();
    pending.result().complete(CheckResult.ok());

    CheckResponse response = recorder.response.get(10, TimeUnit.SECONDS);
    assertThat(response.getStatus().getCode()).isZero();
    assertThat(response.getDynamicMetadata().getFieldsOrThrow("matched_rules").getListValue().getValues(0)
            .getStringValue())
        .isEqualTo("gated");
  }

  @Test
  void aCallCancelledBeforeItsAnswerIsCountedNotAnswered() throws Exception {
    start();
    Recorder recorder = new Recorder();
    Context.CancellableContext client = Context.current().withCancellation();

    client.run(() -> AuthorizationGrpc.newStub(channel).check(request(), recorder));
    GateAdapter.Pending pending = gate.pending.poll(10, TimeUnit.SECONDS);
    assertThat(pending).isNotNull();
    CountDownLatch serverSawCancel = new CountDownLatch(1);
    pending.context().addListener(c -> serverSawCancel.countDown(), Runnable::run);
    client.cancel(null);
    assertThat(serverSawCancel.await(10, TimeUnit.SECONDS)).isTrue();

    // The answer is now computed on this thread and must be dropped quietly.
    pending.result().complete(CheckResult.ok());

    assertThat(Engines.counter(engine.services().metrics(), "arbiter_extauthz_cancelled_total"))
        .isEqualTo(1);
    assertThat(recorder.response).isCompletedExceptionally();
    assertThat(Status.fromThrowable(recorder.response.handle((r, t) -> t).join()).getCode())
        .isEqualTo(Status.Code.CANCELLED);
  }
}
