package io.arbiter.engine.config;

import io.arbiter.engine.spi.Params;
import java.time.Duration;

/**
 * The {@code settings:} section: how failures resolve, deadlines, and the limits on what a call
 * may carry. Every field has a default a production config can keep.
 *
 * @param failOpen what an internal failure (an expression that errors at run time, a handler that
 *     fails or misses its deadline) resolves to: true allows, false (the default) denies
 * @param failureHttpStatus the HTTP status of a fail-closed denial (default 403, as Envoy's own
 *     {@code status_on_error})
 * @param handlerTimeout the deadline of each handler call (default 100ms; Envoy's own ext_authz
 *     timeout defaults to 200ms)
 * @param celMaxIterations the most iterations one CEL comprehension may run
 * @param maxHeaders the most request headers a check may carry; beyond it the call is denied
 * @param maxHeaderBytes the most bytes of header names and values a check may carry
 * @param maxBodyBytes the most request body bytes a check may carry
 * @param overLimitHttpStatus the HTTP status of a denial for exceeding a limit (default 431)
 * @param reportTimeout how long a report handler may take to accept a batch before the batch
 *     counts as failed (default 5s)
 * @param cache the check decision cache ({@code cache:}, see {@link CacheSettings})
 * @param overload load shedding for checks ({@code overload:}, see {@link OverloadSettings})
 */
public record Settings(
    boolean failOpen,
    int failureHttpStatus,
    Duration handlerTimeout,
    int celMaxIterations,
    int maxHeaders,
    int maxHeaderBytes,
    int maxBodyBytes,
    int overLimitHttpStatus,
    Duration reportTimeout,
    CacheSettings cache,
    OverloadSettings overload) {

  public static final Settings DEFAULT =
      new Settings(false, 403, Duration.ofMillis(100), 1000, 512, 256 * 1024, 1024 * 1024, 431,
          Duration.ofSeconds(5), CacheSettings.DEFAULT, OverloadSettings.DEFAULT);

  /** Settings with the default cache and overload settings. */
  public Settings(boolean failOpen, int failureHttpStatus, Duration handlerTimeout,
      int celMaxIterations, int maxHeaders, int maxHeaderBytes, int maxBodyBytes,
      int overLimitHttpStatus, Duration reportTimeout) {
    this(failOpen, failureHttpStatus, handlerTimeout, celMaxIterations, maxHeaders, maxHeaderBytes,
        maxBodyBytes, overLimitHttpStatus, reportTimeout, CacheSettings.DEFAULT,
        OverloadSettings.DEFAULT);
  }

  public Settings {
    java.util.Objects.requireNonNull(cache, "cache");
    java.util.Objects.requireNonNull(overload, "overload");
  }

  /** These settings with another cache. */
  public Settings withCache(CacheSettings c) {
    return new Settings(failOpen, failureHttpStatus, handlerTimeout, celMaxIterations, maxHeaders,
        maxHeaderBytes, maxBodyBytes, overLimitHttpStatus, reportTimeout, c, overload);
  }

  /** Reads settings; every problem is recorded in {@code params}. */
  static Settings read(Params p) {
    Settings d = DEFAULT;
    String policy = p.string("failurePolicy", d.failOpen ? "FAIL_OPEN" : "FAIL_CLOSED");
    boolean failOpen = d.failOpen;
    switch (policy.toUpperCase(java.util.Locale.ROOT)) {
      case "FAIL_OPEN", "OPEN" -> failOpen = true;
      case "FAIL_CLOSED", "CLOSED" -> failOpen = false;
      default -> p.error("failurePolicy", "'" + policy + "' is not FAIL_OPEN or FAIL_CLOSED");
    }
    int failureStatus = (int) p.integer("failureHttpStatus", d.failureHttpStatus, 200, 599);
    Duration timeout = p.duration("handlerTimeout", d.handlerTimeout);
    if (timeout.isZero() || timeout.compareTo(Duration.ofMinutes(1)) > 0) {
      p.error("handlerTimeout", "must be more than 0 and at most 1m, was " + timeout);
    }
    int iterations = (int) p.integer("celMaxIterations", d.celMaxIterations, 1, 1_000_000);
    int maxHeaders = (int) p.integer("maxHeaders", d.maxHeaders, 1, 100_000);
    int maxHeaderBytes = (int) p.integer("maxHeaderBytes", d.maxHeaderBytes, 1, 64 * 1024 * 1024);
    int maxBodyBytes = (int) p.integer("maxBodyBytes", d.maxBodyBytes, 0, 64 * 1024 * 1024);
    int overLimit = (int) p.integer("overLimitHttpStatus", d.overLimitHttpStatus, 400, 599);
    Duration reportTimeout = p.duration("reportTimeout", d.reportTimeout);
    if (reportTimeout.isZero() || reportTimeout.compareTo(Duration.ofMinutes(10)) > 0) {
      p.error("reportTimeout", "must be more than 0 and at most 10m, was " + reportTimeout);
    }
    p.has("cache");
    CacheSettings cache = CacheSettings.read(p, p.asMap().get("cache"));
    p.has("overload");
    OverloadSettings overload = OverloadSettings.read(p, p.asMap().get("overload"));
    return new Settings(
        failOpen, failureStatus, timeout, iterations, maxHeaders, maxHeaderBytes, maxBodyBytes,
        overLimit, reportTimeout, cache, overload);
  }
}
