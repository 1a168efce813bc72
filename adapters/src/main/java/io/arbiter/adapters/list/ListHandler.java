package io.arbiter.adapters.list;

import com.codahale.metrics.Counter;
import io.arbiter.engine.spi.AdapterContext;
import io.arbiter.engine.spi.CheckHandler;
import io.arbiter.engine.spi.CheckResult;
import io.arbiter.engine.spi.Code;
import io.arbiter.engine.spi.Durations;
import io.arbiter.engine.spi.LogLimiter;
import io.arbiter.engine.spi.Instance;
import java.lang.System.Logger.Level;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Checks {@code listentry} values against a list of inline entries plus, optionally, a provider's,
 * which it refreshes every {@code refreshInterval} on the context's scheduler.
 *
 * <p>A failed refresh keeps the last good list until it is older than {@code ttl} (age counted from
 * the last successful load, read from the context's clock); then the list is discarded. While no
 * list is loaded, checks complete exceptionally with {@link ListUnavailableException}, which the
 * engine resolves by its fail-open or fail-closed policy. Refreshes are chained (the next is
 * scheduled when one ends), so a slow provider never has two fetches in flight. After {@link
 * #close()} no refresh is scheduled and a fetch still in flight is cancelled and installs nothing.
 * Thread-safe.
 */
final class ListHandler implements CheckHandler {

  /** Longest part of a checked value quoted in a denial message. */
  private static final int MAX_QUOTED = 256;

  /**
   * What the handler serves.
   *
   * @param index the list, or {@code null} if none is loaded
   * @param loadedAt when the list was loaded; {@code null} if no load ever succeeded
   * @param lastError why the latest refresh failed; {@code null} if it succeeded
   */
  private record State(EntryIndex index, Instant loadedAt, String lastError) {}

  private final String name;
  private final ListConfig config;
  private final Clock clock;
  private final ScheduledExecutorService scheduler;
  private final System.Logger log;
  private final Counter refreshSuccesses;
  private final Counter refreshFailures;
  private final AutoCloseable gauge;
  private final LogLimiter costlyLog = new LogLimiter(1);
  private final CompletionStage<CheckResult> allow;
  private final CompletableFuture<Void> initialized = new CompletableFuture<>();
  private final Object lock = new Object();

  private volatile State state;
  // Guarded by lock.
  private boolean closed;
  private ScheduledFuture<?> nextRefresh;
  private CompletableFuture<String> inFlight;

  /**
   * @param initial the list loaded synchronously at config load (inline entries, plus a file's);
   *     {@code null} for an HTTP provider, whose first fetch {@link #start()} begins
   */
  ListHandler(ListConfig config, AdapterContext context, EntryIndex initial) {
    this.name = context.handlerName();
    this.config = config;
    this.clock = context.clock();
    this.scheduler = context.scheduler();
    this.log = context.logger();
    String refreshes = "arbiter_list_refreshes_total";
    String help = "Refreshes of a list handler's provider list, by result.";
    this.refreshSuccesses =
        context.metrics().counter(refreshes, help, "handler", name, "result", "success");
    this.refreshFailures =
        context.metrics().counter(refreshes, help, "handler", name, "result", "failure");
    this.allow =
        CompletableFuture.completedStage(
            CheckResult.ok().withValidity(config.cachingInterval(), config.cachingUseCount()));
    this.state =
        initial != null
            ? new State(initial, clock.instant(), null)
            : new State(null, null, "the first fetch from " + config.source() + " has not ended");
    this.gauge =
        context.metrics().gauge(
            "arbiter_list_entries",
            "Entries in the list a list handler serves (0 when none is loaded).",
            this::entryCount,
            "handler",
            name);
  }

  /** Begins the first fetch of an HTTP provider, or schedules the first refresh of a file. */
  void start() {
    if (config.source() == null) {
      initialized.complete(null);
    } else if (state.index() != null) {
      initialized.complete(null);
      scheduleNext();
    } else {
      refresh()
          .whenComplete(
              (v, t) -> {
                scheduleNext();
                initialized.complete(null);
              });
    }
  }

  /** Completes after the first load, successful or not (at once for inline and file lists). */
  @Override
  public CompletionStage<Void> initialized() {
    return initialized;
  }

  /**
   * Looks the value up. Whitelist: allows a value in the list; denies with PERMISSION_DENIED one
   * that is not, or (IP lists) is not an IP address. Blacklist: denies a value in the list; allows
   * one that is not, or is not an IP address. Regex lists deny in both modes a value they cannot
   * match within their bounds ({@link RegexIndex}). Completes exceptionally with {@link
   * ListUnavailableException} while no list is loaded or the list is older than {@code ttl}.
   */
  @Override
  public CompletionStage<CheckResult> check(Instance instance) {
    if (!(instance instanceof Instance.ListEntry entry)) {
      return CompletableFuture.failedStage(
          new IllegalArgumentException(
              "list handler '" + name + "' takes listentry instances, not " + instance));
    }
    State s = state;
    if (s.index() == null || expired(s, clock.instant())) {
      return CompletableFuture.failedStage(new ListUnavailableException(unavailable(s)));
    }
    String value = entry.value() == null ? "" : entry.value();
    return switch (s.index().lookup(value)) {
      case FOUND ->
          config.blacklist() ? deny(quote(value) + " is blacklisted by '" + name + "'") : allow;
      case ABSENT ->
          config.blacklist() ? allow : deny(quote(value) + " is not in list '" + name + "'");
      case NOT_AN_IP ->
          config.blacklist()
              ? allow
              : deny(quote(value) + " is not an IP address, so it is not in list '" + name + "'");
      case TOO_LONG ->
          deny(
              "a value of "
                  + value.length()
                  + " chars is longer than the "
                  + RegexIndex.MAX_INPUT_LENGTH
                  + " that list '"
                  + name
                  + "' matches its regexes against");
      case TOO_COMPLEX -> tooComplex(value);
    };
  }

  /**
   * Fetches the provider's list once and installs it, or records the failure; the returned future
   * completes when that is done and never fails. Package-private so tests can drive refreshes.
   */
  CompletableFuture<Void> refresh() {
    synchronized (lock) {
      if (closed) {
        return CompletableFuture.completedFuture(null);
      }
    }
    CompletableFuture<String> fetch = config.source().fetch();
    synchronized (lock) {
      if (closed) {
        fetch.cancel(true);
      } else {
        inFlight = fetch;
      }
    }
    return fetch.handle(
        (text, error) -> {
          try {
            install(text, error);
          } catch (RuntimeException e) {
            log.log(Level.ERROR, "list '" + name + "': refresh failed unexpectedly", e);
          }
          return null;
        });
  }

  /** Cancels the scheduled refresh and any fetch in flight; nothing is installed afterwards. */
  @Override
  public void close() {
    synchronized (lock) {
      if (closed) {
        return;
      }
      closed = true;
      if (nextRefresh != null) {
        nextRefresh.cancel(false);
      }
      if (inFlight != null) {
        inFlight.cancel(true);
      }
    }
    try {
      gauge.close();
    } catch (Exception e) {
      throw new IllegalStateException("cannot happen: a gauge registration does not throw", e);
    }
    initialized.complete(null);
  }

  /** The entries of the list served now: 0 if none is loaded or it expired. */
  int entryCount() {
    State s = state;
    return s.index() == null || expired(s, clock.instant()) ? 0 : s.index().size();
  }

  private void install(String text, Throwable error) {
    Instant now = clock.instant();
    EntryIndex index = null;
    String failure = null;
    if (error == null) {
      try {
        List<Entry> all = new ArrayList<>(config.inline());
        all.addAll(ListSource.entries(text, config.source()));
        index = EntryIndex.build(config.entryType(), all);
      } catch (InvalidEntryException e) {
        failure = e.getMessage();
      }
    } else {
      failure = ListSource.reason(error);
    }
    State before;
    State after;
    synchronized (lock) {
      if (closed) {
        return;
      }
      before = state;
      if (failure == null) {
        after = new State(index, now, null);
      } else {
        boolean keep = before.index() != null && !expired(before, now);
        after = new State(keep ? before.index() : null, before.loadedAt(), failure);
      }
      state = after;
    }
    if (failure == null) {
      refreshSuccesses.inc();
      Level level = before.index() == null || before.lastError() != null ? Level.INFO : Level.DEBUG;
      log.log(
          level, "list ''{0}'': loaded {1} entries from {2}", name, index.size(), config.source());
    } else {
      refreshFailures.inc();
      if (after.index() != null) {
        log.log(
            Level.WARNING,
            "list ''{0}'': refresh failed, keeping the list loaded at {1} until {2}: {3}",
            name,
            after.loadedAt(),
            after.loadedAt().plus(config.ttl()),
            failure);
      } else {
        log.log(
            Level.WARNING,
            "list ''{0}'': refresh failed and no list is loaded; checks fail until one succeeds:"
                + " {1}",
            name,
            unavailable(after));
      }
    }
  }

  private void scheduleNext() {
    synchronized (lock) {
      if (closed) {
        return;
      }
      try {
        nextRefresh =
            scheduler.schedule(
                this::scheduledRefresh, config.refreshInterval().toNanos(), TimeUnit.NANOSECONDS);
      } catch (RejectedExecutionException e) {
        log.log(Level.WARNING, "list ''{0}'': the scheduler is shut down; no more refreshes", name);
      }
    }
  }

  private void scheduledRefresh() {
    refresh().whenComplete((v, t) -> scheduleNext());
  }

  private boolean expired(State s, Instant now) {
    return config.source() != null
        && s.loadedAt() != null
        && now.isAfter(s.loadedAt().plus(config.ttl()));
  }

  private String unavailable(State s) {
    String error = s.lastError() == null ? "no refresh has ended since" : s.lastError();
    if (s.loadedAt() == null) {
      return "list '" + name + "' not loaded yet: " + error;
    }
    return "list '"
        + name
        + "' expired: last loaded at "
        + s.loadedAt()
        + ", more than its ttl of "
        + Durations.format(config.ttl())
        + " ago; last refresh: "
        + error;
  }

  private CompletionStage<CheckResult> tooComplex(String value) {
    long suppressed = costlyLog.tryAcquire(clock.millis());
    if (suppressed >= 0) {
      log.log(
          Level.WARNING,
          "list ''{0}'': {1} hit the matching budget of a regex and was denied{2}",
          name,
          quote(value),
          suppressed > 0 ? " (" + suppressed + " similar messages suppressed)" : "");
    }
    return deny(
        quote(value) + " is too costly to match against the regexes of list '" + name + "'");
  }

  private CompletionStage<CheckResult> deny(String message) {
    return CompletableFuture.completedStage(
        CheckResult.deny(Code.PERMISSION_DENIED, message)
            .withValidity(config.cachingInterval(), config.cachingUseCount()));
  }

  private static String quote(String value) {
    if (value.length() <= MAX_QUOTED) {
      return "'" + value + "'";
    }
    int end = Character.isHighSurrogate(value.charAt(MAX_QUOTED - 1)) ? MAX_QUOTED - 1 : MAX_QUOTED;
    return "'" + value.substring(0, end) + "...' (" + value.length() + " chars)";
  }
}
