package io.arbiter.adapters.otel;

import com.codahale.metrics.Counter;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.common.export.GrpcResponse;
import io.opentelemetry.sdk.common.export.GrpcStatusCode;
import io.opentelemetry.sdk.logs.data.LogRecordData;
import io.opentelemetry.sdk.logs.export.LogRecordExporter;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Deque;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * Sits between the SDK's {@code BatchLogRecordProcessor} and the OTLP exporter and makes delivery
 * survive a collector outage: it takes every batch the processor hands it into a FIFO (reporting
 * success at once, so the processor never discards a batch), and sends the FIFO's head to the
 * exporter, one batch at a time, in order.
 *
 * <ul>
 *   <li>Delivered: the batch leaves the FIFO; the next one is sent at once.
 *   <li>Failed with a retryable outcome (no connection, a timeout, gRPC UNAVAILABLE, RESOURCE_EXHAUSTED
 *       and the others OTLP calls retryable), after the exporter's own retries: the batch stays at the
 *       head and is sent again after a backoff on the engine's scheduler, growing from {@code
 *       initialBackoff} by {@code backoffMultiplier} up to {@code maxBackoff}, until it is delivered.
 *   <li>Failed for good (a gRPC status OTLP says not to retry, such as INVALID_ARGUMENT or
 *       UNIMPLEMENTED): the batch is dropped and counted, and the next one is sent.
 * </ul>
 *
 * <p>The bound: the handler admits a record only while fewer than {@code maxQueueSize} records are
 * admitted and not yet delivered or dropped ({@code pending}, shared with the handler), so the
 * processor's queue plus this FIFO never hold more than that, the processor never drops silently,
 * and every record beyond the bound is refused at admission and counted there. Delivery is at least
 * once: a batch whose export timed out after the collector got it is sent again.
 *
 * <p>Shutdown (when the processor shuts down) keeps sending until the FIFO is empty; {@link
 * #abandon()} then drops and counts what is left and shuts the exporter down. Thread-safe.
 */
final class RetryingLogExporter implements LogRecordExporter {

  /** The gRPC codes OTLP/gRPC clients retry (the OTLP specification's list). */
  private static final Set<GrpcStatusCode> RETRYABLE = EnumSet.of(
      GrpcStatusCode.CANCELLED, GrpcStatusCode.DEADLINE_EXCEEDED, GrpcStatusCode.RESOURCE_EXHAUSTED,
      GrpcStatusCode.ABORTED, GrpcStatusCode.OUT_OF_RANGE, GrpcStatusCode.UNAVAILABLE,
      GrpcStatusCode.DATA_LOSS);

  private enum State {
    OPEN,
    DRAINING,
    SHUT
  }

  private final LogRecordExporter delegate;
  private final ScheduledExecutorService scheduler;
  private final AtomicInteger pending;
  private final Counter dropped;
  private final Counter failures;
  private final OtelConfig.Retry retry;
  private final Consumer<String> warn;
  private final Object lock = new Object();
  private final CompletableResultCode shutdownResult = new CompletableResultCode();
  // Guarded by lock.
  private final Deque<List<LogRecordData>> batches = new ArrayDeque<>();
  private final List<CompletableResultCode> flushWaiters = new ArrayList<>();
  private State state = State.OPEN;
  private boolean inFlight;
  private ScheduledFuture<?> retryTimer;
  private Duration backoff;

  /**
   * @param pending records admitted and not yet delivered or dropped; decremented here
   * @param dropped counts records dropped here (failed for good, or left at shutdown)
   * @param failures counts failed exports
   * @param warn takes a rate-limited warning
   */
  RetryingLogExporter(
      LogRecordExporter delegate,
      ScheduledExecutorService scheduler,
      AtomicInteger pending,
      Counter dropped,
      Counter failures,
      OtelConfig.Retry retry,
      Consumer<String> warn) {
    this.delegate = delegate;
    this.scheduler = scheduler;
    this.pending = pending;
    this.dropped = dropped;
    this.failures = failures;
    this.retry = retry;
    this.warn = warn;
    this.backoff = retry.initialBackoff();
  }

  /** Takes the batch into the FIFO; always succeeds (except after shutdown, where it drops). */
  @Override
  public CompletableResultCode export(Collection<LogRecordData> records) {
    if (records.isEmpty()) {
      return CompletableResultCode.ofSuccess();
    }
    synchronized (lock) {
      if (state == State.SHUT) {
        lose(records.size(), "exported after shutdown");
        return CompletableResultCode.ofSuccess();
      }
      batches.addLast(List.copyOf(records));
    }
    drain();
    return CompletableResultCode.ofSuccess();
  }

  /** Records held here (taken from the processor and not yet delivered). */
  int held() {
    synchronized (lock) {
      int n = 0;
      for (List<LogRecordData> b : batches) {
        n += b.size();
      }
      return n;
    }
  }

  /**
   * Sends the FIFO now, skipping a backoff in progress. Completes when the FIFO is empty, or with a
   * failure when a send fails (the batch stays for the next retry).
   */
  @Override
  public CompletableResultCode flush() {
    CompletableResultCode result = new CompletableResultCode();
    synchronized (lock) {
      if (batches.isEmpty()) {
        return CompletableResultCode.ofSuccess();
      }
      flushWaiters.add(result);
      if (retryTimer != null) {
        retryTimer.cancel(false);
        retryTimer = null;
      }
    }
    drain();
    return result;
  }

  /**
   * Keeps sending until the FIFO is empty, then shuts the exporter down; the result completes then.
   * The handler bounds the wait and calls {@link #abandon()} when it runs out.
   */
  @Override
  public CompletableResultCode shutdown() {
    boolean empty;
    synchronized (lock) {
      if (state != State.OPEN) {
        return shutdownResult;
      }
      state = State.DRAINING;
      if (retryTimer != null) {
        retryTimer.cancel(false);
        retryTimer = null;
      }
      empty = batches.isEmpty() && !inFlight;
    }
    if (empty) {
      abandon();
    } else {
      drain();
    }
    return shutdownResult;
  }

  /** Drops and counts what is still held, and shuts the exporter down. Idempotent. */
  void abandon() {
    int left = 0;
    synchronized (lock) {
      if (state == State.SHUT) {
        return;
      }
      state = State.SHUT;
      for (List<LogRecordData> b : batches) {
        left += b.size();
      }
      batches.clear();
      if (retryTimer != null) {
        retryTimer.cancel(false);
        retryTimer = null;
      }
      completeFlushWaiters(left == 0);
    }
    if (left > 0) {
      lose(left, "undelivered at shutdown");
    }
    delegate.shutdown().whenComplete(shutdownResult::succeed);
  }

  private void drain() {
    while (true) {
      List<LogRecordData> head;
      synchronized (lock) {
        if (inFlight || retryTimer != null || batches.isEmpty() || state == State.SHUT) {
          return;
        }
        inFlight = true;
        head = batches.peekFirst();
      }
      CompletableResultCode result;
      try {
        result = delegate.export(head);
      } catch (RuntimeException e) {
        result = CompletableResultCode.ofExceptionalFailure(e);
      }
      if (!result.isDone()) {
        CompletableResultCode r = result;
        r.whenComplete(() -> {
          completed(head, r);
          drain();
        });
        return;
      }
      completed(head, result);
    }
  }

  private void completed(List<LogRecordData> batch, CompletableResultCode result) {
    boolean finished = false;
    synchronized (lock) {
      inFlight = false;
      if (state == State.SHUT || batches.peekFirst() != batch) {
        return; // abandoned meanwhile: already counted
      }
      if (result.isSuccess()) {
        batches.pollFirst();
        pending.addAndGet(-batch.size());
        backoff = retry.initialBackoff();
      } else {
        failures.inc();
        Throwable t = result.getFailureThrowable();
        if (permanent(t)) {
          batches.pollFirst();
          lose(batch.size(), "the collector refused a batch: " + t.getMessage());
        } else {
          warn.accept("export of " + batch.size() + " log records failed (" + reason(t)
              + "); holding " + heldLocked() + " records, retrying in " + backoff.toMillis() + "ms");
          completeFlushWaiters(false);
          scheduleRetryLocked();
          return;
        }
      }
      if (batches.isEmpty()) {
        completeFlushWaiters(true);
        finished = state == State.DRAINING;
      }
    }
    if (finished) {
      abandon();
    }
  }

  private void scheduleRetryLocked() {
    Duration wait = state == State.DRAINING ? retry.initialBackoff() : backoff;
    try {
      retryTimer = scheduler.schedule(() -> {
        synchronized (lock) {
          retryTimer = null;
        }
        drain();
      }, wait.toNanos(), TimeUnit.NANOSECONDS);
    } catch (RejectedExecutionException e) {
      retryTimer = null; // the engine is shutting down; close() abandons what is left
    }
    double next = Math.min(backoff.toNanos() * retry.backoffMultiplier(),
        (double) retry.maxBackoff().toNanos());
    backoff = Duration.ofNanos((long) next);
  }

  private int heldLocked() {
    int n = 0;
    for (List<LogRecordData> b : batches) {
      n += b.size();
    }
    return n;
  }

  private void completeFlushWaiters(boolean success) {
    for (CompletableResultCode w : flushWaiters) {
      if (success) {
        w.succeed();
      } else {
        w.fail();
      }
    }
    flushWaiters.clear();
  }

  private void lose(int n, String why) {
    pending.addAndGet(-n);
    dropped.inc(n);
    warn.accept("dropped " + n + " log records: " + why);
  }

  /**
   * Whether the collector answered with a status OTLP says not to retry. The exporter fails with
   * an exception whose {@code getResponse()} gives the {@link GrpcResponse} when the collector
   * answered (its type is internal to the SDK, hence the reflection); a failure without one (no
   * connection, a timeout) is retryable.
   */
  static boolean permanent(Throwable t) {
    GrpcStatusCode code = statusOf(t);
    return code != null && code != GrpcStatusCode.OK && !RETRYABLE.contains(code);
  }

  private static GrpcStatusCode statusOf(Throwable t) {
    if (t == null) {
      return null;
    }
    try {
      Object response = t.getClass().getMethod("getResponse").invoke(t);
      return response instanceof GrpcResponse r ? r.getStatusCode() : null;
    } catch (ReflectiveOperationException | RuntimeException e) {
      return null;
    }
  }

  private static String reason(Throwable t) {
    if (t == null) {
      return "no reason given";
    }
    Throwable cause = t.getCause() != null ? t.getCause() : t;
    return cause.getClass().getSimpleName() + ": " + cause.getMessage();
  }
}
