package io.arbiter.accesslog.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.arbiter.engine.AttributeBag;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SpillFileTest {
  @TempDir Path dir;

  private static AttributeBag entry(int i) {
    return AttributeBag.builder().put("request.id", "e" + i).put("request.body", "x".repeat(1000)).build();
  }

  private static List<String> ids(List<AttributeBag> bags) {
    return bags.stream().map(b -> (String) b.get("request.id")).toList();
  }

  private List<Path> segments() throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.filter(p -> p.getFileName().toString().endsWith(".seg")).sorted().toList();
    }
  }

  @Test
  void readsBackInOrderAcrossSegmentsAndDeletesThemAsItGoes() throws Exception {
    try (SpillFile spill = SpillFile.open(dir, 1024 * 1024)) { // 128 KiB segments
      for (int i = 0; i < 500; i++) {
        assertThat(spill.append(entry(i))).isTrue();
      }
      assertThat(spill.pendingEntries()).isEqualTo(500);
      int segments = segments().size();
      assertThat(segments).isGreaterThan(3);

      List<AttributeBag> first = spill.read(200);
      assertThat(ids(first)).isEqualTo(range(0, 200));
      assertThat(segments().size()).isLessThan(segments);
      spill.append(entry(500));
      List<AttributeBag> rest = spill.read(1000);
      assertThat(ids(rest)).isEqualTo(range(200, 501));
      assertThat(spill.pendingEntries()).isZero();
      assertThat(spill.bytes()).isZero();
      assertThat(segments()).isEmpty();
      assertThat(spill.takeLost()).isZero();
    }
  }

  @Test
  void refusesAppendsPastItsLimit() throws Exception {
    try (SpillFile spill = SpillFile.open(dir, 10 * 1024)) {
      int accepted = 0;
      while (spill.append(entry(accepted))) {
        accepted++;
      }
      assertThat(accepted).isEqualTo(9); // records of ~1,045 bytes in 10 KiB
      assertThat(spill.bytes()).isLessThanOrEqualTo(10 * 1024);
      spill.read(1);
      assertThat(spill.append(entry(99))).as("space is freed a segment at a time").isFalse();
      spill.read(100);
      assertThat(spill.append(entry(99))).isTrue();
    }
  }

  @Test
  void aRestartReplaysWhatWasLeftFromWhereReadingStopped() throws Exception {
    try (SpillFile spill = SpillFile.open(dir, 1024 * 1024)) {
      for (int i = 0; i < 50; i++) {
        spill.append(entry(i));
      }
      assertThat(ids(spill.read(20))).isEqualTo(range(0, 20));
    }
    try (SpillFile spill = SpillFile.open(dir, 1024 * 1024)) {
      assertThat(spill.pendingEntries()).isEqualTo(30);
      spill.append(entry(50));
      assertThat(ids(spill.read(100))).isEqualTo(range(20, 51));
    }
    try (SpillFile spill = SpillFile.open(dir, 1024 * 1024)) {
      assertThat(spill.pendingEntries()).isZero();
    }
  }

  @Test
  void aTornTailIsCutOffAndCounted() throws Exception {
    try (SpillFile spill = SpillFile.open(dir, 1024 * 1024)) {
      for (int i = 0; i < 10; i++) {
        spill.append(entry(i));
      }
    }
    Path seg = segments().get(0);
    try (FileChannel ch = FileChannel.open(seg, StandardOpenOption.WRITE)) {
      ch.truncate(Files.size(seg) - 10); // the last record, half written
    }
    try (SpillFile spill = SpillFile.open(dir, 1024 * 1024)) {
      assertThat(spill.takeLost()).isEqualTo(1);
      assertThat(ids(spill.read(100))).isEqualTo(range(0, 9));
    }
  }

  @Test
  void aCorruptRecordDropsTheRestOfItsSegment() throws Exception {
    try (SpillFile spill = SpillFile.open(dir, 1024 * 1024)) {
      for (int i = 0; i < 10; i++) {
        spill.append(entry(i));
      }
      spill.flush();
      Path seg = segments().get(0);
      byte[] bytes = Files.readAllBytes(seg);
      int recordSize = bytes.length / 10;
      bytes[3 * recordSize + 100] ^= 0x55; // inside the fourth record's data: its CRC fails
      Files.write(seg, bytes);
      assertThat(ids(spill.read(100))).isEqualTo(range(0, 3));
      assertThat(spill.takeLost()).isEqualTo(7);
      assertThat(spill.pendingEntries()).isZero();
      assertThat(spill.append(entry(10))).isTrue();
      assertThat(ids(spill.read(100))).containsExactly("e10");
    }
  }

  @Test
  void oneDirectoryOneStore() throws Exception {
    try (SpillFile spill = SpillFile.open(dir, 1024 * 1024)) {
      assertThat(spill.pendingEntries()).isZero();
      assertThatThrownBy(() -> SpillFile.open(dir, 1024 * 1024))
          .isInstanceOf(IOException.class).hasMessageContaining("in use");
    }
    SpillFile.open(dir, 1024 * 1024).close(); // released on close
  }

  @Test
  void theCodecKeepsEveryValueType() throws Exception {
    AttributeBag bag = AttributeBag.builder()
        .put("source.ip", "10.0.0.1")
        .put("source.port", 43210L)
        .put("connection.mtls", true)
        .put("request.time", Instant.ofEpochSecond(1_700_000_000L, 123_456_789))
        .put("response.duration", Duration.ofNanos(12_345_678_901L))
        .put("request.headers", Map.of("x-user", "zoë", "accept", "*/*"))
        .put("context.metadata", Map.of("envoy.filters.http.ext_authz",
            Map.of("decision_id", "abc", "n", 2.5d, "ok", false, "rules", List.of("a", "b"))))
        .build();
    BagCodec codec = new BagCodec();
    assertThat(BagCodec.decode(codec.encode(bag)).asMap()).isEqualTo(bag.asMap());
    byte[] truncated = java.util.Arrays.copyOf(codec.encode(bag), 20);
    assertThatThrownBy(() -> BagCodec.decode(truncated)).isInstanceOf(IOException.class);
  }

  private static List<String> range(int from, int to) {
    List<String> out = new ArrayList<>();
    for (int i = from; i < to; i++) {
      out.add("e" + i);
    }
    return out;
  }
}
