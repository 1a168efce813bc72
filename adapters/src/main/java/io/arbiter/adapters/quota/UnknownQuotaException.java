package io.arbiter.adapters.quota;

/**
 * An allocation the handler cannot serve from its config: an instance with no entry in {@code
 * quotas}, or a caller's limit that cannot be computed. The allocation's stage fails with it, and
 * the engine's failure policy decides.
 */
public final class UnknownQuotaException extends IllegalArgumentException {
  private static final long serialVersionUID = 1L;

  public UnknownQuotaException(String message) {
    super(message);
  }
}
