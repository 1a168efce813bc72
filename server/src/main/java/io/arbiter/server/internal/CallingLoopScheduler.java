package io.arbiter.server.internal;

import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.EventExecutorGroup;
import java.util.List;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.Callable;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * The engine's deadline timer on the server's event loops: a task scheduled from a loop thread is
 * timed by that loop, one scheduled from any other thread by the next loop. A loop arms and
 * disarms its own timers without waking any thread (Netty keeps them in the loop's queue and
 * sleeps until the first is due), where the JDK's delayer thread would be woken to arm and again
 * to disarm each deadline: a call decided on its event loop stays on it whether or not a handler
 * answers at once. Tasks must be short: they run on the loop.
 *
 * <p>Shutting this down does nothing: the loops belong to {@link IoEventLoops}.
 */
public final class CallingLoopScheduler extends AbstractExecutorService
    implements ScheduledExecutorService {
  private final EventExecutorGroup loops;

  public CallingLoopScheduler(EventExecutorGroup loops) {
    this.loops = loops;
  }

  /** The loop whose thread this is, else the next loop. */
  private EventExecutor loop() {
    for (EventExecutor e : loops) {
      if (e.inEventLoop()) {
        return e;
      }
    }
    return loops.next();
  }

  @Override
  public ScheduledFuture<?> schedule(Runnable command, long delay, TimeUnit unit) {
    return loop().schedule(command, delay, unit);
  }

  @Override
  public <V> ScheduledFuture<V> schedule(Callable<V> callable, long delay, TimeUnit unit) {
    return loop().schedule(callable, delay, unit);
  }

  @Override
  public ScheduledFuture<?> scheduleAtFixedRate(
      Runnable command, long initialDelay, long period, TimeUnit unit) {
    return loop().scheduleAtFixedRate(command, initialDelay, period, unit);
  }

  @Override
  public ScheduledFuture<?> scheduleWithFixedDelay(
      Runnable command, long initialDelay, long delay, TimeUnit unit) {
    return loop().scheduleWithFixedDelay(command, initialDelay, delay, unit);
  }

  @Override
  public void execute(Runnable command) {
    loop().execute(command);
  }

  /** Does nothing: the loops are not this scheduler's to stop. */
  @Override
  public void shutdown() {}

  /** Does nothing and returns no task: the loops are not this scheduler's to stop. */
  @Override
  public List<Runnable> shutdownNow() {
    return List.of();
  }

  @Override
  public boolean isShutdown() {
    return loops.isShuttingDown();
  }

  @Override
  public boolean isTerminated() {
    return loops.isTerminated();
  }

  @Override
  public boolean awaitTermination(long timeout, TimeUnit unit) throws InterruptedException {
    return loops.awaitTermination(timeout, unit);
  }
}
