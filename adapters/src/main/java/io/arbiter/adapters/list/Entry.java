package io.arbiter.adapters.list;

/**
 * One list entry as written, with where it came from for error messages.
 *
 * @param text the entry; inline entries as written, provider lines trimmed
 * @param origin {@code entries[3]} for an inline entry, {@code <source> line 12} for a provider's
 */
record Entry(String text, String origin) {}
