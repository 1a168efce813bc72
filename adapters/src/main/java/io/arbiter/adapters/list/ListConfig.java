package io.arbiter.adapters.list;

import io.arbiter.engine.spi.AdapterContext;
import io.arbiter.engine.spi.Params;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The settings of one {@code list} handler, read from its params (see {@link ListAdapter} for their
 * meaning).
 *
 * @param inline the valid inline entries
 * @param source where provider entries come from; {@code null} for an inline-only list
 */
record ListConfig(
    EntryType entryType,
    boolean blacklist,
    List<Entry> inline,
    ListSource source,
    Duration refreshInterval,
    Duration ttl,
    Duration cachingInterval,
    int cachingUseCount) {

  static final Duration MIN_REFRESH_INTERVAL = Duration.ofSeconds(1);
  static final long DEFAULT_MAX_BYTES = 16L << 20;

  ListConfig {
    inline = List.copyOf(inline);
  }

  /**
   * Reads every setting, recording each problem on {@code params}; does not read the provider and
   * does not call {@link Params#validate()}.
   */
  static ListConfig parse(Params params, AdapterContext context) {
    EntryType type = params.enumValue("entryType", EntryType.class, EntryType.STRINGS);
    boolean blacklist = params.bool("blacklist", false);
    List<Entry> inline = inline(params, type);
    Duration refresh = params.duration("refreshInterval", Duration.ofSeconds(60));
    if (refresh.compareTo(MIN_REFRESH_INTERVAL) < 0) {
      params.error("refreshInterval", "must be at least 1s, was " + text(refresh));
      refresh = MIN_REFRESH_INTERVAL;
    }
    Duration ttl = params.duration("ttl", Duration.ofSeconds(300));
    if (ttl.compareTo(refresh) < 0) {
      params.error(
          "ttl",
          text(ttl)
              + " is shorter than refreshInterval "
              + text(refresh)
              + ": the list would expire between refreshes");
    }
    Duration caching = params.duration("cachingInterval", Duration.ofSeconds(60));
    int useCount = (int) params.integer("cachingUseCount", 10_000, 0, Integer.MAX_VALUE);
    Duration fetchTimeout = params.duration("fetchTimeout", Duration.ofSeconds(10));
    if (fetchTimeout.isZero()) {
      params.error("fetchTimeout", "must be more than 0, was " + text(fetchTimeout));
      fetchTimeout = Duration.ofSeconds(10);
    }
    long maxBytes = params.integer("maxBytes", DEFAULT_MAX_BYTES, 1, Integer.MAX_VALUE - 8);
    String url = params.string("providerUrl", null);
    ListSource source = url == null ? null : source(params, context, url, fetchTimeout, maxBytes);
    return new ListConfig(type, blacklist, inline, source, refresh, ttl, caching, useCount);
  }

  private static List<Entry> inline(Params params, EntryType type) {
    List<String> texts = params.stringList("entries");
    List<Entry> valid = new ArrayList<>(texts.size());
    for (int i = 0; i < texts.size(); i++) {
      Entry e = new Entry(texts.get(i), "entries[" + i + "]");
      try {
        EntryIndex.build(type, List.of(e));
        valid.add(e);
      } catch (InvalidEntryException x) {
        params.error(e.origin(), x.reason());
      }
    }
    return valid;
  }

  private static ListSource source(
      Params params, AdapterContext context, String url, Duration timeout, long maxBytes) {
    String lower = url.toLowerCase(Locale.ROOT);
    if (lower.startsWith("file:")) {
      String rest = url.substring("file:".length());
      try {
        if (rest.isEmpty()) {
          throw new IllegalArgumentException("no path");
        }
        Path path =
            rest.startsWith("/")
                ? Path.of(URI.create("file:" + rest))
                : context.baseDirectory().resolve(rest);
        return new FileSource(path.normalize(), maxBytes);
      } catch (IllegalArgumentException e) { // InvalidPathException and URI syntax errors too
        params.error("providerUrl", "'" + url + "' is not a usable file: URL: " + e.getMessage());
        return null;
      }
    }
    if (lower.startsWith("http://") || lower.startsWith("https://")) {
      try {
        URI uri = URI.create(url);
        if (uri.getHost() == null || uri.getHost().isEmpty()) {
          throw new IllegalArgumentException("no host");
        }
        return new HttpSource(context.httpClient(), uri, timeout, maxBytes, context.scheduler());
      } catch (IllegalArgumentException e) {
        params.error("providerUrl", "'" + url + "' is not a usable URL: " + e.getMessage());
        return null;
      }
    }
    params.error(
        "providerUrl", "'" + url + "' must be a file: path or URL, or an http:// or https:// URL");
    return null;
  }

  private static String text(Duration d) {
    return io.arbiter.engine.spi.Durations.format(d);
  }
}
