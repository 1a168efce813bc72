package io.arbiter.engine.spi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class LogLimiterTest {
  @Test
  void passesTheFirstNPerSecondAndReportsWhatItHeldBack() {
    LogLimiter limiter = new LogLimiter(2);
    assertThat(limiter.tryAcquire(1_000)).isZero();
    assertThat(limiter.tryAcquire(1_100)).isZero();
    assertThat(limiter.tryAcquire(1_200)).isEqualTo(-1);
    assertThat(limiter.tryAcquire(1_999)).isEqualTo(-1);
    assertThat(limiter.tryAcquire(2_000)).isEqualTo(2);
    assertThat(limiter.tryAcquire(2_001)).isZero();
    assertThat(limiter.tryAcquire(2_002)).isEqualTo(-1);
  }

  @Test
  void rejectsANonPositiveRate() {
    assertThatThrownBy(() -> new LogLimiter(0)).hasMessageContaining("was 0");
  }
}
