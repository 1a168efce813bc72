package io.arbiter.engine.config;

import io.arbiter.engine.spi.Durations;
import io.arbiter.engine.spi.Params;
import java.time.Duration;
import java.util.Map;

/**
 * The {@code settings.cache:} section: the check decision cache.
 *
 * <p>A decision is reused for a later check that agrees with it on every attribute its evaluation
 * read (present or absent), for as long as every result in it stays valid (the smallest
 * {@code validDuration} and {@code validUseCount} of its parts, capped here and per rule).
 * Decisions that failed or allocated quota are never reused.
 *
 * @param enabled whether checks use the cache (default true)
 * @param maxEntries the most decisions kept (default 100,000)
 * @param maxBytes the most bytes kept, estimated per entry (default 64 MiB); the cache evicts the
 *     least useful entries beyond either bound
 * @param maxValidDuration the longest any decision is reused (default 10s)
 * @param maxValidUseCount the most times any decision is reused (default 10,000)
 * @param maxShapes the most distinct sets of read attributes kept per config (default 64); a
 *     decision that reads a new set beyond it is not cached, and counted
 */
public record CacheSettings(
    boolean enabled,
    long maxEntries,
    long maxBytes,
    Duration maxValidDuration,
    int maxValidUseCount,
    int maxShapes) {

  public static final CacheSettings DEFAULT =
      new CacheSettings(true, 100_000, 64L << 20, Duration.ofSeconds(10), 10_000, 64);

  /** Off: every check is evaluated. */
  public static final CacheSettings DISABLED =
      new CacheSettings(false, DEFAULT.maxEntries, DEFAULT.maxBytes, DEFAULT.maxValidDuration,
          DEFAULT.maxValidUseCount, DEFAULT.maxShapes);

  /** Reads the section; problems are recorded in {@code p} under {@code cache.}. */
  static CacheSettings read(Params p, Object raw) {
    if (raw == null) {
      return DEFAULT;
    }
    if (!(raw instanceof Map<?, ?> map)) {
      p.error("cache", "must be a mapping");
      return DEFAULT;
    }
    @SuppressWarnings("unchecked")
    Params c = new Params((Map<String, ?>) map);
    CacheSettings d = DEFAULT;
    boolean enabled = c.bool("enabled", d.enabled);
    long maxEntries = c.integer("maxEntries", d.maxEntries, 1, 1L << 40);
    long maxBytes = c.integer("maxBytes", d.maxBytes, 1024, 1L << 50);
    Duration maxValid = c.duration("maxValidDuration", d.maxValidDuration);
    if (maxValid.isNegative() || maxValid.compareTo(Duration.ofDays(1)) > 0) {
      c.error("maxValidDuration", "must be between 0 and 1d, was " + Durations.format(maxValid));
    }
    int maxUses = (int) c.integer("maxValidUseCount", d.maxValidUseCount, 0, Integer.MAX_VALUE);
    int maxShapes = (int) c.integer("maxShapes", d.maxShapes, 1, 4096);
    try {
      c.validate();
    } catch (io.arbiter.engine.spi.ParamsException e) {
      e.problems().forEach(problem -> p.error("cache." + problem.field(), problem.reason()));
    }
    return new CacheSettings(enabled, maxEntries, maxBytes, maxValid, maxUses, maxShapes);
  }
}
