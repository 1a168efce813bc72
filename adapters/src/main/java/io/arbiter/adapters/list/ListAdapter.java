package io.arbiter.adapters.list;

import io.arbiter.engine.spi.Adapter;
import io.arbiter.engine.spi.AdapterContext;
import io.arbiter.engine.spi.Handler;
import io.arbiter.engine.spi.Params;
import io.arbiter.engine.spi.Template;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The {@code list} adapter, after Istio Mixer's: its handlers check a {@code listentry} value
 * against a whitelist or a blacklist of strings, regexes or IP prefixes, given inline and/or
 * fetched from a provider and kept fresh.
 *
 * <p>Params (all optional):
 *
 * <ul>
 *   <li>{@code entryType}: {@code STRINGS} (default; exact match), {@code CASE_INSENSITIVE_STRINGS}
 *       (lowercased with Locale.ROOT), {@code REGEX} (Java regexes matched against the whole value;
 *       values over 4096 chars, and values a regex cannot settle within 1,000,000 steps, are denied
 *       in both modes) or {@code IP_ADDRESSES} (IPv4/IPv6 addresses and CIDR prefixes; IPv4-mapped
 *       IPv6 values match IPv4 entries).
 *   <li>{@code blacklist}: false (default) allows only values in the list and denies others, and
 *       non-IP values of an IP list, with PERMISSION_DENIED "'v' is not in list 'h'"; true denies
 *       values in the list with PERMISSION_DENIED "'v' is blacklisted by 'h'" and allows others.
 *   <li>{@code entries}: inline entries; each is validated at load ({@code entries[i]} errors).
 *   <li>{@code providerUrl}: a {@code file:} path or URL (relative paths resolve against the
 *       config's directory; read at load, where failing to read it is a config error) or an {@code
 *       http://} / {@code https://} URL (fetched in the background). UTF-8 text, one entry per
 *       line, blank lines and lines starting with {@code #} ignored. The list is the inline entries
 *       plus the provider's; a provider line that is not a valid entry fails the refresh.
 *   <li>{@code refreshInterval}: how often the provider is read again; default {@code 60s}, at
 *       least {@code 1s}.
 *   <li>{@code ttl}: how long a list may be served after its last successful load while refreshes
 *       fail; then checks fail (exceptionally: the engine's fail-open/closed policy decides).
 *       Default {@code 300s}; at least {@code refreshInterval}.
 *   <li>{@code cachingInterval}, {@code cachingUseCount}: validity of each result; default {@code
 *       60s} and 10000.
 *   <li>{@code fetchTimeout}: the bound of one HTTP fetch, headers and body; default {@code 10s}.
 *   <li>{@code maxBytes}: the largest provider body or file accepted; default 16 MiB.
 * </ul>
 *
 * <p>Until an HTTP provider's first fetch succeeds, checks fail exceptionally with "list 'h' not
 * loaded yet: reason". Metrics: {@code arbiter_list_refreshes_total{handler,result}} counts
 * refreshes by {@code success}/{@code failure}; {@code arbiter_list_entries{handler}} is the size
 * of the list served. Stateless and thread-safe.
 */
public final class ListAdapter implements Adapter {

  /** For {@link java.util.ServiceLoader}. */
  public ListAdapter() {}

  @Override
  public String name() {
    return "list";
  }

  @Override
  public Set<Template> templates() {
    return Set.of(Template.LISTENTRY);
  }

  /**
   * Builds a handler; reads a {@code file:} provider now and starts fetching an HTTP one.
   *
   * @throws io.arbiter.engine.spi.ParamsException naming every bad setting: unknown keys, an
   *     unknown entry type, invalid entries (by index and text), a bad provider URL, an unreadable
   *     or invalid provider file, bad durations, {@code ttl} shorter than {@code refreshInterval}
   */
  @Override
  public Handler create(Params params, AdapterContext context) {
    ListConfig config = ListConfig.parse(params, context);
    EntryIndex initial = null;
    if (config.source() == null) {
      initial = build(params, config, List.of());
    } else if (config.source() instanceof FileSource file) {
      try {
        List<Entry> provided = ListSource.entries(file.read(), file);
        initial = build(params, config, provided);
      } catch (IOException e) {
        params.error("providerUrl", "cannot read " + file + ": " + ListSource.reason(e));
      }
    }
    params.validate();
    ListHandler handler = new ListHandler(config, context, initial);
    handler.start();
    return handler;
  }

  private static EntryIndex build(Params params, ListConfig config, List<Entry> provided) {
    List<Entry> all = new ArrayList<>(config.inline());
    all.addAll(provided);
    try {
      return EntryIndex.build(config.entryType(), all);
    } catch (InvalidEntryException e) {
      params.error("providerUrl", e.getMessage());
      return null;
    }
  }
}
