package io.arbiter.adapters.log;

import io.arbiter.adapters.internal.telemetry.Json;
import io.arbiter.engine.spi.Instance;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Map;
import java.util.Set;

/**
 * Renders a log entry as one JSON line: {@code
 * {"ts":"2030-01-01T00:00:00Z","severity":"INFO","name":"access","path":"/a","code":200}} and a
 * newline. {@code ts} is the entry's timestamp in ISO-8601 UTC, {@code severity} its severity text
 * as given, {@code name} the instance's name; then every variable in config order, rendered by
 * {@link Json}. A variable named {@code ts}, {@code severity} or {@code name} is written as {@code
 * var.ts} (and so on) so the line never has two values for one key. Stateless.
 */
final class JsonLines {
  private static final Set<String> RESERVED = Set.of("ts", "severity", "name");

  private JsonLines() {}

  /** The line of {@code entry}, UTF-8; {@code now} stands in for a missing timestamp. */
  static byte[] render(Instance.LogEntry entry, Instant now) {
    StringBuilder b = new StringBuilder(64 + 32 * entry.variables().size());
    b.append("{\"ts\":\"");
    Json.instant(b, entry.timestamp() == null ? now : entry.timestamp());
    b.append('"');
    b.append(",\"severity\":");
    Json.string(b, entry.severity() == null ? "INFO" : entry.severity());
    b.append(",\"name\":");
    Json.string(b, entry.name());
    for (Map.Entry<String, Object> v : entry.variables().entrySet()) {
      b.append(',');
      Json.string(b, RESERVED.contains(v.getKey()) ? "var." + v.getKey() : v.getKey());
      b.append(':');
      Json.value(b, v.getValue());
    }
    b.append("}\n");
    return b.toString().getBytes(StandardCharsets.UTF_8);
  }
}
