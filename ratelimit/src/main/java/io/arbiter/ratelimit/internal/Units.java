package io.arbiter.ratelimit.internal;

import io.envoyproxy.envoy.service.ratelimit.v3.RateLimitResponse.RateLimit.Unit;
import java.time.Duration;

/**
 * Envoy's rate-limit time units both ways: a request's per-descriptor limit override ({@code
 * envoy.type.v3.RateLimitUnit}) to seconds, and a bucket's window to the response's {@code
 * RateLimitResponse.RateLimit.Unit}. The lengths are Envoy's own (its {@code
 * XRateLimitHeaderUtils::convertRateLimitUnit}, and envoyproxy/ratelimit): a month is 30 days, a
 * year 365 days.
 */
public final class Units {
  private static final long MINUTE = 60;
  private static final long HOUR = 60 * MINUTE;
  private static final long DAY = 24 * HOUR;
  private static final long WEEK = 7 * DAY;
  private static final long MONTH = 30 * DAY;
  private static final long YEAR = 365 * DAY;

  /** The response units, shortest first, with their lengths in seconds. */
  private static final Unit[] UNITS = {
    Unit.SECOND, Unit.MINUTE, Unit.HOUR, Unit.DAY, Unit.WEEK, Unit.MONTH, Unit.YEAR
  };

  private static final long[] SECONDS = {1, MINUTE, HOUR, DAY, WEEK, MONTH, YEAR};

  private Units() {}

  /**
   * The length of an override's unit, by its number in {@code envoy.type.v3.RateLimitUnit}
   * (SECOND 1, MINUTE 2, HOUR 3, DAY 4, MONTH 5, YEAR 6; WEEK 7, which that enum does not have yet
   * but the response's does, is accepted too), or 0 for UNKNOWN and numbers it does not know.
   */
  public static long overrideSeconds(int unitNumber) {
    return switch (unitNumber) {
      case 1 -> 1;
      case 2 -> MINUTE;
      case 3 -> HOUR;
      case 4 -> DAY;
      case 5 -> MONTH;
      case 6 -> YEAR;
      case 7 -> WEEK;
      default -> 0;
    };
  }

  /** The length in seconds of a response unit; 0 for UNKNOWN. */
  public static long seconds(Unit unit) {
    for (int i = 0; i < UNITS.length; i++) {
      if (UNITS[i] == unit) {
        return SECONDS[i];
      }
    }
    return 0;
  }

  /**
   * The response unit for a bucket's window: the unit of exactly that length when there is one,
   * else the unit nearest to it on a logarithmic scale (90s is a MINUTE, 23h a DAY; a window under
   * a second is a SECOND; equally near, the shorter unit wins).
   *
   * @throws IllegalArgumentException if the window is not positive
   */
  public static Unit closest(Duration window) {
    if (window.isNegative() || window.isZero()) {
      throw new IllegalArgumentException("window must be positive, was " + window);
    }
    double seconds = window.getSeconds() + window.getNano() / 1e9;
    Unit best = UNITS[0];
    double bestDistance = Double.MAX_VALUE;
    for (int i = 0; i < UNITS.length; i++) {
      double distance = Math.abs(Math.log(seconds / SECONDS[i]));
      if (distance < bestDistance) {
        best = UNITS[i];
        bestDistance = distance;
      }
    }
    return best;
  }

  /** True when {@code window} is exactly one of the response units. */
  public static boolean exact(Duration window) {
    if (window.getNano() != 0) {
      return false;
    }
    for (long s : SECONDS) {
      if (window.getSeconds() == s) {
        return true;
      }
    }
    return false;
  }
}
