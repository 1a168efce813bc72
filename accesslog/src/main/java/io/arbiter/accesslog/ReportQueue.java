package io.arbiter.accesslog;

import com.codahale.metrics.Counter;
import io.arbiter.accesslog.QueueSettings.Overflow;
import io.arbiter.accesslog.internal.SpillFile;
import io.arbiter.engine.AttributeBag;
import io.arbiter.engine.PolicyEngine;
import io.arbiter.engine.metrics.Metrics;
import io.arbiter.engine.spi.LogLimiter;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The bounded queue between the access-log streams and the engine: streams {@linkplain #offerAll
 * offer} entries and return at once; one dispatcher thread takes batches of up to {@link
 * QueueSettings#batchSize()} entries and hands each to {@link PolicyEngine#report}, with at most
 * {@link QueueSettings#maxBatchesInFlight()} report calls unfinished. A slow report handler thus
 * fills the queue, never a stream's thread: when it is full, the {@linkplain QueueSettings.Overflow
 * overflow policy} applies.
 *
 * <h2>Every entry is accounted for</h2>
 *
 * An offered entry is dispatched ({@code arbiter_accesslog_dispatched_total}), spilled to disk
 * ({@code arbiter_accesslog_spilled_total}; replayed later, then dispatched and counted in {@code
 * arbiter_accesslog_replayed_total}), or dropped and counted in {@code
 * arbiter_accesslog_dropped_total{reason}}: {@code queue_full} (the oldest entry in memory, under
 * {@code DROP_OLDEST}), {@code spill_full} (a new entry while memory and the spill files are both
 * full), {@code spill_error} (the spill files could not be written or read), {@code spill_corrupt}
 * (a record found damaged when read back), {@code shutdown} (left in memory when {@link #close}
 * ran out of time under {@code DROP_OLDEST}, or offered after it). Gauges: {@code
 * arbiter_accesslog_queue_depth}, {@code arbiter_accesslog_queue_capacity}, {@code
 * arbiter_accesslog_spill_entries}, {@code arbiter_accesslog_spill_bytes}.
 *
 * <h2>Shutdown</h2>
 *
 * {@link #close(Duration)} stops taking new entries, dispatches what is queued (and spilled) until
 * the timeout, and waits for the report calls in flight; what is left in memory is then spilled
 * (under {@code SPILL}, for the next process to replay) or dropped and counted.
 *
 * <p>Thread-safe. Offering takes a short lock (and, while entries are spilling, a buffered disk
 * write); it never waits for the engine.
 */
public final class ReportQueue implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger("arbiter.accesslog");

  /** Where batches go: {@link PolicyEngine#report} in production. */
  @FunctionalInterface
  public interface Sink {
    /** Takes a batch; the stage completes when the batch is done with (it may fail). */
    CompletionStage<?> report(List<AttributeBag> batch);
  }

  private enum SpillResult { SPILLED, FULL, ERROR }

  private final Sink sink;
  private final QueueSettings settings;
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition notEmpty = lock.newCondition();
  private final ArrayDeque<AttributeBag> queue;
  private final SpillFile spill;
  private final Semaphore inFlight;
  private final Thread dispatcher;
  private final LogLimiter errorLog = new LogLimiter(5);

  private final Counter dispatched;
  private final Counter spilled;
  private final Counter replayed;
  private final Counter droppedQueueFull;
  private final Counter droppedSpillFull;
  private final Counter droppedSpillError;
  private final Counter droppedSpillCorrupt;
  private final Counter droppedShutdown;
  private final List<AutoCloseable> gauges = new ArrayList<>();

  private volatile int depth;
  private volatile long spillEntries;
  private volatile long spillBytes;
  private volatile boolean closing;
  private volatile long deadlineNanos;
  /** Guarded by lock. */
  private boolean closed;
  /** Guarded by lock: the dispatcher waits for its batch to fill (see {@link QueueSettings#linger}). */
  private boolean lingering;

  private ReportQueue(Sink sink, QueueSettings settings, Metrics metrics, SpillFile spill) {
    this.sink = sink;
    this.settings = settings;
    this.spill = spill;
    this.queue = new ArrayDeque<>(Math.min(settings.capacity(), 4096));
    this.inFlight = new Semaphore(settings.maxBatchesInFlight());
    dispatched = metrics.counter("arbiter_accesslog_dispatched_total",
        "Access-log entries handed to the engine as reports.");
    spilled = metrics.counter("arbiter_accesslog_spilled_total",
        "Access-log entries written to the spill files because the queue was full.");
    replayed = metrics.counter("arbiter_accesslog_replayed_total",
        "Access-log entries read back from the spill files into the queue.");
    String dropped = "arbiter_accesslog_dropped_total";
    String help = "Access-log entries dropped, by reason.";
    droppedQueueFull = metrics.counter(dropped, help, "reason", "queue_full");
    droppedSpillFull = metrics.counter(dropped, help, "reason", "spill_full");
    droppedSpillError = metrics.counter(dropped, help, "reason", "spill_error");
    droppedSpillCorrupt = metrics.counter(dropped, help, "reason", "spill_corrupt");
    droppedShutdown = metrics.counter(dropped, help, "reason", "shutdown");
    gauges.add(metrics.gauge("arbiter_accesslog_queue_depth",
        "Access-log entries waiting in memory for dispatch.", () -> depth));
    gauges.add(metrics.gauge("arbiter_accesslog_queue_capacity",
        "The most access-log entries the queue holds in memory.", settings::capacity));
    if (spill != null) {
      gauges.add(metrics.gauge("arbiter_accesslog_spill_entries",
          "Access-log entries in the spill files, waiting to be replayed.", () -> spillEntries));
      gauges.add(metrics.gauge("arbiter_accesslog_spill_bytes",
          "Bytes the spill files take on disk.", () -> spillBytes));
      droppedSpillCorrupt.inc(spill.takeLost());
      updateSpillGauges();
    }
    dispatcher = new Thread(this::run, "arbiter-accesslog-dispatcher");
    dispatcher.setDaemon(true);
  }

  /** A queue that reports to {@code engine}, its metrics in the engine's registry. */
  public static ReportQueue start(PolicyEngine engine, QueueSettings settings) throws IOException {
    return start(engine::report, settings, engine.services().metrics());
  }

  /**
   * Opens the spill directory (for {@link Overflow#SPILL}; entries a previous process left there
   * are replayed first) and starts the dispatcher.
   *
   * @throws IOException if the spill directory cannot be used
   */
  public static ReportQueue start(Sink sink, QueueSettings settings, Metrics metrics)
      throws IOException {
    Objects.requireNonNull(sink, "sink");
    Objects.requireNonNull(settings, "settings");
    SpillFile spill = settings.overflow() == Overflow.SPILL
        ? SpillFile.open(settings.spillDir(), settings.spillMaxBytes()) : null;
    ReportQueue q = new ReportQueue(sink, settings, metrics, spill);
    q.dispatcher.start();
    return q;
  }

  public QueueSettings settings() {
    return settings;
  }

  /** Entries waiting in memory. */
  public int depth() {
    return depth;
  }

  /** Entries waiting in the spill files. */
  public long spilledPending() {
    return spillEntries;
  }

  public void offer(AttributeBag bag) {
    offerAll(List.of(bag));
  }

  /** Queues {@code bags} in order, applying the overflow policy to each that does not fit. */
  public void offerAll(List<AttributeBag> bags) {
    if (bags.isEmpty()) {
      return;
    }
    int capacity = settings.capacity();
    lock.lock();
    try {
      if (closed) {
        droppedShutdown.inc(bags.size());
        return;
      }
      boolean wrote = false;
      for (AttributeBag bag : bags) {
        if (spill != null && (spill.pendingEntries() > 0 || queue.size() >= capacity)) {
          SpillResult r = trySpill(bag);
          if (r == SpillResult.SPILLED) {
            wrote = true;
          } else if (queue.size() < capacity) {
            queue.addLast(bag);
          } else {
            (r == SpillResult.FULL ? droppedSpillFull : droppedSpillError).inc();
          }
        } else {
          if (queue.size() >= capacity) {
            queue.pollFirst();
            droppedQueueFull.inc();
          }
          queue.addLast(bag);
        }
      }
      if (wrote) {
        flushSpill();
      }
      depth = queue.size();
      // A lingering dispatcher is woken only by a full batch: that is the point of lingering.
      if (!lingering || queue.size() >= settings.batchSize()) {
        notEmpty.signal();
      }
    } finally {
      lock.unlock();
    }
  }

  /** Under the lock. */
  private SpillResult trySpill(AttributeBag bag) {
    try {
      if (!spill.append(bag)) {
        return SpillResult.FULL;
      }
      spilled.inc();
      return SpillResult.SPILLED;
    } catch (IOException e) {
      logError("cannot write to the spill directory " + settings.spillDir() + ": " + e);
      return SpillResult.ERROR;
    } finally {
      updateSpillGauges();
    }
  }

  private void flushSpill() {
    try {
      spill.flush();
    } catch (IOException e) {
      logError("cannot flush the spill files in " + settings.spillDir() + ": " + e);
    }
  }

  /** Under the lock: moves spilled entries back into memory, as many as fit. */
  private void refill() {
    int room = settings.capacity() - queue.size();
    if (room <= 0) {
      return;
    }
    int max = Math.min(room, Math.max(settings.batchSize() * 4, 1024));
    try {
      List<AttributeBag> back = spill.read(max);
      queue.addAll(back);
      replayed.inc(back.size());
    } catch (IOException e) {
      long pending = spill.pendingEntries();
      logError("cannot read the spill files in " + settings.spillDir() + ", " + pending
          + " spilled entries are lost: " + e);
      droppedSpillError.inc(pending);
      try {
        spill.read(Integer.MAX_VALUE); // skip past what cannot be read
      } catch (IOException again) {
        // counted above
      }
    }
    droppedSpillCorrupt.inc(spill.takeLost());
    updateSpillGauges();
    depth = queue.size();
  }

  private void updateSpillGauges() {
    spillEntries = spill.pendingEntries();
    spillBytes = spill.bytes();
  }

  private long spillPending() {
    return spill == null ? 0 : spill.pendingEntries();
  }

  private void run() {
    try {
      while (true) {
        // The slot first: while the report path is busy, entries wait in the queue, where they
        // count in its depth and the overflow policy sees them.
        if (!acquirePermit()) {
          break;
        }
        List<AttributeBag> batch = null;
        boolean stop = false;
        lock.lock();
        try {
          while (queue.isEmpty() && spillPending() == 0 && !closing) {
            notEmpty.await();
          }
          long lingerNanos = settings.linger().toNanos();
          if (lingerNanos > 0 && spillPending() == 0) {
            lingering = true;
            try {
              while (lingerNanos > 0 && !closing && queue.size() < settings.batchSize()) {
                lingerNanos = notEmpty.awaitNanos(lingerNanos);
              }
            } finally {
              lingering = false;
            }
          }
          if (closing && System.nanoTime() - deadlineNanos >= 0) {
            stop = true;
          } else if (spill != null && queue.size() < settings.batchSize()
              && spill.pendingEntries() > 0) {
            refill();
          }
          if (stop) {
            // the close deadline passed: what is left stays for close()
          } else if (queue.isEmpty()) {
            stop = closing && spillPending() == 0;
          } else {
            int n = Math.min(settings.batchSize(), queue.size());
            batch = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
              batch.add(queue.pollFirst());
            }
            depth = queue.size();
          }
        } catch (InterruptedException e) {
          inFlight.release();
          throw e;
        } finally {
          lock.unlock();
        }
        if (batch == null) {
          inFlight.release();
          if (stop) {
            break;
          }
          continue;
        }
        dispatch(batch);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (RuntimeException | Error e) {
      LOG.log(System.Logger.Level.ERROR, "the access-log dispatcher failed; entries now stay queued", e);
    }
  }

  /** Waits for a free report slot; false when closing and its deadline passed first. */
  private boolean acquirePermit() throws InterruptedException {
    while (true) {
      long wait = closing
          ? Math.max(0, deadlineNanos - System.nanoTime())
          : TimeUnit.MILLISECONDS.toNanos(100);
      if (inFlight.tryAcquire(wait, TimeUnit.NANOSECONDS)) {
        return true;
      }
      if (closing && System.nanoTime() - deadlineNanos >= 0) {
        return false;
      }
    }
  }

  private void dispatch(List<AttributeBag> batch) {
    dispatched.inc(batch.size());
    CompletionStage<?> stage;
    try {
      stage = sink.report(batch);
    } catch (RuntimeException e) {
      inFlight.release();
      logError("a report batch of " + batch.size() + " entries failed: " + e);
      return;
    }
    if (stage == null) {
      inFlight.release();
    } else {
      stage.whenComplete((v, t) -> inFlight.release());
    }
  }

  private void logError(String message) {
    long suppressed = errorLog.tryAcquire(System.currentTimeMillis());
    if (suppressed >= 0) {
      LOG.log(System.Logger.Level.WARNING, "{0}{1}", message,
          suppressed > 0 ? " (" + suppressed + " similar messages suppressed)" : "");
    }
  }

  /** Closes with a 10-second timeout. */
  @Override
  public void close() {
    close(Duration.ofSeconds(10));
  }

  /**
   * Stops taking entries and flushes: dispatches what is queued and spilled until {@code timeout}
   * passes, and waits (within it) for report calls in flight. What is then left in memory is
   * spilled (under {@code SPILL}) or dropped and counted ({@code reason="shutdown"}). Entries
   * offered afterwards are dropped and counted. Idempotent.
   *
   * @return true if every entry was dispatched and every report call finished
   */
  public boolean close(Duration timeout) {
    lock.lock();
    try {
      if (closed) {
        return queue.isEmpty() && spillPending() == 0;
      }
      if (!closing) {
        deadlineNanos = System.nanoTime() + timeout.toNanos();
        closing = true;
      }
      notEmpty.signalAll();
    } finally {
      lock.unlock();
    }
    try {
      dispatcher.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadlineNanos - System.nanoTime()))
          + 1000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    boolean allDone = awaitInFlight();
    int left;
    long leftSpilled;
    lock.lock();
    try {
      closed = true;
      left = queue.size();
      if (left > 0) {
        if (spill != null) {
          for (AttributeBag bag : queue) {
            SpillResult r = trySpill(bag);
            if (r != SpillResult.SPILLED) {
              (r == SpillResult.FULL ? droppedSpillFull : droppedSpillError).inc();
            }
          }
        } else {
          droppedShutdown.inc(left);
        }
        queue.clear();
        depth = 0;
      }
      leftSpilled = spillPending();
      if (spill != null) {
        try {
          spill.close();
        } catch (IOException e) {
          logError("cannot close the spill files in " + settings.spillDir() + ": " + e);
        }
      }
    } finally {
      lock.unlock();
    }
    for (AutoCloseable g : gauges) {
      try {
        g.close();
      } catch (Exception e) {
        // gauges close quietly
      }
    }
    if (left > 0 || leftSpilled > 0) {
      LOG.log(System.Logger.Level.WARNING,
          "access-log queue closed with {0} entries undelivered: {1}", left + leftSpilled,
          spill != null ? "kept in " + settings.spillDir() + " for the next start"
              : "dropped (arbiter_accesslog_dropped_total{reason=\"shutdown\"})");
    }
    return allDone && left == 0 && leftSpilled == 0;
  }

  /** Waits, until the close deadline, for every report call to finish. */
  private boolean awaitInFlight() {
    int max = settings.maxBatchesInFlight();
    try {
      long wait = Math.max(0, deadlineNanos - System.nanoTime());
      if (inFlight.tryAcquire(max, wait, TimeUnit.NANOSECONDS)) {
        inFlight.release(max);
        return true;
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    LOG.log(System.Logger.Level.WARNING,
        "access-log queue closed with report calls still running");
    return false;
  }
}
