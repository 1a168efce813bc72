package io.arbiter.engine.testing;

import io.arbiter.engine.spi.Adapter;
import io.arbiter.engine.spi.AdapterContext;
import io.arbiter.engine.spi.CheckHandler;
import io.arbiter.engine.spi.CheckResult;
import io.arbiter.engine.spi.Code;
import io.arbiter.engine.spi.Handler;
import io.arbiter.engine.spi.Instance;
import io.arbiter.engine.spi.Params;
import io.arbiter.engine.spi.Template;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A test adapter named {@code flap} standing for a backend a test switches between states: {@link
 * #mode} {@code ok} (allow list entries unless the value is {@code mallory}), {@code fail}, {@code
 * hang} (never answers). Results are valid for no time, so the decision cache never hides a call;
 * {@link #calls} counts the calls that reached the backend.
 */
public final class FlappingAdapter implements Adapter {
  public final AtomicReference<String> mode = new AtomicReference<>("ok");
  public final AtomicInteger calls = new AtomicInteger();

  @Override
  public String name() {
    return "flap";
  }

  @Override
  public Set<Template> templates() {
    return Set.of(Template.LISTENTRY);
  }

  @Override
  public Handler create(Params params, AdapterContext context) {
    params.validate();
    return (CheckHandler) this::check;
  }

  private CompletionStage<CheckResult> check(Instance instance) {
    calls.incrementAndGet();
    return switch (mode.get()) {
      case "fail" -> CompletableFuture.failedFuture(new IllegalStateException("backend down"));
      case "hang" -> new CompletableFuture<>();
      default -> CompletableFuture.completedFuture(
          "mallory".equals(((Instance.ListEntry) instance).value())
              ? CheckResult.deny(Code.PERMISSION_DENIED, "listed").withValidity(Duration.ZERO, 0)
              : CheckResult.ok().withValidity(Duration.ZERO, 0));
    };
  }
}
