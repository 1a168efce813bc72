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
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A test adapter named {@code fake} whose handlers answer as their params say: {@code behavior:
 * allow | deny | fail | hang | throw | null}, with an optional {@code message}, {@code validDuration},
 * {@code validUseCount}, {@code denyValues} (an allowing handler denies list entries with these
 * values) and {@code delay} (answer that much later, on the context's scheduler). Registered for {@link
 * java.util.ServiceLoader} in this test-jar, so servers started in tests find it.
 * Each handler records the instances it saw and counts how often it was created and closed.
 */
public final class FakeAdapter implements Adapter {
  public final AtomicInteger created = new AtomicInteger();
  public final AtomicInteger closed = new AtomicInteger();
  public final List<Instance> seen = new CopyOnWriteArrayList<>();

  @Override
  public String name() {
    return "fake";
  }

  @Override
  public Set<Template> templates() {
    return Set.of(Template.CHECKNOTHING, Template.LISTENTRY, Template.AUTHORIZATION);
  }

  @Override
  public Handler create(Params params, AdapterContext context) {
    String behavior = params.string("behavior", "allow");
    String message = params.string("message", "fake says no");
    Duration valid = params.duration("validDuration", CheckResult.DEFAULT_VALID_DURATION);
    Duration delay = params.duration("delay", Duration.ZERO);
    int uses = (int) params.integer("validUseCount", 100, 0, Integer.MAX_VALUE);
    Set<String> denyValues = Set.copyOf(params.stringList("denyValues"));
    if (!Set.of("allow", "deny", "fail", "hang", "throw", "null").contains(behavior)) {
      params.error("behavior", "'" + behavior + "' is not allow, deny, fail, hang, throw or null");
    }
    params.validate();
    created.incrementAndGet();
    return new CheckHandler() {
      @Override
      public CompletionStage<CheckResult> check(Instance instance) {
        seen.add(instance);
        CompletionStage<CheckResult> answer = answer(instance);
        if (delay.isZero()) {
          return answer;
        }
        CompletableFuture<CheckResult> later = new CompletableFuture<>();
        context.scheduler().schedule(
            () -> answer.whenComplete((r, t) -> {
              if (t != null) {
                later.completeExceptionally(t);
              } else {
                later.complete(r);
              }
            }),
            delay.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
        return later;
      }

      private CompletionStage<CheckResult> answer(Instance instance) {
        return switch (behavior) {
          case "deny" -> CompletableFuture.completedFuture(
              CheckResult.deny(Code.PERMISSION_DENIED, message).withValidity(valid, uses));
          case "fail" -> CompletableFuture.failedFuture(new IllegalStateException("backend down"));
          case "hang" -> new CompletableFuture<>();
          case "null" -> CompletableFuture.completedFuture(null);
          case "throw" -> throw new IllegalStateException("handler bug");
          default -> instance instanceof Instance.ListEntry e && denyValues.contains(e.value())
              ? CompletableFuture.completedFuture(
                  CheckResult.deny(Code.PERMISSION_DENIED, message + ": " + e.value()).withValidity(valid, uses))
              : CompletableFuture.completedFuture(CheckResult.ok().withValidity(valid, uses));
        };
      }

      @Override
      public void close() {
        closed.incrementAndGet();
      }
    };
  }
}
