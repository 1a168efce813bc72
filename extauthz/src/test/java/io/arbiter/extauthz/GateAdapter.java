package io.arbiter.extauthz;

import io.arbiter.engine.spi.Adapter;
import io.arbiter.engine.spi.AdapterContext;
import io.arbiter.engine.spi.CheckHandler;
import io.arbiter.engine.spi.CheckResult;
import io.arbiter.engine.spi.Handler;
import io.arbiter.engine.spi.Instance;
import io.arbiter.engine.spi.Params;
import io.arbiter.engine.spi.Template;
import io.grpc.Context;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * A test adapter named {@code gate}. With {@code behavior: pending} (the default) each check
 * returns a future the test completes, queued with the gRPC {@link Context} the check ran in; with
 * {@code behavior: null} it returns a future completed with null, a handler bug the engine does not
 * catch.
 */
final class GateAdapter implements Adapter {
  /** A check waiting for the test. */
  record Pending(CompletableFuture<CheckResult> result, Context context) {}

  final BlockingQueue<Pending> pending = new LinkedBlockingQueue<>();

  @Override
  public String name() {
    return "gate";
  }

  @Override
  public Set<Template> templates() {
    return Set.of(Template.CHECKNOTHING);
  }

  @Override
  public Handler create(Params params, AdapterContext context) {
    String behavior = params.string("behavior", "pending");
    params.validate();
    return new CheckHandler() {
      @Override
      public CompletionStage<CheckResult> check(Instance instance) {
        if (behavior.equals("null")) {
          return CompletableFuture.completedFuture(null);
        }
        CompletableFuture<CheckResult> f = new CompletableFuture<>();
        pending.add(new Pending(f, Context.current()));
        return f;
      }
    };
  }
}
