package io.arbiter.ratelimit.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.envoyproxy.envoy.service.ratelimit.v3.RateLimitResponse.RateLimit.Unit;
import io.envoyproxy.envoy.type.v3.RateLimitUnit;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class UnitsTest {
  @Test
  void overrideUnitsAreEnvoysLengths() {
    assertThat(Units.overrideSeconds(RateLimitUnit.SECOND_VALUE)).isEqualTo(1);
    assertThat(Units.overrideSeconds(RateLimitUnit.MINUTE_VALUE)).isEqualTo(60);
    assertThat(Units.overrideSeconds(RateLimitUnit.HOUR_VALUE)).isEqualTo(3600);
    assertThat(Units.overrideSeconds(RateLimitUnit.DAY_VALUE)).isEqualTo(86_400);
    assertThat(Units.overrideSeconds(RateLimitUnit.MONTH_VALUE)).isEqualTo(30 * 86_400);
    assertThat(Units.overrideSeconds(RateLimitUnit.YEAR_VALUE)).isEqualTo(365 * 86_400);
    assertThat(Units.overrideSeconds(7)).isEqualTo(7 * 86_400); // WEEK, in the response's enum
    assertThat(Units.overrideSeconds(RateLimitUnit.UNKNOWN_VALUE)).isZero();
    assertThat(Units.overrideSeconds(42)).isZero();
  }

  @Test
  void exactWindowsGetTheirUnit() {
    assertThat(Units.closest(Duration.ofSeconds(1))).isEqualTo(Unit.SECOND);
    assertThat(Units.closest(Duration.ofMinutes(1))).isEqualTo(Unit.MINUTE);
    assertThat(Units.closest(Duration.ofHours(1))).isEqualTo(Unit.HOUR);
    assertThat(Units.closest(Duration.ofDays(1))).isEqualTo(Unit.DAY);
    assertThat(Units.closest(Duration.ofDays(7))).isEqualTo(Unit.WEEK);
    assertThat(Units.closest(Duration.ofDays(30))).isEqualTo(Unit.MONTH);
    assertThat(Units.closest(Duration.ofDays(365))).isEqualTo(Unit.YEAR);
    for (Unit u : new Unit[] {Unit.SECOND, Unit.MINUTE, Unit.HOUR, Unit.DAY, Unit.WEEK, Unit.MONTH,
        Unit.YEAR}) {
      assertThat(Units.exact(Duration.ofSeconds(Units.seconds(u)))).as(u.name()).isTrue();
    }
    assertThat(Units.seconds(Unit.UNKNOWN)).isZero();
  }

  @Test
  void otherWindowsGetTheNearestUnitOnALogScale() {
    assertThat(Units.closest(Duration.ofMillis(500))).isEqualTo(Unit.SECOND);
    assertThat(Units.closest(Duration.ofSeconds(7))).isEqualTo(Unit.SECOND); // 7 < sqrt(60)=7.7
    assertThat(Units.closest(Duration.ofSeconds(8))).isEqualTo(Unit.MINUTE);
    assertThat(Units.closest(Duration.ofSeconds(90))).isEqualTo(Unit.MINUTE);
    assertThat(Units.closest(Duration.ofMinutes(5))).isEqualTo(Unit.MINUTE); // 5x vs 12x
    assertThat(Units.closest(Duration.ofMinutes(10))).isEqualTo(Unit.HOUR); // 10x vs 6x
    assertThat(Units.closest(Duration.ofMinutes(30))).isEqualTo(Unit.HOUR);
    assertThat(Units.closest(Duration.ofHours(23))).isEqualTo(Unit.DAY);
    assertThat(Units.closest(Duration.ofDays(1000))).isEqualTo(Unit.YEAR);
    assertThat(Units.exact(Duration.ofSeconds(90))).isFalse();
    assertThat(Units.exact(Duration.ofMillis(60_500))).isFalse();
  }

  @Test
  void aWindowMustBePositive() {
    assertThatThrownBy(() -> Units.closest(Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("PT0S");
  }
}
