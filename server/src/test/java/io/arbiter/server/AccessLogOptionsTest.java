package io.arbiter.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.arbiter.accesslog.AccessLogs;
import io.arbiter.accesslog.QueueSettings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The {@code serve} options of the access-log queue and the OTLP mapping. */
class AccessLogOptionsTest {
  @TempDir Path dir;

  @Test
  void defaults() {
    AccessLogs.Options o = Main.accessLogOptions(Map.of());
    assertThat(o.queue()).isEqualTo(QueueSettings.DEFAULT);
    assertThat(o.queue().capacity()).isEqualTo(20_000);
    assertThat(o.queue().batchSize()).isEqualTo(512);
    assertThat(o.queue().overflow()).isEqualTo(QueueSettings.Overflow.DROP_OLDEST);
  }

  @Test
  void everyOption() throws Exception {
    Path mapping = dir.resolve("otlp.yaml");
    Files.writeString(mapping, "status: response.code\n");
    AccessLogs.Options o = Main.accessLogOptions(Map.of(
        "accesslog-queue", "20_000",
        "accesslog-batch", "128",
        "accesslog-overflow", "spill",
        "accesslog-spill-dir", dir.resolve("spill").toString(),
        "accesslog-spill-max", "256m",
        "otlp-mapping", mapping.toString()));
    assertThat(o.queue()).isEqualTo(new QueueSettings(20_000, 128, QueueSettings.Overflow.SPILL,
        dir.resolve("spill"), 256L * 1024 * 1024, QueueSettings.DEFAULT_MAX_BATCHES_IN_FLIGHT,
        QueueSettings.DEFAULT_LINGER));
    assertThat(o.mapping().table()).containsEntry("status", List.of("response.code"));
  }

  @Test
  void mistakesAreUsageErrors() throws Exception {
    assertThatThrownBy(() -> Main.accessLogOptions(Map.of("accesslog-queue", "0")))
        .hasMessageContaining("--accesslog-queue must be a positive number");
    assertThatThrownBy(() -> Main.accessLogOptions(Map.of("accesslog-overflow", "BLOCK")))
        .hasMessageContaining("DROP_OLDEST or SPILL");
    assertThatThrownBy(() -> Main.accessLogOptions(Map.of("accesslog-overflow", "SPILL")))
        .hasMessageContaining("needs --accesslog-spill-dir");
    assertThatThrownBy(() -> Main.accessLogOptions(Map.of("accesslog-spill-dir", "/tmp/x")))
        .hasMessageContaining("need --accesslog-overflow SPILL");
    assertThatThrownBy(() -> Main.accessLogOptions(Map.of("accesslog-overflow", "SPILL",
        "accesslog-spill-dir", "/tmp/x", "accesslog-spill-max", "lots")))
        .hasMessageContaining("byte count");
    assertThatThrownBy(() -> Main.accessLogOptions(Map.of("accesslog-overflow", "SPILL",
        "accesslog-spill-dir", "/tmp/x", "accesslog-spill-max", "10k")))
        .hasMessageContaining("at least 1 MiB");
    Path bad = dir.resolve("bad.yaml");
    Files.writeString(bad, "status: response.nope\n");
    assertThatThrownBy(() -> Main.accessLogOptions(Map.of("otlp-mapping", bad.toString())))
        .hasMessageContaining("--otlp-mapping").hasMessageContaining("response.nope");
    assertThatThrownBy(() -> Main.accessLogOptions(Map.of("otlp-mapping", dir.resolve("none.yaml").toString())))
        .hasMessageContaining("cannot read");
  }

  @Test
  void serveRejectsABadOptionWithExitCodeTwo() {
    var err = new java.io.ByteArrayOutputStream();
    int code = Main.run(new String[] {"serve", "--accesslog-overflow", "SPILL"},
        new java.io.PrintStream(new java.io.ByteArrayOutputStream()), new java.io.PrintStream(err));
    assertThat(code).isEqualTo(2);
    assertThat(err.toString()).contains("needs --accesslog-spill-dir");
  }
}
