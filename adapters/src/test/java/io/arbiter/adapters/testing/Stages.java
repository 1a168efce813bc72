package io.arbiter.adapters.testing;

import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Reads completion stages in tests, waiting a generous bound so a hang fails rather than blocks.
 */
public final class Stages {
  private static final long WAIT_SECONDS = 10;

  private Stages() {}

  /** The value of {@code stage}; fails the test if it failed or did not complete. */
  public static <T> T value(CompletionStage<T> stage) {
    try {
      return stage.toCompletableFuture().get(WAIT_SECONDS, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      throw new AssertionError("stage failed: " + e.getCause(), e.getCause());
    } catch (InterruptedException | TimeoutException e) {
      throw new AssertionError("stage did not complete: " + e, e);
    }
  }

  /** Why {@code stage} failed; fails the test if it succeeded or did not complete. */
  public static Throwable failure(CompletionStage<?> stage) {
    Object v;
    try {
      v = stage.toCompletableFuture().get(WAIT_SECONDS, TimeUnit.SECONDS);
    } catch (ExecutionException | CompletionException e) {
      return e.getCause();
    } catch (InterruptedException | TimeoutException e) {
      throw new AssertionError("stage did not complete: " + e, e);
    }
    throw new AssertionError("expected a failed stage, got " + v);
  }
}
