package io.arbiter.adapters.log;

import com.codahale.metrics.Counter;
import io.arbiter.engine.spi.AdapterContext;
import io.arbiter.engine.spi.Instance;
import io.arbiter.engine.spi.LogLimiter;
import io.arbiter.engine.spi.ReportHandler;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.System.Logger.Level;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Writes log entries as JSON lines ({@link JsonLines}) through a bounded buffer.
 *
 * <p>{@link #report} renders each entry and enqueues the line; it never writes. A flush task on the
 * context's scheduler writes what is buffered every {@code flushInterval}, and sooner once the
 * buffer is half full (at most 4096 lines), so the buffer absorbs bursts and a slow sink, not
 * steady load. Entries that find the buffer full are dropped; they, entries that cannot be
 * rendered, lines whose write fails and entries reported after {@link #close} are counted in {@code
 * arbiter_log_dropped_total{handler}} and logged at most once a second. Lines written are counted
 * in {@code arbiter_log_entries_total{handler}}. Writing to stdout or stderr holds the stream's
 * lock for the batch, so lines of several handlers never interleave mid-line.
 *
 * <p>Thread-safe. A write runs on one scheduler thread at a time; a sink that blocks (a full pipe
 * on stdout, a hung disk) holds that thread until it returns.
 */
final class LogHandler implements ReportHandler {
  private static final CompletionStage<Void> DONE = CompletableFuture.completedStage(null);
  static final String DROPPED = "arbiter_log_dropped_total";
  static final String WRITTEN = "arbiter_log_entries_total";

  private final String name;
  private final LogConfig config;
  private final RotatingFile file;
  private final ScheduledExecutorService scheduler;
  private final Clock clock;
  private final System.Logger log;
  private final LogLimiter logLimiter = new LogLimiter(1);
  private final ArrayBlockingQueue<byte[]> buffer;
  private final int earlyFlushAt;
  private final Counter dropped;
  private final Counter written;
  private final AtomicBoolean earlyFlushScheduled = new AtomicBoolean();
  private final Object writeLock = new Object();
  // Guarded by this.
  private ScheduledFuture<?> nextFlush;
  private volatile boolean closed;

  /** @param file the open file of a FILE sink (released by {@link #close}), else null */
  LogHandler(LogConfig config, RotatingFile file, AdapterContext context) {
    this.name = context.handlerName();
    this.config = config;
    this.file = file;
    this.scheduler = context.scheduler();
    this.clock = context.clock();
    this.log = context.logger();
    this.buffer = new ArrayBlockingQueue<>(config.bufferEntries());
    this.earlyFlushAt = Math.max(1, Math.min(config.bufferEntries() / 2, 4096));
    this.dropped = context.metrics().counter(DROPPED,
        "Log entries a log handler dropped: its buffer was full, or the write failed.",
        "handler", name);
    this.written = context.metrics().counter(WRITTEN,
        "Log entries a log handler wrote.", "handler", name);
  }

  /** Schedules the first periodic flush. */
  void start() {
    scheduleNext();
  }

  /** Renders and enqueues every log entry of the batch; completes at once. */
  @Override
  public CompletionStage<Void> report(List<Instance> instances) {
    if (closed) {
      dropped.inc(instances.size());
      warn("closed; dropped " + instances.size() + " entries reported after close");
      return DONE;
    }
    int lost = 0;
    for (Instance instance : instances) {
      if (!(instance instanceof Instance.LogEntry entry)) {
        lost++;
        warn("takes logentry instances, not " + instance.getClass().getSimpleName()
            + " '" + instance.name() + "'");
        continue;
      }
      byte[] line;
      try {
        line = JsonLines.render(entry, clock.instant());
      } catch (RuntimeException e) {
        lost++;
        warn("cannot render entry of instance '" + entry.name() + "': " + e);
        continue;
      }
      if (!buffer.offer(line)) {
        lost++;
      }
    }
    if (lost > 0) {
      dropped.inc(lost);
      warn("buffer of " + config.bufferEntries() + " entries full or entries invalid; dropped "
          + lost);
    }
    if (buffer.size() >= earlyFlushAt && earlyFlushScheduled.compareAndSet(false, true)) {
      try {
        scheduler.schedule(this::earlyFlush, 0, TimeUnit.MILLISECONDS);
      } catch (RejectedExecutionException e) {
        earlyFlushScheduled.set(false);
      }
    }
    return DONE;
  }

  private void earlyFlush() {
    earlyFlushScheduled.set(false);
    flush();
  }

  private void periodicFlush() {
    try {
      flush();
    } finally {
      scheduleNext();
    }
  }

  private synchronized void scheduleNext() {
    if (closed) {
      return;
    }
    try {
      nextFlush = scheduler.schedule(
          this::periodicFlush, config.flushInterval().toNanos(), TimeUnit.NANOSECONDS);
    } catch (RejectedExecutionException e) {
      nextFlush = null; // the engine is shutting down; close() flushes what is left
    }
  }

  /**
   * Writes what is buffered when it starts (not what arrives meanwhile, so a steady stream cannot
   * keep one flush running), in batches of at most 8192 lines.
   */
  void flush() {
    synchronized (writeLock) {
      int left = buffer.size();
      while (left > 0) {
        List<byte[]> batch = new ArrayList<>(Math.min(left, 8192));
        int n = buffer.drainTo(batch, Math.min(left, 8192));
        if (n == 0) {
          break;
        }
        left -= n;
        write(batch);
      }
    }
  }

  private void write(List<byte[]> batch) {
    try {
      switch (config.sink()) {
        case FILE -> file.write(batch, config.maxFileBytes(), config.maxFiles());
        case STDOUT -> writeTo(System.out, batch);
        case STDERR -> writeTo(System.err, batch);
      }
      written.inc(batch.size());
    } catch (IOException | RuntimeException e) {
      dropped.inc(batch.size());
      warn("cannot write " + batch.size() + " entries to " + target() + ": " + e);
    }
  }

  private static void writeTo(PrintStream stream, List<byte[]> batch) throws IOException {
    int total = 0;
    for (byte[] line : batch) {
      total += line.length;
    }
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(total);
    for (byte[] line : batch) {
      bytes.write(line);
    }
    stream.write(bytes.toByteArray(), 0, total);
    stream.flush();
    if (stream.checkError()) {
      throw new IOException("the stream reported an error");
    }
  }

  private String target() {
    return config.sink() == LogConfig.Sink.FILE ? file.path().toString()
        : config.sink().name().toLowerCase(java.util.Locale.ROOT);
  }

  private void warn(String message) {
    long suppressed = logLimiter.tryAcquire(clock.millis());
    if (suppressed >= 0) {
      log.log(Level.WARNING, "log handler ''{0}'': {1}{2}", name, message,
          suppressed > 0 ? " (" + suppressed + " similar messages suppressed)" : "");
    }
  }

  /**
   * Stops the periodic flush, writes what is buffered (on the caller's thread) and closes the file
   * (the last handler of a path closes it). Later reports are dropped and counted. Idempotent.
   */
  @Override
  public void close() {
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
      if (nextFlush != null) {
        nextFlush.cancel(false);
        nextFlush = null;
      }
    }
    flush();
    if (file != null) {
      file.release();
    }
  }
}
