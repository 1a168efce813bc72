package io.arbiter.engine.spi;

/**
 * How much quota to take.
 *
 * @param amount how many units, at least 1 (a rate-limit call's {@code hits_addend}, 1 for a check)
 * @param bestEffort grant what is left when less than {@code amount} remains, instead of nothing
 * @param limitOverride a per-call limit the caller asks for (Envoy's per-descriptor {@code
 *     limit}), or null to use the handler's configured limit
 */
public record QuotaRequest(long amount, boolean bestEffort, Limit limitOverride) {

  /** A limit given by the caller: {@code requests} per {@code unitSeconds}. */
  public record Limit(long requests, long unitSeconds) {}

  public QuotaRequest {
    if (amount < 1) {
      throw new IllegalArgumentException("amount must be at least 1, was " + amount);
    }
  }

  public static QuotaRequest of(long amount) {
    return new QuotaRequest(amount, false, null);
  }
}
