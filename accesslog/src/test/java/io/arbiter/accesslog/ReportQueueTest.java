package io.arbiter.accesslog;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.arbiter.accesslog.QueueSettings.Overflow;
import io.arbiter.engine.AttributeBag;
import io.arbiter.engine.PolicyEngine;
import io.arbiter.engine.metrics.Metrics;
import io.arbiter.engine.testing.RecordingReportAdapter;
import io.arbiter.engine.testing.TestEngines;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The queue between streams and engine: overflow by either policy with a stuck or slow report
 * path, spill and replay in order, restart, flush on close; every entry accounted for.
 */
class ReportQueueTest {
  @TempDir Path dir;
  private final Metrics metrics = new Metrics();
  private final List<ReportQueue> queues = new ArrayList<>();
  private PolicyEngine engine;

  @AfterEach
  void closeAll() {
    queues.forEach(q -> q.close(Duration.ofMillis(100)));
    if (engine != null) {
      engine.close();
      engine.services().close();
    }
  }

  private static AttributeBag entry(int i) {
    return AttributeBag.builder().put("request.id", "e" + i).put("response.code", 200L).build();
  }

  private static List<AttributeBag> entries(int from, int to) {
    return IntStream.range(from, to).mapToObj(ReportQueueTest::entry).toList();
  }

  private static List<String> ids(List<AttributeBag> bags) {
    return bags.stream().map(b -> (String) b.get("request.id")).toList();
  }

  private static List<String> ids(int from, int to) {
    return IntStream.range(from, to).mapToObj(i -> "e" + i).toList();
  }

  private long count(String name, String... labels) {
    return metrics.counter(name, "", labels).getCount();
  }

  private long dropped(String reason) {
    return count("arbiter_accesslog_dropped_total", "reason", reason);
  }

  private ReportQueue start(ReportQueue.Sink sink, QueueSettings s) throws IOException {
    ReportQueue q = ReportQueue.start(sink, s, metrics);
    queues.add(q);
    return q;
  }

  /** Polls a condition (a guard against a hang, not a measurement). */
  private static void await(String what, BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting for " + what);
      }
      Thread.sleep(5);
    }
  }

  /** Records every batch; holds the first batches back until {@link #open()}. */
  static final class GatedSink implements ReportQueue.Sink {
    final List<AttributeBag> received = Collections.synchronizedList(new ArrayList<>());
    final CompletableFuture<Void> gate = new CompletableFuture<>();

    @Override
    public CompletionStage<?> report(List<AttributeBag> batch) {
      received.addAll(batch);
      return gate.isDone() ? CompletableFuture.completedFuture(null) : gate.copy();
    }

    void open() {
      gate.complete(null);
    }

    List<String> ids() {
      synchronized (received) {
        return ReportQueueTest.ids(new ArrayList<>(received));
      }
    }
  }

  private static final QueueSettings SMALL =
      QueueSettings.DEFAULT.withCapacity(10).withBatchSize(1).withMaxBatchesInFlight(1);

  @Test
  void dropOldestCountsEveryEntryAStuckReportHandlerCannotTake() throws Exception {
    RecordingReportAdapter recorder = new RecordingReportAdapter();
    engine = TestEngines.engine("""
        settings: {reportTimeout: 10m}
        handlers: [{name: stuck, adapter: recorder, params: {hang: true}}]
        instances: [{name: count, template: metric, params: {value: "1"}}]
        rules: [{name: all, actions: [{handler: stuck, instances: [count]}]}]
        """, recorder);
    ReportQueue q = ReportQueue.start(
        batch -> engine.report(batch), SMALL, engine.services().metrics());
    queues.add(q);
    Metrics m = engine.services().metrics();

    q.offer(entry(0));
    await("the first entry to reach the stuck handler",
        () -> m.counter("arbiter_reports_total", "").getCount() == 1);
    long offered = 1;
    for (int i = 1; i <= 25; i++) { // one at a time, as single-entry messages would arrive
      q.offer(entry(i));
      offered++;
    }

    assertThat(q.depth()).isEqualTo(10);
    long queueFull = m.counter("arbiter_accesslog_dropped_total", "", "reason", "queue_full").getCount();
    assertThat(queueFull).isEqualTo(15);
    assertThat(m.counter("arbiter_accesslog_dispatched_total", "").getCount()).isEqualTo(1);

    assertThat(q.close(Duration.ofMillis(200))).isFalse();
    long shutdown = m.counter("arbiter_accesslog_dropped_total", "", "reason", "shutdown").getCount();
    assertThat(shutdown).isEqualTo(10);
    assertThat(m.counter("arbiter_accesslog_dispatched_total", "").getCount() + queueFull + shutdown)
        .isEqualTo(offered);
    assertThat(recorder.batches).isEmpty();
  }

  @Test
  void dropOldestKeepsTheNewestEntriesInOrder() throws Exception {
    GatedSink sink = new GatedSink();
    ReportQueue q = start(sink, SMALL);
    q.offer(entry(0));
    await("the first batch", () -> sink.received.size() == 1);
    q.offerAll(entries(1, 31));
    assertThat(dropped("queue_full")).isEqualTo(20);

    sink.open();
    await("the queue to drain", () -> sink.received.size() == 11);
    List<String> expected = new ArrayList<>(List.of("e0"));
    expected.addAll(ids(21, 31));
    assertThat(sink.ids()).isEqualTo(expected);
    assertThat(q.close(Duration.ofSeconds(10))).isTrue();
    assertThat(count("arbiter_accesslog_dispatched_total") + dropped("queue_full")).isEqualTo(31);
  }

  @Test
  void spillKeepsEveryEntryInOrderAndReplaysWhenTheHandlerResumes() throws Exception {
    GatedSink sink = new GatedSink();
    ReportQueue q = start(sink, SMALL.withCapacity(5).withBatchSize(2)
        .withOverflow(Overflow.SPILL, dir.resolve("spill")));
    q.offer(entry(0));
    await("the first batch", () -> sink.received.size() == 1);
    q.offerAll(entries(1, 201));

    assertThat(q.depth()).isEqualTo(5);
    assertThat(count("arbiter_accesslog_spilled_total")).isEqualTo(195);
    assertThat(q.spilledPending()).isEqualTo(195);
    assertThat(spillSegments()).isNotEmpty();
    // Later entries follow the spilled ones, even when memory has room again.
    sink.open();
    q.offerAll(entries(201, 211));
    await("everything to be dispatched", () -> sink.received.size() == 211);

    assertThat(sink.ids()).isEqualTo(ids(0, 211));
    assertThat(count("arbiter_accesslog_replayed_total")).isEqualTo(count("arbiter_accesslog_spilled_total"));
    assertThat(count("arbiter_accesslog_dispatched_total")).isEqualTo(211);
    assertThat(q.spilledPending()).isZero();
    assertThat(spillSegments()).as("segments are deleted once replayed").isEmpty();
    assertThat(dropped("queue_full") + dropped("spill_full") + dropped("spill_error")).isZero();
    assertThat(q.close(Duration.ofSeconds(10))).isTrue();
  }

  @Test
  void spilledAndQueuedEntriesSurviveARestart() throws Exception {
    Path spillDir = dir.resolve("spill");
    QueueSettings settings = SMALL.withCapacity(5).withOverflow(Overflow.SPILL, spillDir);
    GatedSink stuck = new GatedSink();
    ReportQueue first = start(stuck, settings);
    first.offer(entry(0));
    await("the first batch", () -> stuck.received.size() == 1);
    first.offerAll(entries(1, 50));
    assertThatThrownBy(() -> ReportQueue.start(new GatedSink(), settings, new Metrics()))
        .isInstanceOf(IOException.class).hasMessageContaining("in use by another process");

    assertThat(first.close(Duration.ofMillis(100))).isFalse();
    assertThat(dropped("shutdown")).isZero();
    assertThat(count("arbiter_accesslog_spilled_total")).isEqualTo(49); // 44 overflowed + 5 left in memory

    GatedSink next = new GatedSink();
    next.open();
    ReportQueue second = start(next, settings);
    await("the spilled entries to be replayed", () -> next.received.size() == 49);
    assertThat(next.ids()).containsExactlyInAnyOrderElementsOf(ids(1, 50));
    assertThat(second.close(Duration.ofSeconds(10))).isTrue();
    assertThat(spillSegments()).isEmpty();
  }

  @Test
  void aRestartResumesWhereTheReplayStopped() throws Exception {
    Path spillDir = dir.resolve("spill");
    QueueSettings settings = SMALL.withCapacity(2).withBatchSize(2).withOverflow(Overflow.SPILL, spillDir);
    GatedSink stuck = new GatedSink();
    ReportQueue first = start(stuck, settings);
    first.offer(entry(0));
    await("the first batch", () -> stuck.received.size() == 1);
    first.offerAll(entries(1, 20)); // 1,2 in memory; 3..19 spilled
    first.close(Duration.ofMillis(50));

    // The second process reads part of the spill, then stops with its handler stuck again.
    GatedSink stuckAgain = new GatedSink();
    ReportQueue second = start(stuckAgain, settings);
    await("a replayed batch", () -> stuckAgain.received.size() == 2);
    second.close(Duration.ofMillis(50));

    GatedSink last = new GatedSink();
    last.open();
    ReportQueue third = start(last, settings);
    await("the rest", () -> last.received.size() + stuckAgain.received.size() == 19);
    List<String> all = new ArrayList<>(stuckAgain.ids());
    all.addAll(last.ids());
    assertThat(all).containsExactlyInAnyOrderElementsOf(ids(1, 20));
    assertThat(third.close(Duration.ofSeconds(10))).isTrue();
  }

  @Test
  void aFullSpillDropsNewEntriesAndCountsThem() throws Exception {
    GatedSink sink = new GatedSink();
    ReportQueue q = start(sink, SMALL.withCapacity(2).withSpillMaxBytes(1024 * 1024)
        .withOverflow(Overflow.SPILL, dir.resolve("spill")));
    String big = "x".repeat(100 * 1024);
    q.offer(entry(0));
    await("the first batch", () -> sink.received.size() == 1);
    int offered = 1;
    for (int i = 1; i <= 20; i++) {
      q.offer(AttributeBag.builder().put("request.id", "e" + i).put("request.body", big).build());
      offered++;
    }
    long spilled = count("arbiter_accesslog_spilled_total");
    assertThat(spilled).isBetween(8L, 10L); // 1 MiB holds ten 100 KiB records, less their headers
    assertThat(dropped("spill_full")).isEqualTo(offered - 1 - 2 - spilled);

    sink.open();
    long expected = offered - dropped("spill_full");
    await("the rest to be dispatched", () -> sink.received.size() == expected);
    assertThat(q.close(Duration.ofSeconds(10))).isTrue();
  }

  @Test
  void closeFlushesEverythingQueuedThroughASlowHandler() throws Exception {
    ScheduledExecutorService slow = Executors.newSingleThreadScheduledExecutor();
    try {
      List<AttributeBag> received = Collections.synchronizedList(new ArrayList<>());
      ReportQueue q = start(batch -> {
        CompletableFuture<Void> done = new CompletableFuture<>();
        slow.schedule(() -> {
          received.addAll(batch);
          done.complete(null);
        }, 2, TimeUnit.MILLISECONDS);
        return done;
      }, QueueSettings.DEFAULT.withBatchSize(16));
      q.offerAll(entries(0, 500));

      assertThat(q.close(Duration.ofSeconds(30))).isTrue();
      assertThat(received).hasSize(500);
      assertThat(ids(received)).containsExactlyInAnyOrderElementsOf(ids(0, 500));
      assertThat(q.depth()).isZero();

      q.offer(entry(500));
      assertThat(dropped("shutdown")).isEqualTo(1);
      assertThat(q.close(Duration.ofSeconds(1))).isTrue(); // idempotent
    } finally {
      slow.shutdownNow();
    }
  }

  @Test
  void engineReportsEveryEntryToItsHandlers() throws Exception {
    RecordingReportAdapter recorder = new RecordingReportAdapter();
    engine = TestEngines.engine("""
        handlers: [{name: sink, adapter: recorder}]
        instances: [{name: access, template: logentry, params: {variables: {id: request.id}}}]
        rules: [{name: all, actions: [{handler: sink, instances: [access]}]}]
        """, recorder);
    ReportQueue q = ReportQueue.start(engine, QueueSettings.DEFAULT.withBatchSize(7));
    queues.add(q);
    q.offerAll(entries(0, 100));
    assertThat(q.close(Duration.ofSeconds(10))).isTrue();
    assertThat(recorder.all()).hasSize(100);
    assertThat(recorder.batches).allSatisfy(b -> assertThat(b.size()).isLessThanOrEqualTo(7));
    assertThat(recorder.all()).extracting(i -> ((io.arbiter.engine.spi.Instance.LogEntry) i).variables().get("id"))
        .containsExactlyElementsOf(ids(0, 100));
  }

  /** Records the size of every batch. */
  static final class BatchSizes implements ReportQueue.Sink {
    final List<Integer> sizes = Collections.synchronizedList(new ArrayList<>());
    final java.util.concurrent.atomic.AtomicInteger entries = new java.util.concurrent.atomic.AtomicInteger();

    @Override
    public CompletionStage<?> report(List<AttributeBag> batch) {
      sizes.add(batch.size());
      entries.addAndGet(batch.size());
      return CompletableFuture.completedFuture(null);
    }
  }

  /** Messages offered one by one while the dispatcher lingers travel in one batch. */
  @Test
  void lingerGathersMessagesIntoOneBatch() throws Exception {
    BatchSizes sink = new BatchSizes();
    ReportQueue q = start(sink, QueueSettings.DEFAULT.withBatchSize(100).withLinger(Duration.ofSeconds(2)));
    for (int m = 0; m < 10; m++) {
      q.offerAll(entries(m * 3, m * 3 + 3));
    }
    await("30 entries", () -> sink.entries.get() == 30);
    assertThat(sink.sizes).containsExactly(30);
  }

  /** A full batch does not wait for the linger to end; neither does closing. */
  @Test
  void aFullBatchAndClosingEndTheLinger() throws Exception {
    BatchSizes sink = new BatchSizes();
    ReportQueue q = start(sink, QueueSettings.DEFAULT.withBatchSize(4).withLinger(Duration.ofHours(1)));
    q.offerAll(entries(0, 2));
    q.offerAll(entries(2, 4));
    await("a full batch", () -> sink.entries.get() == 4);
    q.offerAll(entries(4, 5));
    assertThat(q.close(Duration.ofSeconds(10))).isTrue();
    assertThat(sink.entries.get()).isEqualTo(5);
    assertThat(sink.sizes).containsExactly(4, 1);
  }

  @Test
  void settingsAreChecked() {
    assertThatThrownBy(() -> QueueSettings.DEFAULT.withLinger(Duration.ofMillis(-1)))
        .hasMessageContaining("linger");
    assertThatThrownBy(() -> QueueSettings.DEFAULT.withCapacity(0)).hasMessageContaining("capacity");
    assertThatThrownBy(() -> QueueSettings.DEFAULT.withOverflow(Overflow.SPILL, null))
        .hasMessageContaining("spill directory");
    assertThatThrownBy(() -> QueueSettings.DEFAULT.withSpillMaxBytes(10)).hasMessageContaining("1 MiB");
  }

  private List<Path> spillSegments() throws IOException {
    Path d = dir.resolve("spill");
    if (!Files.isDirectory(d)) {
      return List.of();
    }
    try (Stream<Path> s = Files.list(d)) {
      return s.filter(p -> p.getFileName().toString().endsWith(".seg")).toList();
    }
  }
}
