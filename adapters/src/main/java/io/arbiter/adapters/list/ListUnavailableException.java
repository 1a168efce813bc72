package io.arbiter.adapters.list;

/**
 * Why a list handler cannot answer: its list is not loaded yet, or was discarded after its ttl.
 * Checks complete exceptionally with it so the engine applies its fail-open or fail-closed policy.
 * Carries no stack trace: it is an expected outcome, and may be raised on every check of an outage.
 */
final class ListUnavailableException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  ListUnavailableException(String message) {
    super(message, null, false, false);
  }
}
