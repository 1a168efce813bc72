package io.arbiter.engine.spi;

/**
 * A configured adapter: built once per config snapshot from a handler's params (and reused by the
 * next snapshot when its adapter and params are unchanged), then called concurrently from many
 * threads until it is closed. Implementations must be thread-safe.
 *
 * <p>Lifecycle: {@link Adapter#create} builds it; calls arrive through the variety interfaces it
 * implements ({@link CheckHandler}); {@link #close} is called once, after the last snapshot that
 * uses it is replaced and its in-flight calls had time to end. A handler starts no threads of its
 * own: it schedules work on the {@link AdapterContext}'s scheduler.
 */
public interface Handler extends AutoCloseable {

  /**
   * Completes when the handler finished its first load of backend data (a list fetched, say),
   * whether it succeeded or not. Readiness waits for it, bounded. Already complete by default.
   */
  default java.util.concurrent.CompletionStage<Void> initialized() {
    return java.util.concurrent.CompletableFuture.completedFuture(null);
  }

  /** Releases what the handler holds (scheduled refreshes, connections). Must not throw. */
  @Override
  default void close() {}
}
