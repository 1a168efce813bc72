package io.arbiter.accesslog;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * How the access-log queue between the streams and the engine behaves. The engine's config has no
 * section for these yet; the server takes them from its command line.
 *
 * @param capacity the most entries held in memory (default 20,000). A mapped HTTP entry as Envoy
 *     logs it (peers, TLS, timings, a few headers, filter metadata) takes about 4.5 KiB of heap
 *     (a class histogram under the load of {@code benchmarks/load/ingest.sh}: 98,700 queued
 *     entries held 450 MB), so the default needs about 90 MiB; a full queue of 100,000 left a
 *     512 MiB heap 93% live and the JVM collecting back to back (BENCHMARKS.md)
 * @param batchSize the most entries handed to the engine in one report call (default 512)
 * @param overflow what happens to an entry when the queue is full
 * @param spillDir where {@link Overflow#SPILL} writes; required for it, ignored otherwise
 * @param spillMaxBytes the most bytes the spill files may take (default 1 GiB); beyond it, new
 *     entries are dropped and counted ({@code reason="spill_full"})
 * @param maxBatchesInFlight how many report calls may be unfinished at once (default 4): a slow
 *     report handler holds the dispatcher back after this many, and the queue fills instead of the
 *     heap
 * @param linger how long the dispatcher waits for a batch to fill once its first entry is there
 *     (default 5 ms; zero: dispatch at once). Envoy sends a message of ~20 entries at a time; woken
 *     for each, the dispatcher spends a thread wake-up per message, tens of microseconds on a small
 *     VM. A full batch, or closing, ends the wait at once
 */
public record QueueSettings(
    int capacity,
    int batchSize,
    Overflow overflow,
    Path spillDir,
    long spillMaxBytes,
    int maxBatchesInFlight,
    Duration linger) {

  /** What a full queue does with the next entry. */
  public enum Overflow {
    /**
     * Drop the oldest entry in memory to make room, counted in {@code
     * arbiter_accesslog_dropped_total{reason="queue_full"}}.
     */
    DROP_OLDEST,
    /**
     * Append the entry to the spill files (and every later one, until they are replayed, so order
     * is kept), counted in {@code arbiter_accesslog_spilled_total}; replayed when the queue drains,
     * and after a restart.
     */
    SPILL
  }

  public static final int DEFAULT_CAPACITY = 20_000;
  public static final int DEFAULT_BATCH_SIZE = 512;
  public static final long DEFAULT_SPILL_MAX_BYTES = 1L << 30;
  public static final int DEFAULT_MAX_BATCHES_IN_FLIGHT = 4;
  public static final Duration DEFAULT_LINGER = Duration.ofMillis(5);

  public static final QueueSettings DEFAULT =
      new QueueSettings(DEFAULT_CAPACITY, DEFAULT_BATCH_SIZE, Overflow.DROP_OLDEST, null,
          DEFAULT_SPILL_MAX_BYTES, DEFAULT_MAX_BATCHES_IN_FLIGHT, DEFAULT_LINGER);

  /**
   * @throws IllegalArgumentException naming the bad value
   */
  public QueueSettings {
    Objects.requireNonNull(overflow, "overflow");
    if (capacity < 1) {
      throw new IllegalArgumentException("capacity must be at least 1, was " + capacity);
    }
    if (batchSize < 1) {
      throw new IllegalArgumentException("batch size must be at least 1, was " + batchSize);
    }
    if (overflow == Overflow.SPILL && spillDir == null) {
      throw new IllegalArgumentException("overflow SPILL needs a spill directory");
    }
    if (spillMaxBytes < 1024 * 1024) {
      throw new IllegalArgumentException(
          "the spill limit must be at least 1 MiB, was " + spillMaxBytes + " bytes");
    }
    Objects.requireNonNull(linger, "linger");
    if (linger.isNegative()) {
      throw new IllegalArgumentException("linger must not be negative, was " + linger);
    }
    if (maxBatchesInFlight < 1) {
      throw new IllegalArgumentException(
          "batches in flight must be at least 1, was " + maxBatchesInFlight);
    }
  }

  public QueueSettings withCapacity(int n) {
    return new QueueSettings(n, batchSize, overflow, spillDir, spillMaxBytes, maxBatchesInFlight, linger);
  }

  public QueueSettings withBatchSize(int n) {
    return new QueueSettings(capacity, n, overflow, spillDir, spillMaxBytes, maxBatchesInFlight, linger);
  }

  /** @param dir required for {@link Overflow#SPILL}; may be null for {@link Overflow#DROP_OLDEST} */
  public QueueSettings withOverflow(Overflow o, Path dir) {
    return new QueueSettings(capacity, batchSize, o, dir, spillMaxBytes, maxBatchesInFlight, linger);
  }

  public QueueSettings withSpillMaxBytes(long n) {
    return new QueueSettings(capacity, batchSize, overflow, spillDir, n, maxBatchesInFlight, linger);
  }

  public QueueSettings withLinger(Duration d) {
    return new QueueSettings(capacity, batchSize, overflow, spillDir, spillMaxBytes, maxBatchesInFlight, d);
  }

  public QueueSettings withMaxBatchesInFlight(int n) {
    return new QueueSettings(capacity, batchSize, overflow, spillDir, spillMaxBytes, n, linger);
  }
}
