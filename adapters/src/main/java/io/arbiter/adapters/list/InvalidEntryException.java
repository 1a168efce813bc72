package io.arbiter.adapters.list;

/** A list entry that cannot be used: an IP entry that is not an address or prefix, a bad regex. */
final class InvalidEntryException extends Exception {
  private static final long serialVersionUID = 1L;

  private final transient Entry entry;
  private final String reason;

  InvalidEntryException(Entry entry, String reason) {
    super(entry.origin() + ": " + reason);
    this.entry = entry;
    this.reason = reason;
  }

  /** The bad entry. */
  Entry entry() {
    return entry;
  }

  /** Why it is bad, naming its text. */
  String reason() {
    return reason;
  }
}
