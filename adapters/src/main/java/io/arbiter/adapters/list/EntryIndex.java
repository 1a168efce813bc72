package io.arbiter.adapters.list;

import java.util.List;

/**
 * The entries of one loaded list, indexed for lookup on the check path. Built once per load,
 * immutable and thread-safe afterwards.
 */
sealed interface EntryIndex permits StringIndex, RegexIndex, IpIndex {

  /** The outcome of looking a value up. */
  enum Lookup {
    /** An entry matches the value. */
    FOUND,
    /** No entry matches the value. */
    ABSENT,
    /** The list holds IP addresses and the value is not one. */
    NOT_AN_IP,
    /** The list holds regexes and the value is longer than {@link RegexIndex#MAX_INPUT_LENGTH}. */
    TOO_LONG,
    /** No regex matched, and at least one gave up after {@link RegexIndex#STEPS_PER_PATTERN}. */
    TOO_COMPLEX
  }

  /** Looks {@code value} up; never throws, never blocks. */
  Lookup lookup(String value);

  /** The number of distinct entries (after normalization: lowercasing, masking host bits). */
  int size();

  /**
   * Parses and indexes {@code entries}.
   *
   * @throws InvalidEntryException for the first entry that is not valid for {@code type}
   */
  static EntryIndex build(EntryType type, List<Entry> entries) throws InvalidEntryException {
    return switch (type) {
      case STRINGS -> StringIndex.of(entries, false);
      case CASE_INSENSITIVE_STRINGS -> StringIndex.of(entries, true);
      case REGEX -> RegexIndex.of(entries);
      case IP_ADDRESSES -> IpIndex.of(entries);
    };
  }
}
