package io.arbiter.adapters.testing;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.Callable;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Delayed;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * A scheduler that runs nothing by itself: {@code schedule} queues the task with its delay, and the
 * test runs what is queued with {@link #runPending()}. {@code execute} runs at once, on the caller.
 * Periodic scheduling is not supported (the adapters chain one-shot tasks); a callable's result is
 * dropped.
 */
public final class ManualScheduler extends AbstractExecutorService
    implements ScheduledExecutorService {

  /** A queued task. */
  public static final class Task implements ScheduledFuture<Object> {
    private final Runnable body;
    private final Duration delay;
    private volatile boolean cancelled;
    private volatile boolean done;

    Task(Runnable body, Duration delay) {
      this.body = body;
      this.delay = delay;
    }

    public Duration delay() {
      return delay;
    }

    @Override
    public long getDelay(TimeUnit unit) {
      return unit.convert(delay);
    }

    @Override
    public int compareTo(Delayed o) {
      return Long.compare(getDelay(TimeUnit.NANOSECONDS), o.getDelay(TimeUnit.NANOSECONDS));
    }

    @Override
    public boolean cancel(boolean mayInterruptIfRunning) {
      if (done) {
        return false;
      }
      cancelled = true;
      done = true;
      return true;
    }

    @Override
    public boolean isCancelled() {
      return cancelled;
    }

    @Override
    public boolean isDone() {
      return done;
    }

    @Override
    public Object get() throws ExecutionException {
      if (cancelled) {
        throw new CancellationException();
      }
      return null;
    }

    @Override
    public Object get(long timeout, TimeUnit unit) throws ExecutionException {
      return get();
    }
  }

  private final List<Task> tasks = new CopyOnWriteArrayList<>();
  private volatile boolean shutdown;

  /** The tasks queued and neither run nor cancelled. */
  public List<Task> pending() {
    List<Task> out = new ArrayList<>();
    for (Task t : tasks) {
      if (!t.done) {
        out.add(t);
      }
    }
    return out;
  }

  /** Runs the tasks pending now (not those they schedule); returns how many ran. */
  public int runPending() {
    List<Task> due = pending();
    tasks.removeAll(due);
    int ran = 0;
    for (Task t : due) {
      if (!t.done) {
        t.done = true;
        t.body.run();
        ran++;
      }
    }
    return ran;
  }

  @Override
  public ScheduledFuture<?> schedule(Runnable command, long delay, TimeUnit unit) {
    if (shutdown) {
      throw new java.util.concurrent.RejectedExecutionException("shut down");
    }
    Task t = new Task(command, Duration.of(delay, unit.toChronoUnit()));
    tasks.add(t);
    return t;
  }

  @Override
  @SuppressWarnings("unchecked")
  public <V> ScheduledFuture<V> schedule(Callable<V> callable, long delay, TimeUnit unit) {
    return (ScheduledFuture<V>)
        schedule(
            () -> {
              try {
                callable.call();
              } catch (Exception e) {
                throw new IllegalStateException(e);
              }
            },
            delay,
            unit);
  }

  @Override
  public ScheduledFuture<?> scheduleAtFixedRate(
      Runnable command, long initialDelay, long period, TimeUnit unit) {
    throw new UnsupportedOperationException("scheduleAtFixedRate");
  }

  @Override
  public ScheduledFuture<?> scheduleWithFixedDelay(
      Runnable command, long initialDelay, long delay, TimeUnit unit) {
    throw new UnsupportedOperationException("scheduleWithFixedDelay");
  }

  @Override
  public void execute(Runnable command) {
    command.run();
  }

  @Override
  public void shutdown() {
    shutdown = true;
  }

  @Override
  public List<Runnable> shutdownNow() {
    shutdown = true;
    return List.of();
  }

  @Override
  public boolean isShutdown() {
    return shutdown;
  }

  @Override
  public boolean isTerminated() {
    return shutdown;
  }

  @Override
  public boolean awaitTermination(long timeout, TimeUnit unit) {
    return shutdown;
  }
}
