package io.arbiter.adapters.quota;

import java.util.List;
import java.util.Map;

/**
 * One entry of a quota handler's {@code quotas}: the limit of the instance of that name, and its
 * overrides for dimension values.
 *
 * @param name the quota instance's name in config
 * @param limit the default limit of the instance's buckets
 * @param overrides in config order
 */
public record QuotaSpec(String name, BucketLimit limit, List<Override> overrides) {

  /**
   * A different limit for the buckets whose dimensions include all of {@code dimensions}.
   *
   * @param limit the quota's limit with this override's {@code maxAmount} (and {@code
   *     validDuration}, if it sets one)
   */
  public record Override(Map<String, String> dimensions, BucketLimit limit) {
    public Override {
      dimensions = Map.copyOf(dimensions);
    }
  }

  public QuotaSpec {
    overrides = List.copyOf(overrides);
  }

  /**
   * The limit for a bucket with {@code dimensions}: that of the most specific override (the one
   * with the most dimensions) all of whose dimensions are equal in {@code dimensions}, the first in
   * config order among equally specific ones; the quota's own limit if none applies.
   */
  public BucketLimit limitFor(Map<String, String> dimensions) {
    Override best = null;
    for (Override o : overrides) {
      if ((best == null || o.dimensions().size() > best.dimensions().size()) && applies(o, dimensions)) {
        best = o;
      }
    }
    return best == null ? limit : best.limit();
  }

  private static boolean applies(Override o, Map<String, String> dimensions) {
    for (Map.Entry<String, String> e : o.dimensions().entrySet()) {
      if (!e.getValue().equals(dimensions.get(e.getKey()))) {
        return false;
      }
    }
    return true;
  }
}
