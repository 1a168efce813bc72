package io.arbiter.extauthz;

import static org.assertj.core.api.Assertions.assertThat;

import io.arbiter.engine.PolicyEngine;
import io.arbiter.frontend.Arrival;
import io.envoyproxy.envoy.service.auth.v3.AttributeContext;
import io.envoyproxy.envoy.service.auth.v3.AuthorizationGrpc;
import io.envoyproxy.envoy.service.auth.v3.CheckRequest;
import io.envoyproxy.envoy.service.auth.v3.CheckResponse;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Queue-time shedding over a real gRPC server: calls that waited in the server's executor queue
 * longer than {@code settings.overload.maxQueueTime} are answered by the failure policy without
 * evaluation. The wait runs from the transport reading the call to the executor starting it, so
 * the first call of a cold JVM, slow by its own work, is not shed.
 */
class LoadSheddingTest {

  private static CheckRequest request(String path) {
    return CheckRequest.newBuilder()
        .setAttributes(AttributeContext.newBuilder()
            .setRequest(AttributeContext.Request.newBuilder()
                .setHttp(AttributeContext.HttpRequest.newBuilder().setPath(path))))
        .build();
  }

  @Test
  void callsThatWaitedInTheQueueBeyondTheBoundAreShed() throws Exception {
    PolicyEngine engine = Engines.engine(
        """
        settings:
          overload: {maxQueueTime: 50ms}
        rules:
          - name: tag
            requestHeadersToAdd: {x-path: "request.path"}
        """);
    ExecutorService executor = Executors.newSingleThreadExecutor();
    String name = InProcessServerBuilder.generateName();
    Server server = InProcessServerBuilder.forName(name)
        .executor(executor)
        .addStreamTracerFactory(Arrival.tracer(java.util.Set.of(
            io.envoyproxy.envoy.service.auth.v3.AuthorizationGrpc.getCheckMethod().getFullMethodName())))
        .addService(new AuthorizationService(engine))
        .build()
        .start();
    ManagedChannel channel = InProcessChannelBuilder.forName(name).directExecutor().build();
    try {
      AuthorizationGrpc.AuthorizationStub stub = AuthorizationGrpc.newStub(channel);
      CheckResponse fresh = AuthorizationGrpc.newBlockingStub(channel).check(request("/fresh"));
      assertThat(fresh.getStatus().getCode()).isZero();

      CountDownLatch release = new CountDownLatch(1);
      executor.execute(() -> {
        try {
          release.await();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      });
      List<CompletableFuture<CheckResponse>> queued = new ArrayList<>();
      for (int i = 0; i < 5; i++) {
        CompletableFuture<CheckResponse> f = new CompletableFuture<>();
        stub.check(request("/queued/" + i), new StreamObserver<>() {
          @Override
          public void onNext(CheckResponse value) {
            f.complete(value);
          }

          @Override
          public void onError(Throwable t) {
            f.completeExceptionally(t);
          }

          @Override
          public void onCompleted() {}
        });
        queued.add(f);
      }
      Thread.sleep(120); // the calls wait behind the blocked executor longer than 50ms
      release.countDown();
      for (CompletableFuture<CheckResponse> f : queued) {
        CheckResponse r = f.get(10, TimeUnit.SECONDS);
        assertThat(r.getStatus().getCode()).as("fail-closed: UNAVAILABLE").isEqualTo(14);
        assertThat(r.getDynamicMetadata().getFieldsOrThrow("error").getStringValue())
            .contains("maxQueueTime 50ms");
      }
      assertThat(Engines.counter(engine.services().metrics(), "arbiter_checks_shed_total", "reason", "queue"))
          .isEqualTo(5);
      CheckResponse after = AuthorizationGrpc.newBlockingStub(channel).check(request("/after"));
      assertThat(after.getStatus().getCode()).as("an idle server decides again").isZero();
    } finally {
      channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
      server.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
      executor.shutdownNow();
      engine.close();
      engine.services().close();
    }
  }
}
