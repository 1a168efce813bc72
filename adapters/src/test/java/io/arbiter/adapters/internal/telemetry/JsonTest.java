package io.arbiter.adapters.internal.telemetry;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class JsonTest {

  private static String json(Object v) {
    StringBuilder b = new StringBuilder();
    Json.value(b, v);
    return b.toString();
  }

  private enum CelNull {
    NULL_VALUE
  }

  @Test
  void scalars() {
    assertThat(json(null)).isEqualTo("null");
    assertThat(json(CelNull.NULL_VALUE)).isEqualTo("null");
    assertThat(json(true)).isEqualTo("true");
    assertThat(json(-42L)).isEqualTo("-42");
    assertThat(json(0.5)).isEqualTo("0.5");
    assertThat(json(1e-7)).isEqualTo("1.0E-7");
    assertThat(json(Double.NaN)).isEqualTo("\"NaN\"");
    assertThat(json(Double.NEGATIVE_INFINITY)).isEqualTo("\"-Infinity\"");
    assertThat(json(new BigDecimal("12.50"))).isEqualTo("12.50");
    assertThat(json(Optional.of("x"))).isEqualTo("\"x\"");
    assertThat(json(Optional.empty())).isEqualTo("null");
  }

  @Test
  void timestampsAreIsoAndDurationsExactSeconds() {
    assertThat(json(Instant.parse("2030-01-01T00:00:00.000001Z")))
        .isEqualTo("\"2030-01-01T00:00:00.000001Z\"");
    assertThat(json(Duration.ofMillis(250))).isEqualTo("0.25");
    assertThat(json(Duration.ofSeconds(3))).isEqualTo("3");
    assertThat(json(Duration.ofNanos(1))).isEqualTo("0.000000001");
    assertThat(json(Duration.ofMillis(-1500))).isEqualTo("-1.5");
  }

  @Test
  void stringsAreEscapedAndStayValidUtf8() {
    assertThat(json("a\"b\\c\n\r\t\u0000\u001f é 😀")).isEqualTo(
        "\"a\\\"b\\\\c\\n\\r\\t\\u0000\\u001f é 😀\"");
    assertThat(json("lone \ud800 surrogate")).isEqualTo("\"lone \\ud800 surrogate\"");
  }

  @Test
  void mapsAndListsNest() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("b", List.of(1L, Map.of("c", false)));
    m.put("a", new byte[] {(byte) 0xff});
    assertThat(json(m)).isEqualTo("{\"b\":[1,{\"c\":false}],\"a\":\"/w==\"}");
    assertThat(json(List.of())).isEqualTo("[]");
    assertThat(json(new Object[] {"x", 2L})).isEqualTo("[\"x\",2]");
  }
}
