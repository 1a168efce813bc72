package io.arbiter.adapters.otel;

import static org.assertj.core.api.Assertions.assertThat;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.logs.Severity;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class LogRecordsTest {

  @Test
  void severityTextMapsToOtelNumbers() {
    assertThat(LogRecords.severity("info")).isEqualTo(Severity.INFO);
    assertThat(LogRecords.severity("Warning")).isEqualTo(Severity.WARN);
    assertThat(LogRecords.severity("ERR")).isEqualTo(Severity.ERROR);
    assertThat(LogRecords.severity("critical")).isEqualTo(Severity.FATAL2);
    assertThat(LogRecords.severity("EMERGENCY")).isEqualTo(Severity.FATAL4);
    assertThat(LogRecords.severity("loud")).isEqualTo(Severity.UNDEFINED_SEVERITY_NUMBER);
    assertThat(LogRecords.severity(null)).isEqualTo(Severity.UNDEFINED_SEVERITY_NUMBER);
  }

  @Test
  void variablesFlattenToTypedAttributes() {
    Map<String, Object> vars = new LinkedHashMap<>();
    vars.put("s", "x");
    vars.put("n", 7L);
    vars.put("d", 0.5);
    vars.put("b", true);
    vars.put("at", Instant.parse("2030-01-01T00:00:00Z"));
    vars.put("took", Duration.ofMillis(20));
    vars.put("headers", Map.of("host", "a", "deep", Map.of("k", 1L)));
    vars.put("ids", List.of(1L, 2L));
    vars.put("mixed", List.of(1L, "two"));
    vars.put("absent", null);

    Attributes a = LogRecords.attributes(vars);

    Map<String, Object> got = new HashMap<>();
    a.forEach((k, v) -> got.put(k.getKey(), v));
    assertThat(got).containsOnly(
        Map.entry("s", "x"),
        Map.entry("n", 7L),
        Map.entry("d", 0.5),
        Map.entry("b", true),
        Map.entry("at", "2030-01-01T00:00:00Z"),
        Map.entry("took", 0.02),
        Map.entry("headers.host", "a"),
        Map.entry("headers.deep.k", 1L),
        Map.entry("ids", List.of(1L, 2L)),
        Map.entry("mixed", "[1,\"two\"]"));
    assertThat(a.get(AttributeKey.longArrayKey("ids"))).containsExactly(1L, 2L);
  }
}
