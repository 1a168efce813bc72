package io.arbiter.adapters.quota;

import io.arbiter.engine.spi.Durations;
import io.arbiter.engine.spi.Instance;
import io.arbiter.engine.spi.Params;
import io.arbiter.engine.spi.QuotaRequest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A quota handler's {@code quotas}, validated, and the choice of a bucket for each allocation.
 * Immutable and thread-safe.
 *
 * <p>Each entry: {@code name} (required; the quota instance it limits, unique), {@code maxAmount}
 * (required, 1 to 2<sup>52</sup>), {@code validDuration} (required, a whole number of ms from
 * {@code 1ms} to {@code 3650d}: {@code 1500ms}, {@code 90s}, {@code 36h}, {@code 7d}), {@code
 * algorithm} ({@code FIXED_WINDOW} by default, {@code ROLLING_WINDOW}, {@code TOKEN_BUCKET}),
 * {@code buckets} (ROLLING_WINDOW only: its slots, 1 to 100, default 10), {@code overrides} (a
 * list of {@code {dimensions: {name: value, ...}, maxAmount, validDuration?}}; {@code dimensions}
 * must not be empty, {@code validDuration} defaults to the quota's).
 */
public final class QuotaConfig {
  /** Slots of a rolling window unless {@code buckets} says otherwise. */
  public static final int DEFAULT_BUCKETS = 10;

  /** The bucket an allocation uses: its key (see {@link QuotaKeys}) and its limit. */
  public record Bucket(String key, BucketLimit limit) {}

  private final String handler;
  private final Map<String, QuotaSpec> byName;

  private QuotaConfig(String handler, Map<String, QuotaSpec> byName) {
    this.handler = handler;
    this.byName = Collections.unmodifiableMap(byName);
  }

  /**
   * Reads {@code quotas} (required, not empty), recording every problem on {@code params} by path
   * ({@code quotas[0].overrides[1].maxAmount}); does not call {@link Params#validate()}.
   */
  public static QuotaConfig parse(Params params, String handler) {
    Map<String, QuotaSpec> byName = new LinkedHashMap<>();
    Set<String> seen = new HashSet<>();
    boolean present = params.has("quotas");
    List<Map<String, Object>> entries = NestedParams.maps(params, "quotas");
    if (!present || (entries.isEmpty() && params.asMap().get("quotas") instanceof List)) {
      params.error("quotas", "required: a list of {name, maxAmount, validDuration, ...}, one per"
          + " quota instance this handler serves");
    }
    for (int i = 0; i < entries.size(); i++) {
      if (entries.get(i) == null) {
        continue;
      }
      String where = "quotas[" + i + "]";
      QuotaSpec spec = spec(params, where, new Params(entries.get(i)));
      Object name = entries.get(i).get("name");
      if (name != null && !seen.add(String.valueOf(name))) {
        params.error(where + ".name", "'" + name + "' is already configured");
      } else if (spec != null) {
        byName.put(spec.name(), spec);
      }
    }
    return new QuotaConfig(handler, byName);
  }

  private static QuotaSpec spec(Params parent, String where, Params p) {
    String name = p.string("name", null);
    if (name == null || name.isBlank()) {
      p.error("name", "required: the name of the quota instance this entry limits");
    }
    Algorithm algorithm = p.enumValue("algorithm", Algorithm.class, Algorithm.FIXED_WINDOW);
    Long max = maxAmount(p, true);
    Long window = window(p, true);
    int buckets = 1;
    if (p.has("buckets")) {
      buckets = (int) p.integer("buckets", DEFAULT_BUCKETS, 1, BucketLimit.MAX_BUCKETS);
      if (algorithm != Algorithm.ROLLING_WINDOW) {
        p.error("buckets", "applies to ROLLING_WINDOW only, not " + algorithm);
      }
    } else if (algorithm == Algorithm.ROLLING_WINDOW) {
      buckets = DEFAULT_BUCKETS;
    }
    BucketLimit limit = limit(p, algorithm, max, window, buckets);
    List<QuotaSpec.Override> overrides = new ArrayList<>();
    List<Map<String, Object>> raw = NestedParams.maps(p, "overrides");
    for (int j = 0; j < raw.size(); j++) {
      if (raw.get(j) == null) {
        continue;
      }
      String at = "overrides[" + j + "]";
      Params o = new Params(raw.get(j));
      Map<String, String> dims = o.stringMap("dimensions");
      if (dims.isEmpty() && !(o.asMap().get("dimensions") instanceof Map<?, ?> m && !m.isEmpty())) {
        o.error("dimensions", "required: the dimension values this override applies to");
      }
      Long oMax = maxAmount(o, true);
      Long oWindow = window(o, false);
      BucketLimit oLimit = limit(o, algorithm, oMax, oWindow != null ? oWindow : window, buckets);
      NestedParams.merge(p, at, o);
      if (oLimit != null && !dims.isEmpty()) {
        overrides.add(new QuotaSpec.Override(dims, oLimit));
      }
    }
    NestedParams.merge(parent, where, p);
    if (name == null || name.isBlank() || limit == null) {
      return null;
    }
    return new QuotaSpec(name, limit, overrides);
  }

  private static Long maxAmount(Params p, boolean required) {
    if (!p.has("maxAmount")) {
      if (required) {
        p.error("maxAmount", "required: how many units each window allows");
      }
      return null;
    }
    long v = p.integer("maxAmount", -1, 1, BucketLimit.MAX_EXACT);
    return v < 0 ? null : v;
  }

  private static Long window(Params p, boolean required) {
    if (!p.has("validDuration")) {
      if (required) {
        p.error("validDuration", "required: the window, e.g. 1s, 90s, 36h, 7d");
      }
      return null;
    }
    Duration d = p.duration("validDuration", null);
    if (d == null) {
      return null;
    }
    if (d.toNanos() % 1_000_000 != 0 && d.compareTo(BucketLimit.MAX_WINDOW) <= 0) {
      p.error("validDuration", "must be a whole number of milliseconds, was " + d.toNanos() + "ns");
      return null;
    }
    if (d.compareTo(Duration.ofMillis(1)) < 0 || d.compareTo(BucketLimit.MAX_WINDOW) > 0) {
      p.error("validDuration", "must be between 1ms and 3650d, was " + Durations.format(d));
      return null;
    }
    return d.toMillis();
  }

  private static BucketLimit limit(
      Params p, Algorithm algorithm, Long max, Long window, int buckets) {
    if (max == null || window == null) {
      return null;
    }
    try {
      return BucketLimit.of(algorithm, max, window, buckets);
    } catch (IllegalArgumentException e) {
      p.error("maxAmount", e.getMessage());
      return null;
    }
  }

  /** The names of the quota instances configured. */
  public Set<String> names() {
    return byName.keySet();
  }

  public QuotaSpec spec(String name) {
    return byName.get(name);
  }

  /**
   * The bucket {@code quota} allocates from: the limit of its entry in {@code quotas} (or of the
   * most specific override that applies), replaced by the request's {@code limitOverride} if it
   * has one ({@code requests} per {@code unitSeconds}, the entry's algorithm; {@code requests} 0
   * gives a limit of 0, which grants nothing).
   *
   * @throws UnknownQuotaException if no entry is named {@code quota.name()}, or the override
   *     cannot be computed
   */
  public Bucket resolve(Instance.Quota quota, QuotaRequest request) {
    QuotaSpec spec = byName.get(quota.name());
    if (spec == null) {
      throw new UnknownQuotaException(
          "quota handler '" + handler + "' has no entry for quota instance '" + quota.name()
              + "' in its params.quotas (it has " + byName.keySet() + ")");
    }
    BucketLimit limit;
    if (request.limitOverride() != null) {
      QuotaRequest.Limit o = request.limitOverride();
      try {
        long unitSeconds = o.unitSeconds();
        if (unitSeconds < 1 || unitSeconds > BucketLimit.MAX_WINDOW.toSeconds()) {
          throw new IllegalArgumentException(
              "the unit must be between 1s and 3650d, was " + unitSeconds + "s");
        }
        limit = BucketLimit.of(spec.limit().algorithm(), Math.max(0, o.requests()),
            unitSeconds * 1000, spec.limit().buckets());
      } catch (IllegalArgumentException e) {
        throw new UnknownQuotaException(
            "quota '" + quota.name() + "' of handler '" + handler + "': the caller's limit of "
                + o.requests() + " per " + o.unitSeconds() + "s cannot be used: " + e.getMessage());
      }
    } else {
      limit = spec.limitFor(quota.dimensions());
    }
    return new Bucket(QuotaKeys.key(handler, quota.name(), quota.dimensions(), limit), limit);
  }
}
