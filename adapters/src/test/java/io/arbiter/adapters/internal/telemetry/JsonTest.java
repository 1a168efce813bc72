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

  /** The hand-written renderings agree with the JDK's: Instant.toString and BigDecimal seconds. */
  @Test
  void timestampsAndDurationsMatchTheJdkOnRandomValues() {
    java.util.Random random = new java.util.Random(7);
    List<Instant> instants = new java.util.ArrayList<>(List.of(
        Instant.EPOCH, Instant.parse("0000-01-01T00:00:00Z"), Instant.parse("9999-12-31T23:59:59.999999999Z"),
        Instant.parse("1969-12-31T23:59:59.5Z"), Instant.parse("2030-01-01T00:00:00.120Z"),
        Instant.MIN, Instant.MAX, Instant.parse("+10000-01-01T00:00:00Z")));
    List<Duration> durations = new java.util.ArrayList<>(List.of(
        Duration.ZERO, Duration.ofNanos(-1), Duration.ofSeconds(-1), Duration.ofSeconds(Long.MIN_VALUE),
        Duration.ofSeconds(Long.MIN_VALUE, 1), Duration.ofSeconds(Long.MAX_VALUE, 999_999_999)));
    for (int i = 0; i < 20_000; i++) {
      long second = random.nextLong(-70_000_000_000L, 260_000_000_000L);
      int nano = switch (i % 4) {
        case 0 -> 0;
        case 1 -> random.nextInt(1000) * 1_000_000;
        case 2 -> random.nextInt(1_000_000) * 1_000;
        default -> random.nextInt(1_000_000_000);
      };
      instants.add(Instant.ofEpochSecond(second, nano));
      durations.add(Duration.ofSeconds(random.nextLong(-100_000, 100_000), nano));
    }
    for (Instant t : instants) {
      assertThat(json(t)).as("%s", t).isEqualTo("\"" + t + "\"");
    }
    for (Duration d : durations) {
      String exact = BigDecimal.valueOf(d.getSeconds()).add(BigDecimal.valueOf(d.getNano(), 9))
          .stripTrailingZeros().toPlainString();
      assertThat(json(d)).as("%s", d).isEqualTo(exact);
    }
  }

  @Test
  void stringsAreEscapedAndStayValidUtf8() {
    assertThat(json("a\"b\\c\n\r\t\u0000\u001f é 😀")).isEqualTo(
        "\"a\\\"b\\\\c\\n\\r\\t\\u0000\\u001f é 😀\"");
    assertThat(json("lone \ud800 surrogate")).isEqualTo("\"lone \\ud800 surrogate\"");
    assertThat(json("\udc00")).isEqualTo("\"\\udc00\"");
    assertThat(json("end \ud83d")).isEqualTo("\"end \\ud83d\"");
    assertThat(json("plain text")).isEqualTo("\"plain text\"");
    assertThat(json("")).isEqualTo("\"\"");
    assertThat(json(Integer.MIN_VALUE)).isEqualTo("-2147483648");
    assertThat(json(Long.MAX_VALUE)).isEqualTo("9223372036854775807");
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
