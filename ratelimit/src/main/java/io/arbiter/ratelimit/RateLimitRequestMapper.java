package io.arbiter.ratelimit;

import io.arbiter.engine.AttributeBag;
import io.arbiter.engine.spi.QuotaRequest;
import io.arbiter.ratelimit.internal.Units;
import io.envoyproxy.envoy.extensions.common.ratelimit.v3.RateLimitDescriptor;
import io.envoyproxy.envoy.service.ratelimit.v3.RateLimitRequest;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Turns one descriptor of an Envoy {@code RateLimitRequest} into the attributes and the quota
 * request the engine decides it with. Each descriptor is decided on its own.
 *
 * <h2>Attributes</h2>
 *
 * <ul>
 *   <li>{@code ratelimit.domain}: the request's {@code domain} (absent when empty).
 *   <li>{@code ratelimit.descriptor}: the descriptor's {@code entries} as a map of key to value.
 *       When a key repeats, the <b>first</b> entry wins (the outermost level of Envoy's hierarchy,
 *       as the first value of a repeated query parameter wins for checks) and later ones are
 *       ignored. An empty value stays an empty string; keys are kept as sent (no case folding).
 *   <li>{@code ratelimit.hits_addend}: the amount this descriptor asks for, as below.
 * </ul>
 *
 * Nothing else: Envoy's v3 {@code RateLimitRequest} carries only the domain, the descriptors and
 * {@code hits_addend}, no request headers, peers or metadata. What a rule needs from the request
 * must be put into a descriptor by the route's {@code rate_limits} actions ({@code
 * request_headers}, {@code remote_address}, {@code generic_key}, …).
 *
 * <h2>Quota request</h2>
 *
 * <ul>
 *   <li>Amount: the descriptor's own {@code hits_addend} when set (it overrides the request's, as
 *       in Envoy), else the request's {@code hits_addend}; 0 means 1 either way.
 *       (envoyproxy/ratelimit reads an explicit descriptor-level 0 as "check without consuming";
 *       the engine has no such allocation, so Arbiter consumes 1.) A value beyond {@code
 *       Long.MAX_VALUE} is capped there.
 *   <li>{@code bestEffort}: false (Envoy's descriptors are all-or-nothing).
 *   <li>Limit override: the descriptor's {@code limit}, {@code requests_per_unit} per its unit in
 *       seconds (SECOND 1, MINUTE 60, HOUR 3600, DAY 86400, MONTH 30 days, YEAR 365 days); a limit
 *       whose unit is UNKNOWN is ignored (the configured limit applies) and noted.
 * </ul>
 *
 * <h2>Limits</h2>
 *
 * A request with more than {@value #MAX_DESCRIPTORS} descriptors or more than {@value
 * #MAX_ENTRIES} entries in all is not evaluated ({@link #check}): Envoy sends one descriptor per
 * {@code rate_limits} entry of a route and one entry per action, so such a request is a broken
 * route config, not traffic.
 *
 * <p>Stateless and thread-safe.
 */
public final class RateLimitRequestMapper {
  /** The most descriptors one request may carry. */
  public static final int MAX_DESCRIPTORS = 1000;

  /** The most descriptor entries one request may carry, over all its descriptors. */
  public static final int MAX_ENTRIES = 10_000;

  /** Reasons a request is rejected before evaluation, as the metric labels them. */
  public static final String TOO_MANY_DESCRIPTORS = "too_many_descriptors";

  public static final String TOO_MANY_ENTRIES = "too_many_entries";

  private RateLimitRequestMapper() {}

  /**
   * One descriptor, ready for the engine.
   *
   * @param note what of the descriptor was ignored (a limit override with an unknown unit), or ""
   */
  public record DescriptorCall(AttributeBag attributes, QuotaRequest request, String note) {}

  /**
   * Why a request was not evaluated.
   *
   * @param reason {@link #TOO_MANY_DESCRIPTORS} or {@link #TOO_MANY_ENTRIES}
   * @param message what was over which limit, for the log and the dynamic metadata
   */
  public record Rejection(String reason, String message) {}

  /** The rejection for a request over the limits, or null when it may be evaluated. */
  public static Rejection check(RateLimitRequest request) {
    int descriptors = request.getDescriptorsCount();
    if (descriptors > MAX_DESCRIPTORS) {
      return new Rejection(TOO_MANY_DESCRIPTORS,
          descriptors + " descriptors, more than the limit of " + MAX_DESCRIPTORS);
    }
    long entries = 0;
    for (RateLimitDescriptor d : request.getDescriptorsList()) {
      entries += d.getEntriesCount();
    }
    if (entries > MAX_ENTRIES) {
      return new Rejection(TOO_MANY_ENTRIES,
          entries + " descriptor entries, more than the limit of " + MAX_ENTRIES);
    }
    return null;
  }

  /** Maps descriptor {@code index} of {@code request}. Never throws for any content. */
  public static DescriptorCall map(RateLimitRequest request, int index) {
    return map(request.getDomain(), request.getHitsAddend(), request.getDescriptors(index));
  }

  /**
   * Maps one descriptor.
   *
   * @param requestHitsAddend the request's {@code hits_addend}, a uint32 (negative ints are the
   *     values above 2^31)
   */
  public static DescriptorCall map(String domain, int requestHitsAddend, RateLimitDescriptor d) {
    long amount = d.hasHitsAddend()
        ? d.getHitsAddend().getValue()
        : Integer.toUnsignedLong(requestHitsAddend);
    if (amount < 0) {
      amount = Long.MAX_VALUE; // a uint64 above Long.MAX_VALUE
    } else if (amount == 0) {
      amount = 1;
    }
    QuotaRequest.Limit override = null;
    String note = "";
    if (d.hasLimit()) {
      long unitSeconds = Units.overrideSeconds(d.getLimit().getUnitValue());
      if (unitSeconds == 0) {
        note = "limit override ignored: unit " + d.getLimit().getUnit() + " is not a time unit";
      } else {
        override = new QuotaRequest.Limit(
            Integer.toUnsignedLong(d.getLimit().getRequestsPerUnit()), unitSeconds);
      }
    }
    AttributeBag bag =
        AttributeBag.builder()
            .putNonEmpty("ratelimit.domain", domain)
            .put("ratelimit.descriptor", entries(d.getEntriesList()))
            .put("ratelimit.hits_addend", amount)
            .build();
    QuotaRequest quota =
        amount == 1 && override == null ? ONE_UNIT : new QuotaRequest(amount, false, override);
    return new DescriptorCall(bag, quota, note);
  }

  /** What most descriptors ask for (one unit, the configured limit); immutable, so shared. */
  private static final QuotaRequest ONE_UNIT = new QuotaRequest(1, false, null);

  private static Map<String, String> entries(List<RateLimitDescriptor.Entry> entries) {
    int n = entries.size();
    if (n == 0) {
      return Map.of();
    }
    if (n == 1) {
      return Map.of(entries.get(0).getKey(), entries.get(0).getValue());
    }
    Map<String, String> out = new HashMap<>(n < 3 ? 4 : (int) (n / 0.75f) + 1);
    for (RateLimitDescriptor.Entry e : entries) {
      out.putIfAbsent(e.getKey(), e.getValue());
    }
    return Collections.unmodifiableMap(out);
  }
}
