package io.arbiter.engine;

import io.arbiter.engine.spi.QuotaRequest;
import java.util.Objects;

/**
 * One quota call of a batch ({@link PolicyEngine#quota(java.util.List)}): the attributes its rules
 * match against (one rate-limit descriptor's) and how much to take.
 */
public record QuotaCall(AttributeBag attributes, QuotaRequest request) {
  public QuotaCall {
    Objects.requireNonNull(attributes, "attributes");
    Objects.requireNonNull(request, "request");
  }
}
