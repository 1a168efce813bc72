package io.arbiter.engine.spi;

import java.util.Arrays;
import java.util.Optional;

/**
 * The templates an instance can use. A template fixes the shape of the values the engine builds
 * from attributes (its {@link Instance} record) and the variety of call it serves.
 */
public enum Template {
  /** No data: the handler decides from its own settings (the denier, say). */
  CHECKNOTHING("checknothing", Variety.CHECK),
  /** One value to look up in a list. */
  LISTENTRY("listentry", Variety.CHECK),
  /** A subject and an action, for access-control adapters. */
  AUTHORIZATION("authorization", Variety.CHECK),
  /** A value and labels of a user-defined metric, reported after a request. */
  METRIC("metric", Variety.REPORT),
  /** A structured log entry, reported after a request. */
  LOGENTRY("logentry", Variety.REPORT),
  /** Dimensions of a quota to allocate from, on rate-limit calls and checks. */
  QUOTA("quota", Variety.QUOTA);

  /**
   * Which kind of call a template serves: checks (before a request), reports (after it), quota
   * allocations (rate-limit calls; a check may allocate too).
   */
  public enum Variety {
    CHECK,
    REPORT,
    QUOTA
  }

  private final String configName;
  private final Variety variety;

  Template(String configName, Variety variety) {
    this.configName = configName;
    this.variety = variety;
  }

  /** The name used in config, e.g. {@code listentry}. */
  public String configName() {
    return configName;
  }

  public Variety variety() {
    return variety;
  }

  public static Optional<Template> byConfigName(String name) {
    return Arrays.stream(values()).filter(t -> t.configName.equals(name)).findFirst();
  }
}
