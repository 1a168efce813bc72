package io.arbiter.adapters.memquota;

import io.arbiter.adapters.quota.AllocationMetrics;
import io.arbiter.adapters.quota.QuotaConfig;
import io.arbiter.adapters.quota.UnknownQuotaException;
import io.arbiter.engine.spi.AdapterContext;
import io.arbiter.engine.spi.Instance;
import io.arbiter.engine.spi.LogLimiter;
import io.arbiter.engine.spi.QuotaHandler;
import io.arbiter.engine.spi.QuotaRequest;
import io.arbiter.engine.spi.QuotaResult;
import java.lang.System.Logger.Level;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Allocates from in-memory buckets; every answer is immediate (a completed stage). Reads all time
 * from the context's clock; drops idle buckets every {@link #SWEEP_INTERVAL} on the context's
 * scheduler. After {@link #close()} the buckets are gone and no sweep is scheduled. Thread-safe.
 */
final class MemQuotaHandler implements QuotaHandler {
  static final Duration SWEEP_INTERVAL = Duration.ofSeconds(10);

  private final String name;
  private final QuotaConfig config;
  private final Clock clock;
  private final ScheduledExecutorService scheduler;
  private final System.Logger log;
  private final LogLimiter failureLog = new LogLimiter(1);
  private final AllocationMetrics allocations;
  private final BucketStore store;
  private final AutoCloseable keysGauge;
  private final Object lock = new Object();
  // Guarded by lock.
  private boolean closed;
  private ScheduledFuture<?> nextSweep;

  MemQuotaHandler(QuotaConfig config, int maxKeys, AdapterContext context) {
    this.name = context.handlerName();
    this.config = config;
    this.clock = context.clock();
    this.scheduler = context.scheduler();
    this.log = context.logger();
    this.allocations = new AllocationMetrics(context.metrics(), name);
    this.store =
        new BucketStore(
            maxKeys,
            context.metrics().counter(
                "arbiter_memquota_evictions_total",
                "Active memquota buckets evicted because maxKeys was reached (their keys start"
                    + " afresh).",
                "handler",
                name));
    this.keysGauge =
        context.metrics().gauge(
            "arbiter_memquota_keys", "Buckets a memquota handler keeps.", store::size,
            "handler", name);
  }

  void start() {
    scheduleSweep();
  }

  /**
   * Takes {@code request.amount()} from the bucket of {@code quota}'s name, dimensions and limit
   * (see {@link QuotaConfig#resolve}). Completes at once; exceptionally, with {@link
   * UnknownQuotaException}, if the handler has no entry for the instance or cannot use the
   * caller's limit.
   */
  @Override
  public CompletionStage<QuotaResult> allocate(Instance.Quota quota, QuotaRequest request) {
    QuotaConfig.Bucket bucket;
    try {
      bucket = config.resolve(quota, request);
    } catch (UnknownQuotaException e) {
      long suppressed = failureLog.tryAcquire(clock.millis());
      if (suppressed >= 0) {
        log.log(Level.WARNING, "memquota ''{0}'': {1}{2}", name, e.getMessage(),
            suppressed > 0 ? " (" + suppressed + " similar messages suppressed)" : "");
      }
      return CompletableFuture.failedStage(e);
    }
    if (bucket.limit().maxAmount() == 0) {
      return answer(allocations.count(new QuotaResult(
          0, 0, 0, bucket.limit().window(), bucket.limit().window())));
    }
    long now = clock.millis();
    QuotaResult r =
        store.allocate(bucket.key(), bucket.limit(), now, request.amount(), request.bestEffort())
            .toResult(bucket.limit());
    return answer(allocations.count(r));
  }

  /**
   * A completed {@code CompletableFuture} rather than {@code completedStage}: the engine calls
   * {@code toCompletableFuture()} on every answer, which copies a minimal stage into a new future
   * but returns a future as it is.
   */
  private static CompletionStage<QuotaResult> answer(QuotaResult r) {
    return CompletableFuture.completedFuture(r);
  }

  /** Drops idle buckets now; package-private for tests. */
  int sweep() {
    return store.sweep(clock.millis());
  }

  BucketStore store() {
    return store;
  }

  @Override
  public void close() {
    synchronized (lock) {
      if (closed) {
        return;
      }
      closed = true;
      if (nextSweep != null) {
        nextSweep.cancel(false);
      }
    }
    store.clear();
    try {
      keysGauge.close();
    } catch (Exception e) {
      throw new IllegalStateException("cannot happen: a gauge registration does not throw", e);
    }
  }

  private void scheduleSweep() {
    synchronized (lock) {
      if (closed) {
        return;
      }
      try {
        nextSweep =
            scheduler.schedule(this::scheduledSweep, SWEEP_INTERVAL.toMillis(), TimeUnit.MILLISECONDS);
      } catch (RejectedExecutionException e) {
        log.log(Level.WARNING, "memquota ''{0}'': the scheduler is shut down; idle buckets are"
            + " dropped only when the store is full", name);
      }
    }
  }

  private void scheduledSweep() {
    try {
      sweep();
    } catch (RuntimeException e) {
      log.log(Level.ERROR, "memquota '" + name + "': sweep failed", e);
    } finally {
      scheduleSweep();
    }
  }
}
