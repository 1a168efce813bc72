package io.arbiter.adapters.list;

/** How a list's entries are read and how a checked value is compared with them. */
enum EntryType {
  /** Exact, case-sensitive string equality. */
  STRINGS,
  /** String equality after lowercasing both sides with {@link java.util.Locale#ROOT}. */
  CASE_INSENSITIVE_STRINGS,
  /** Java regular expressions; a value is in the list if one matches it whole. */
  REGEX,
  /** IPv4 and IPv6 addresses and CIDR prefixes; a value is in the list if one contains it. */
  IP_ADDRESSES
}
