package io.arbiter.adapters.otel;

import io.arbiter.adapters.internal.telemetry.MetricSpec;
import io.arbiter.engine.spi.Durations;
import io.arbiter.engine.spi.Params;
import io.arbiter.engine.spi.ParamsException;
import java.net.URI;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The settings of one {@code otel} handler, read from its params (see {@link OtelAdapter} for their
 * meaning).
 */
record OtelConfig(
    String endpoint,
    Map<String, String> headers,
    Duration timeout,
    String compression,
    List<MetricSpec> metrics,
    Map<String, String> resource,
    Duration exportInterval,
    int maxQueueSize,
    Retry retry) {

  /**
   * How failed exports are retried: within one export by the SDK's retry policy ({@code
   * maxAttempts} attempts, backoff from {@code initialBackoff} growing by {@code backoffMultiplier}
   * up to {@code maxBackoff}, with jitter), then, for logs, by re-exporting the batch after the same
   * kind of backoff until it is delivered.
   */
  record Retry(int maxAttempts, Duration initialBackoff, Duration maxBackoff, double backoffMultiplier) {
    static final Retry DEFAULT = new Retry(5, Duration.ofSeconds(1), Duration.ofSeconds(5), 1.5);
  }

  static final String DEFAULT_ENDPOINT = "http://127.0.0.1:4317";

  static final MetricSpec.Naming NAMING =
      new MetricSpec.Naming(
          Pattern.compile("[A-Za-z][A-Za-z0-9_./-]{0,254}"),
          "a letter, then letters, digits, '_', '.', '-' or '/', at most 255 characters",
          Pattern.compile("\\S{1,255}"),
          "1 to 255 characters, no spaces",
          null,
          Map.of(),
          true,
          List.of());

  OtelConfig {
    headers = Map.copyOf(headers);
    metrics = List.copyOf(metrics);
    resource = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(resource));
  }

  /** Reads every setting, recording each problem on {@code params}; does not validate. */
  static OtelConfig parse(Params params) {
    String endpoint = params.string("endpoint", DEFAULT_ENDPOINT);
    try {
      URI uri = URI.create(endpoint);
      String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
      if (!scheme.equals("http") && !scheme.equals("https")) {
        throw new IllegalArgumentException("the scheme must be http or https");
      }
      if (uri.getHost() == null || uri.getHost().isEmpty()) {
        throw new IllegalArgumentException("no host");
      }
    } catch (IllegalArgumentException e) {
      params.error("endpoint", "'" + endpoint + "' is not an http(s) URL: " + e.getMessage());
      endpoint = DEFAULT_ENDPOINT;
    }
    Map<String, String> headers = params.stringMap("headers");
    Duration timeout = positive(params, "timeout", Duration.ofSeconds(10));
    String compression = params.string("compression", "none").toLowerCase(Locale.ROOT);
    if (!compression.equals("none") && !compression.equals("gzip")) {
      params.error("compression", "must be none or gzip, was '" + compression + "'");
      compression = "none";
    }
    List<MetricSpec> metrics = MetricSpec.parseAll(params, "metrics", NAMING, false);
    Map<String, String> resource = new LinkedHashMap<>();
    resource.put("service.name", "arbiter");
    resource.putAll(params.stringMap("resource"));
    Duration exportInterval = params.duration("exportInterval", Duration.ofSeconds(10));
    if (exportInterval.compareTo(Duration.ofMillis(100)) < 0) {
      params.error("exportInterval", "must be at least 100ms, was " + Durations.format(exportInterval));
      exportInterval = Duration.ofSeconds(10);
    }
    int maxQueueSize = (int) params.integer("maxQueueSize", 20_000, 1, 10_000_000);
    Retry retry = retry(params);
    return new OtelConfig(endpoint, headers, timeout, compression, metrics, resource,
        exportInterval, maxQueueSize, retry);
  }

  private static Retry retry(Params params) {
    if (!params.has("retry")) {
      return Retry.DEFAULT;
    }
    if (!(params.asMap().get("retry") instanceof Map<?, ?> map)) {
      params.error("retry", "must be a mapping {maxAttempts, initialBackoff, maxBackoff, backoffMultiplier}");
      return Retry.DEFAULT;
    }
    @SuppressWarnings("unchecked")
    Params p = new Params((Map<String, ?>) map);
    Retry d = Retry.DEFAULT;
    int attempts = (int) p.integer("maxAttempts", d.maxAttempts(), 2, 5);
    Duration initial = positive(p, "initialBackoff", d.initialBackoff());
    Duration max = positive(p, "maxBackoff", d.maxBackoff());
    if (max.compareTo(initial) < 0) {
      p.error("maxBackoff", "must be at least initialBackoff " + Durations.format(initial));
      max = initial;
    }
    double multiplier = d.backoffMultiplier();
    String m = p.string("backoffMultiplier", null);
    if (m != null) {
      try {
        multiplier = Double.parseDouble(m);
        if (!(multiplier >= 1.0) || Double.isInfinite(multiplier)) {
          throw new NumberFormatException();
        }
      } catch (NumberFormatException e) {
        p.error("backoffMultiplier", "must be a number of at least 1, was '" + m + "'");
        multiplier = d.backoffMultiplier();
      }
    }
    try {
      p.validate();
    } catch (ParamsException e) {
      for (Params.Problem problem : e.problems()) {
        params.error("retry." + problem.field(), problem.reason());
      }
    }
    return new Retry(attempts, initial, max, multiplier);
  }

  private static Duration positive(Params p, String key, Duration defaultValue) {
    Duration d = p.duration(key, defaultValue);
    if (d.isZero() || d.isNegative()) {
      p.error(key, "must be more than 0");
      return defaultValue;
    }
    return d;
  }
}
