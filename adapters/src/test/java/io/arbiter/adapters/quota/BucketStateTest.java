package io.arbiter.adapters.quota;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/** The algorithms' math, driven by explicit times (ms since the epoch). */
class BucketStateTest {
  /** 2030-01-01T00:00:00Z, a Tuesday, the start of a minute, hour and day. */
  static final long T0 = Instant.parse("2030-01-01T00:00:00Z").toEpochMilli();

  static final long S = 1000;

  private static BucketState bucket(Algorithm a, long max, Duration window, int buckets, long now) {
    return BucketState.create(BucketLimit.of(a, max, window.toMillis(), buckets), now);
  }

  private static Allocation take(BucketState b, long now, long amount) {
    return b.allocate(now, amount, false);
  }

  @Nested
  class FixedWindow {
    @Test
    void grantsUpToTheLimitThenDeniesUntilTheWindowEnds() {
      BucketState b = bucket(Algorithm.FIXED_WINDOW, 3, Duration.ofMinutes(1), 1, T0 + 10 * S);

      assertThat(take(b, T0 + 10 * S, 1)).isEqualTo(new Allocation(1, 2, 50 * S));
      assertThat(take(b, T0 + 20 * S, 2)).isEqualTo(new Allocation(2, 0, 40 * S));
      assertThat(take(b, T0 + 30 * S, 1)).isEqualTo(new Allocation(0, 0, 30 * S));
      assertThat(take(b, T0 + 60 * S - 1, 1)).isEqualTo(new Allocation(0, 0, 1));
      assertThat(take(b, T0 + 60 * S, 1)).isEqualTo(new Allocation(1, 2, 60 * S));
    }

    @Test
    void windowsAreAlignedToTheEpochNotToTheFirstAllocation() {
      BucketState b = bucket(Algorithm.FIXED_WINDOW, 1, Duration.ofSeconds(10), 1, T0 + 7 * S);

      assertThat(take(b, T0 + 7 * S, 1)).isEqualTo(new Allocation(1, 0, 3 * S));
      assertThat(take(b, T0 + 10 * S, 1).granted()).isEqualTo(1);
    }

    @Test
    void aBurstMayStraddleTheEdge() {
      BucketState b = bucket(Algorithm.FIXED_WINDOW, 5, Duration.ofSeconds(10), 1, T0);

      assertThat(take(b, T0 + 10 * S - 1, 5).granted()).isEqualTo(5);
      assertThat(take(b, T0 + 10 * S, 5).granted()).isEqualTo(5);
    }

    @Test
    void sevenDayWindowsStartOnThursdaysAtMidnightUtc() {
      // 1970-01-01 was a Thursday; 2030-01-01 is a Tuesday, so its window ends on Thursday the 3rd.
      BucketState b = bucket(Algorithm.FIXED_WINDOW, 2, Duration.ofDays(7), 1, T0);
      long thursday = Instant.parse("2030-01-03T00:00:00Z").toEpochMilli();

      assertThat(take(b, T0, 2)).isEqualTo(new Allocation(2, 0, Duration.ofDays(2).toMillis()));
      assertThat(take(b, thursday - 1, 1)).isEqualTo(new Allocation(0, 0, 1));
      assertThat(take(b, thursday, 1))
          .isEqualTo(new Allocation(1, 1, Duration.ofDays(7).toMillis()));
    }

    @Test
    void thirtySixHourWindowsCountFromTheEpoch() {
      long w = Duration.ofHours(36).toMillis();
      BucketState b = bucket(Algorithm.FIXED_WINDOW, 1, Duration.ofHours(36), 1, T0);
      long end = (T0 / w + 1) * w;

      assertThat(take(b, T0, 1)).isEqualTo(new Allocation(1, 0, end - T0));
      assertThat(take(b, end, 1).granted()).isEqualTo(1);
    }

    @Test
    void idleFromTheEndOfItsWindow() {
      BucketState b = bucket(Algorithm.FIXED_WINDOW, 3, Duration.ofMinutes(1), 1, T0 + 5 * S);
      take(b, T0 + 5 * S, 1);

      assertThat(b.idleAtMillis()).isEqualTo(T0 + 60 * S);
    }
  }

  @Nested
  class RollingWindow {
    @Test
    void unitsComeBackWhenTheirSlotLeavesTheWindow() {
      // 4 per 10 s in 10 slots of 1 s.
      BucketState b = bucket(Algorithm.ROLLING_WINDOW, 4, Duration.ofSeconds(10), 10, T0);

      assertThat(take(b, T0, 2)).isEqualTo(new Allocation(2, 2, 10 * S));
      assertThat(take(b, T0 + 3 * S + 500, 2)).isEqualTo(new Allocation(2, 0, 6500));
      assertThat(take(b, T0 + 5 * S, 1)).isEqualTo(new Allocation(0, 0, 5 * S));
      assertThat(take(b, T0 + 10 * S - 1, 1)).isEqualTo(new Allocation(0, 0, 1));
      // The slot of T0 has left: its 2 units are back; the slot of T0+3s leaves at T0+13s.
      assertThat(take(b, T0 + 10 * S, 2)).isEqualTo(new Allocation(2, 0, 3 * S));
      assertThat(take(b, T0 + 13 * S, 1)).isEqualTo(new Allocation(1, 1, 7 * S));
    }

    @Test
    void noBurstOfTwiceTheLimitAcrossAWindowEdge() {
      BucketState b = bucket(Algorithm.ROLLING_WINDOW, 5, Duration.ofSeconds(10), 10, T0);

      assertThat(take(b, T0 + 10 * S - 1, 5).granted()).isEqualTo(5);
      assertThat(take(b, T0 + 10 * S, 5).granted()).isZero();
      assertThat(take(b, T0 + 19 * S - 1, 1).granted()).isZero();
      assertThat(take(b, T0 + 19 * S, 5).granted()).isEqualTo(5);
    }

    @Test
    void slotsOfAWindowThatDoesNotDivideEvenlyStartAtTheCeilingMillisecond() {
      // 1000 ms in 3 slots: they start at 0, 334 and 667 ms into each second.
      BucketState a = bucket(Algorithm.ROLLING_WINDOW, 1, Duration.ofSeconds(1), 3, T0 + 333);
      assertThat(take(a, T0 + 333, 1)).isEqualTo(new Allocation(1, 0, 667));

      BucketState b = bucket(Algorithm.ROLLING_WINDOW, 1, Duration.ofSeconds(1), 3, T0 + 334);
      assertThat(take(b, T0 + 334, 1)).isEqualTo(new Allocation(1, 0, 1000));
      assertThat(take(b, T0 + 1333, 1)).isEqualTo(new Allocation(0, 0, 1));
      assertThat(take(b, T0 + 1334, 1)).isEqualTo(new Allocation(1, 0, 1000));
    }

    @Test
    void oneSlotIsAFixedWindow() {
      BucketState rolling = bucket(Algorithm.ROLLING_WINDOW, 3, Duration.ofSeconds(7), 1, T0);
      BucketState fixed = bucket(Algorithm.FIXED_WINDOW, 3, Duration.ofSeconds(7), 1, T0);
      long[] times = {T0, T0 + 1, T0 + 6999, T0 + 7000, T0 + 7001, T0 + 20_000, T0 + 20_999};
      for (long t : times) {
        Allocation r = rolling.allocate(t, 2, true);
        Allocation f = fixed.allocate(t, 2, true);
        assertThat(r.granted()).as("at %d", t).isEqualTo(f.granted());
        assertThat(r.remaining()).as("at %d", t).isEqualTo(f.remaining());
        if (r.granted() > 0 || f.remaining() < 3) {
          assertThat(r.resetAfterMillis()).as("at %d", t).isEqualTo(f.resetAfterMillis());
        }
      }
    }

    @Test
    void multiDayWindow() {
      // 7 per 7 days in 7 slots of a day.
      long day = Duration.ofDays(1).toMillis();
      BucketState b = bucket(Algorithm.ROLLING_WINDOW, 7, Duration.ofDays(7), 7, T0);

      assertThat(take(b, T0, 7).granted()).isEqualTo(7);
      assertThat(take(b, T0 + 7 * day - 1, 1)).isEqualTo(new Allocation(0, 0, 1));
      assertThat(take(b, T0 + 7 * day, 3)).isEqualTo(new Allocation(3, 4, 7 * day));
    }

    @Test
    void idleWhenItsNewestUsedSlotLeaves() {
      BucketState b = bucket(Algorithm.ROLLING_WINDOW, 4, Duration.ofSeconds(10), 10, T0);
      take(b, T0, 1);
      take(b, T0 + 4 * S + 200, 1);

      assertThat(b.idleAtMillis()).isEqualTo(T0 + 14 * S);
    }
  }

  @Nested
  class TokenBucket {
    @Test
    void startsFullAndRefillsOneTokenPerIntervalContinuously() {
      // 10 per 10 s: a token a second, 10 at most.
      BucketState b = bucket(Algorithm.TOKEN_BUCKET, 10, Duration.ofSeconds(10), 1, T0);

      assertThat(take(b, T0, 10)).isEqualTo(new Allocation(10, 0, S));
      assertThat(take(b, T0 + 999, 1)).isEqualTo(new Allocation(0, 0, 1));
      assertThat(take(b, T0 + S, 1)).isEqualTo(new Allocation(1, 0, S));
      // 2.5 s later: 2.5 tokens; two whole ones, the third half-way.
      assertThat(take(b, T0 + 3500, 2)).isEqualTo(new Allocation(2, 0, 500));
      assertThat(take(b, T0 + 3500, 1)).isEqualTo(new Allocation(0, 0, 500));
    }

    @Test
    void neverHoldsMoreThanItsCapacity() {
      BucketState b = bucket(Algorithm.TOKEN_BUCKET, 5, Duration.ofSeconds(5), 1, T0);
      take(b, T0, 5);

      assertThat(take(b, T0 + Duration.ofDays(3).toMillis(), 6).granted()).isZero();
      assertThat(take(b, T0 + Duration.ofDays(3).toMillis(), 5))
          .isEqualTo(new Allocation(5, 0, S));
    }

    @Test
    void refillMathIsExactWhenTheIntervalIsNotAWholeMillisecond() {
      // 3 per second: a token every 333⅓ ms.
      BucketState b = bucket(Algorithm.TOKEN_BUCKET, 3, Duration.ofSeconds(1), 1, T0);

      assertThat(take(b, T0, 3)).isEqualTo(new Allocation(3, 0, 334));
      assertThat(take(b, T0 + 333, 1)).isEqualTo(new Allocation(0, 0, 1));
      assertThat(take(b, T0 + 334, 1)).isEqualTo(new Allocation(1, 0, 333));
      assertThat(take(b, T0 + 1000, 3).granted()).isZero();
      assertThat(take(b, T0 + 1000, 2).granted()).isEqualTo(2);
    }

    @Test
    void bigLimitsRefillAtCoarserTicks() {
      // 10^9 a day is too big for 1 ms ticks in 2^52; 100 ms ticks fit.
      BucketLimit limit = BucketLimit.of(Algorithm.TOKEN_BUCKET, 1_000_000_000L,
          Duration.ofDays(1).toMillis(), 1);
      assertThat(limit.tickMillis()).isEqualTo(100);
      BucketState b = BucketState.create(limit, T0);

      assertThat(take(b, T0, 1_000_000_000L).remaining()).isZero();
      // 1,157.4 tokens per 100 ms tick; nothing before the tick ends.
      assertThat(take(b, T0 + 99, 1).granted()).isZero();
      assertThat(take(b, T0 + 100, 1157)).isEqualTo(new Allocation(1157, 0, 100));
    }

    @Test
    void limitsTooBigForExactArithmeticAreRejected() {
      assertThatThrownBy(() -> BucketLimit.of(Algorithm.TOKEN_BUCKET, 1L << 50, 1501, 1))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("too large to compute exactly");
    }

    @Test
    void multiDayRefill() {
      // 7 per 7 days: a token a day.
      long day = Duration.ofDays(1).toMillis();
      BucketState b = bucket(Algorithm.TOKEN_BUCKET, 7, Duration.ofDays(7), 1, T0);

      assertThat(take(b, T0, 7)).isEqualTo(new Allocation(7, 0, day));
      assertThat(take(b, T0 + 3 * day - 1, 3)).isEqualTo(new Allocation(0, 2, 1));
      assertThat(take(b, T0 + 3 * day, 3)).isEqualTo(new Allocation(3, 0, day));
    }

    @Test
    void idleOnceFullAgain() {
      BucketState b = bucket(Algorithm.TOKEN_BUCKET, 10, Duration.ofSeconds(10), 1, T0);
      take(b, T0 + 250, 4);

      assertThat(b.idleAtMillis()).isEqualTo(T0 + 250 + 4 * S);
    }
  }

  @Test
  void bestEffortGrantsWhatIsLeftAndNothingOnceEmpty() {
    for (Algorithm a : Algorithm.values()) {
      BucketState b = bucket(a, 5, Duration.ofMinutes(1), 10, T0);
      assertThat(b.allocate(T0, 3, true).granted()).as("%s", a).isEqualTo(3);
      assertThat(b.allocate(T0, 4, true)).as("%s", a).satisfies(r -> {
        assertThat(r.granted()).isEqualTo(2);
        assertThat(r.remaining()).isZero();
      });
      assertThat(b.allocate(T0, 1, true).granted()).as("%s", a).isZero();
    }
  }

  @Test
  void aDeniedAllocationTakesNothing() {
    for (Algorithm a : Algorithm.values()) {
      BucketState b = bucket(a, 5, Duration.ofMinutes(1), 10, T0);
      assertThat(take(b, T0, 6)).as("%s", a).isEqualTo(new Allocation(0, 5, 0));
      assertThat(take(b, T0, 4).granted()).as("%s", a).isEqualTo(4);
      assertThat(take(b, T0, 2).granted()).as("%s", a).isZero();
      assertThat(take(b, T0, 1).granted()).as("%s", a).isEqualTo(1);
    }
  }

  @Test
  void aClockThatGoesBackStandsStill() {
    for (Algorithm a : Algorithm.values()) {
      BucketState b = bucket(a, 2, Duration.ofSeconds(10), 10, T0 + 20 * S);
      assertThat(take(b, T0 + 20 * S, 2).granted()).as("%s", a).isEqualTo(2);
      assertThat(take(b, T0, 1).granted()).as("%s", a).isZero();
    }
  }
}
