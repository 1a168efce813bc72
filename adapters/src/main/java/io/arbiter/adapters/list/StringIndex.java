package io.arbiter.adapters.list;

import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Exact string entries in a hash set. Case-insensitive lists lowercase entries and values with
 * {@link Locale#ROOT} (per-character lowercasing, not full Unicode case folding: {@code ß} does not
 * equal {@code SS}).
 */
record StringIndex(Set<String> entries, boolean caseInsensitive) implements EntryIndex {

  StringIndex {
    entries = Set.copyOf(entries);
  }

  static StringIndex of(List<Entry> entries, boolean caseInsensitive) {
    Set<String> set = new HashSet<>(entries.size() * 2);
    for (Entry e : entries) {
      set.add(caseInsensitive ? e.text().toLowerCase(Locale.ROOT) : e.text());
    }
    return new StringIndex(set, caseInsensitive);
  }

  @Override
  public Lookup lookup(String value) {
    String key = caseInsensitive ? value.toLowerCase(Locale.ROOT) : value;
    return entries.contains(key) ? Lookup.FOUND : Lookup.ABSENT;
  }

  @Override
  public int size() {
    return entries.size();
  }
}
