package io.arbiter.server.internal;

import com.codahale.metrics.Counter;
import io.arbiter.engine.PolicyEngine;
import io.arbiter.engine.config.ConfigDocument;
import io.arbiter.engine.config.ConfigException;
import io.arbiter.engine.config.ConfigSnapshot;
import io.arbiter.engine.metrics.Metrics;
import io.arbiter.server.ConfigSource;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Loads the config, then polls its files and applies each change that validates fully. An invalid
 * change is logged with every error and counted, once per distinct content, and the serving
 * config stays. Polling (rather than file events) also sees Kubernetes ConfigMap symlink swaps.
 */
public final class ConfigWatcher implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger("arbiter.config");

  private final PolicyEngine engine;
  private final ConfigSource source;
  private final Counter successes;
  private final Counter failures;
  private final AtomicLong lastSuccessSeconds = new AtomicLong();
  private volatile String lastSeen = "";
  private ScheduledFuture<?> task;

  public ConfigWatcher(PolicyEngine engine, ConfigSource source, Metrics metrics) {
    this.engine = engine;
    this.source = source;
    String name = "arbiter_config_reloads_total";
    String help = "Config loads and reloads, by result (a failed one leaves the serving config in place).";
    this.successes = metrics.counter(name, help, "result", "success");
    this.failures = metrics.counter(name, help, "result", "failure");
    metrics.gauge(
        "arbiter_config_last_success_timestamp_seconds",
        "When a config was last applied, in Unix seconds.",
        lastSuccessSeconds::get);
  }

  /**
   * Loads and applies the config; the process must not serve without one.
   *
   * @throws ConfigException with every error
   */
  public ConfigSnapshot loadInitial() throws ConfigException {
    try {
      List<ConfigDocument> docs = source.read();
      lastSeen = ConfigDocument.fingerprint(docs);
      ConfigSnapshot s = engine.compile(docs);
      engine.apply(s);
      applied(s);
      return s;
    } catch (ConfigException e) {
      failures.inc();
      throw e;
    }
  }

  /** Polls every {@code interval} when the source can change. */
  public void start(ScheduledExecutorService scheduler, Duration interval) {
    if (source.watchable() && !interval.isZero()) {
      long ms = interval.toMillis();
      task = scheduler.scheduleWithFixedDelay(this::poll, ms, ms, TimeUnit.MILLISECONDS);
    }
  }

  /** One poll: reload if the files changed. Never throws. */
  public void poll() {
    try {
      List<ConfigDocument> docs;
      try {
        docs = source.read();
      } catch (ConfigException e) {
        String key = "unreadable:" + e.getMessage();
        if (!key.equals(lastSeen)) {
          lastSeen = key;
          failures.inc();
          LOG.log(System.Logger.Level.ERROR,
              "config {0} cannot be read; still serving version {1}: {2}", source, servingVersion(), e.getMessage());
        }
        return;
      }
      String fingerprint = ConfigDocument.fingerprint(docs);
      if (fingerprint.equals(lastSeen)) {
        return;
      }
      lastSeen = fingerprint;
      try {
        ConfigSnapshot s = engine.compile(docs);
        engine.apply(s);
        applied(s);
      } catch (ConfigException e) {
        failures.inc();
        LOG.log(System.Logger.Level.ERROR,
            "config {0} changed but is invalid; still serving version {1}: {2}", source, servingVersion(), e.getMessage());
      }
    } catch (RuntimeException e) {
      failures.inc();
      LOG.log(System.Logger.Level.ERROR, "config reload failed unexpectedly", e);
    }
  }

  private void applied(ConfigSnapshot s) {
    successes.inc();
    lastSuccessSeconds.set(s.loadedAt().getEpochSecond());
    LOG.log(System.Logger.Level.INFO, "serving {0} from {1}", s.summary(), source);
  }

  private String servingVersion() {
    return engine.current().map(ConfigSnapshot::version).orElse("none");
  }

  @Override
  public void close() {
    if (task != null) {
      task.cancel(false);
    }
  }
}
