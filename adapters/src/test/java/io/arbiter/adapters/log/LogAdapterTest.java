package io.arbiter.adapters.log;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.arbiter.adapters.testing.ManualScheduler;
import io.arbiter.engine.testing.MutableClock;
import io.arbiter.adapters.testing.Stages;
import io.arbiter.adapters.testing.TestContext;
import io.arbiter.adapters.testing.YamlParams;
import io.arbiter.engine.metrics.Metrics;
import io.arbiter.engine.spi.Instance;
import io.arbiter.engine.spi.ParamsException;
import io.arbiter.engine.spi.ReportHandler;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The log adapter: the exact lines, the buffer and its bound, rotation, close. */
class LogAdapterTest {
  private static final Instant T = Instant.parse("2030-01-01T12:00:00.250Z");

  @TempDir Path dir;
  private final ManualScheduler scheduler = new ManualScheduler();
  private TestContext ctx;

  private TestContext ctx() {
    if (ctx == null) {
      ctx = new TestContext("json-log", dir, new MutableClock(), scheduler, null, new Metrics());
    }
    return ctx;
  }

  private ReportHandler handler(String yaml) {
    return (ReportHandler) new LogAdapter().create(YamlParams.of(yaml), ctx());
  }

  private static Instance.LogEntry entry(String severity, Object... vars) {
    Map<String, Object> v = new LinkedHashMap<>();
    for (int i = 0; i < vars.length; i += 2) {
      v.put((String) vars[i], vars[i + 1]);
    }
    return new Instance.LogEntry("access", severity, T, v);
  }

  private List<String> lines(String file) throws IOException {
    Path p = dir.resolve(file);
    return Files.exists(p) ? Files.readAllLines(p) : List.of();
  }

  private long dropped() {
    return ctx().counter("arbiter_log_dropped_total{handler=\"json-log\"}");
  }

  @Test
  void writesOneJsonLinePerEntry() throws IOException {
    ReportHandler h = handler("{sink: file, path: access.log}");
    Map<String, Object> headers = new LinkedHashMap<>();
    headers.put("user-agent", "curl/8");
    headers.put("x-list", List.of(1L, "two", true));

    Stages.value(h.report(List.of(
        entry("INFO", "path", "/a", "code", 200L, "user", "bob"),
        entry("ERROR",
            "text", "say \"hi\"\\\n\tnow\u0001 ü",
            "ratio", 0.5,
            "nan", Double.NaN,
            "ok", false,
            "missing", null,
            "at", Instant.parse("2030-01-01T00:00:00Z"),
            "took", Duration.ofMillis(1250),
            "headers", headers,
            "name", "shadowed",
            "bytes", new byte[] {1, 2, 3}))));
    scheduler.runPending();

    assertThat(lines("access.log")).containsExactly(
        "{\"ts\":\"2030-01-01T12:00:00.250Z\",\"severity\":\"INFO\",\"name\":\"access\","
            + "\"path\":\"/a\",\"code\":200,\"user\":\"bob\"}",
        "{\"ts\":\"2030-01-01T12:00:00.250Z\",\"severity\":\"ERROR\",\"name\":\"access\","
            + "\"text\":\"say \\\"hi\\\"\\\\\\n\\tnow\\u0001 ü\",\"ratio\":0.5,\"nan\":\"NaN\","
            + "\"ok\":false,\"missing\":null,\"at\":\"2030-01-01T00:00:00Z\",\"took\":1.25,"
            + "\"headers\":{\"user-agent\":\"curl/8\",\"x-list\":[1,\"two\",true]},"
            + "\"var.name\":\"shadowed\",\"bytes\":\"AQID\"}");
    assertThat(ctx().counter("arbiter_log_entries_total{handler=\"json-log\"}")).isEqualTo(2);
  }

  @Test
  void reportOnlyBuffersAndTheScheduledFlushWrites() throws IOException {
    ReportHandler h = handler("{sink: file, path: logs/access.log, flushInterval: 250ms}");

    Stages.value(h.report(List.of(entry("INFO", "n", 1L))));

    assertThat(lines("logs/access.log")).isEmpty();
    assertThat(scheduler.pending()).singleElement()
        .satisfies(t -> assertThat(t.delay()).isEqualTo(Duration.ofMillis(250)));
    scheduler.runPending();
    assertThat(lines("logs/access.log")).hasSize(1);
    assertThat(scheduler.pending()).as("the next flush is scheduled").hasSize(1);
  }

  @Test
  void entriesBeyondTheBufferAreDroppedAndCounted() throws IOException {
    ReportHandler h = handler("{sink: file, path: access.log, bufferEntries: 3}");

    Stages.value(h.report(IntStream.range(0, 5).mapToObj(i -> (Instance) entry("INFO", "n", (long) i)).toList()));

    assertThat(dropped()).isEqualTo(2);
    scheduler.runPending();
    assertThat(lines("access.log")).hasSize(3).allSatisfy(l -> assertThat(l).containsPattern("\"n\":[012]}"));
    assertThat(ctx().logger().messages(System.Logger.Level.WARNING)).singleElement().asString()
        .contains("buffer of 3 entries full or entries invalid; dropped 2");
  }

  @Test
  void aBufferHalfFullIsFlushedWithoutWaitingForTheInterval() throws IOException {
    ReportHandler h = handler("{sink: file, path: access.log, bufferEntries: 4, flushInterval: 1h}");

    Stages.value(h.report(List.of(entry("INFO"), entry("INFO"))));

    assertThat(scheduler.pending()).extracting(ManualScheduler.Task::delay)
        .containsExactlyInAnyOrder(Duration.ofHours(1), Duration.ZERO);
    scheduler.runPending();
    assertThat(lines("access.log")).hasSize(2);
  }

  @Test
  void rotatesBySizeKeepingMaxFiles() throws IOException {
    ReportHandler h = handler("{sink: file, path: access.log, maxFileBytes: 200, maxFiles: 2}");
    // Each line is 91 bytes with its newline: two fit in a file, the third starts a new one.
    List<Instance> entries = new ArrayList<>();
    for (int i = 0; i < 7; i++) {
      entries.add(entry("INFO", "n", (long) i, "pad", "xxxxxxxxxx"));
    }

    Stages.value(h.report(entries));
    scheduler.runPending();

    assertThat(Files.size(dir.resolve("access.log"))).isLessThanOrEqualTo(200);
    assertThat(lines("access.log")).hasSize(1).allSatisfy(l -> assertThat(l).contains("\"n\":6"));
    assertThat(lines("access.log.1")).hasSize(2)
        .satisfiesExactly(l -> assertThat(l).contains("\"n\":4"), l -> assertThat(l).contains("\"n\":5"));
    assertThat(lines("access.log.2")).hasSize(2)
        .satisfiesExactly(l -> assertThat(l).contains("\"n\":2"), l -> assertThat(l).contains("\"n\":3"));
    assertThat(dir.resolve("access.log.3")).doesNotExist();
  }

  @Test
  void rotationCountsWhatTheFileHeldWhenOpened() throws IOException {
    Files.writeString(dir.resolve("access.log"), "x".repeat(150) + "\n");
    ReportHandler h = handler("{sink: file, path: access.log, maxFileBytes: 200, maxFiles: 1}");

    Stages.value(h.report(List.of(entry("INFO", "pad", "xxxxxxxxxxxxxxxxxxxxxxxxxx"))));
    scheduler.runPending();

    assertThat(lines("access.log.1")).containsExactly("x".repeat(150));
    assertThat(lines("access.log")).hasSize(1);
  }

  @Test
  void withMaxFilesZeroAFullFileStartsOver() throws IOException {
    ReportHandler h = handler("{sink: file, path: access.log, maxFileBytes: 100, maxFiles: 0}");

    Stages.value(h.report(List.of(entry("INFO", "n", 1L), entry("INFO", "n", 2L))));
    scheduler.runPending();

    assertThat(lines("access.log")).singleElement().asString().contains("\"n\":2");
    assertThat(dir.resolve("access.log.1")).doesNotExist();
  }

  @Test
  void closeFlushesAndLaterEntriesAreCountedAsDropped() throws IOException {
    ReportHandler h = handler("{sink: file, path: access.log}");
    Stages.value(h.report(List.of(entry("INFO"), entry("WARN"))));

    h.close();

    assertThat(lines("access.log")).hasSize(2);
    assertThat(scheduler.pending()).isEmpty();
    Stages.value(h.report(List.of(entry("INFO"))));
    assertThat(dropped()).isEqualTo(1);
    h.close();
    assertThat(lines("access.log")).hasSize(2);
  }

  @Test
  void aReloadKeepsWritingTheSameFileThroughBothHandlers() throws IOException {
    String yaml = "{sink: file, path: access.log, maxFileBytes: 1000}";
    ReportHandler old = handler(yaml);
    Stages.value(old.report(List.of(entry("INFO", "n", 1L))));

    ReportHandler rebuilt = handler("{sink: file, path: ./access.log, maxFileBytes: 2000}");
    Stages.value(rebuilt.report(List.of(entry("INFO", "n", 2L))));
    old.close();
    Stages.value(rebuilt.report(List.of(entry("INFO", "n", 3L))));
    rebuilt.close();

    assertThat(lines("access.log")).hasSize(3);
  }

  @Test
  void writesToStdout() {
    PrintStream original = System.out;
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
    try {
      ReportHandler h = handler("{sink: stdout}");
      Stages.value(h.report(List.of(entry("INFO", "path", "/"))));
      h.close();
    } finally {
      System.setOut(original);
    }
    assertThat(captured.toString(StandardCharsets.UTF_8)).isEqualTo(
        "{\"ts\":\"2030-01-01T12:00:00.250Z\",\"severity\":\"INFO\",\"name\":\"access\",\"path\":\"/\"}\n");
  }

  @Test
  void aFileThatCannotBeOpenedIsAConfigError() throws IOException {
    Files.writeString(dir.resolve("blocker"), "a file, not a directory");

    assertThat(problems("{sink: file, path: blocker/access.log}")).singleElement().asString()
        .startsWith("path: cannot open " + dir.resolve("blocker/access.log") + " for appending");
  }

  @Test
  void everyBadSettingIsReportedAtOnce() {
    assertThat(problems(
        "{sink: file, maxFileBytes: 0, maxFiles: -1, bufferEntries: 0, flushInterval: 1ms, colour: red}"))
        .containsExactly(
            "path: required for sink FILE",
            "maxFileBytes: must be between 1 and 9223372036854775807, was 0",
            "maxFiles: must be between 0 and 1000, was -1",
            "bufferEntries: must be between 1 and 10000000, was 0",
            "flushInterval: must be at least 10ms, was 1ms",
            "colour: unknown setting (known: [sink, path, maxFileBytes, maxFiles, bufferEntries,"
                + " flushInterval])");
    assertThat(problems("{sink: syslog}")).containsExactly(
        "sink: 'syslog' is not one of [STDOUT, STDERR, FILE]");
    assertThat(problems("{sink: stderr, path: a.log}")).containsExactly(
        "path: only a FILE sink has a path (sink is STDERR)");
  }

  private List<String> problems(String yaml) {
    Throwable t = catchThrowable(() -> new LogAdapter().create(YamlParams.of(yaml), ctx()));
    assertThat(t).isInstanceOf(ParamsException.class);
    return ((ParamsException) t).problems().stream().map(Object::toString).toList();
  }
}
