package io.arbiter.ratelimit;

import io.arbiter.engine.EngineServices;
import io.arbiter.engine.PolicyEngine;
import io.arbiter.engine.config.ConfigException;
import io.arbiter.engine.config.ConfigLoader;
import io.arbiter.engine.metrics.Metrics;
import io.arbiter.engine.spi.Adapter;
import java.nio.file.Path;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Engines built from YAML text, for tests. */
final class Engines {
  private Engines() {}

  /** An engine serving {@code yaml}; fails the test if it does not compile. */
  static PolicyEngine engine(String yaml, Adapter... adapters) {
    Map<String, Adapter> byName = new LinkedHashMap<>();
    for (Adapter a : adapters) {
      byName.put(a.name(), a);
    }
    PolicyEngine engine =
        new PolicyEngine(EngineServices.create(byName, Clock.systemUTC(), new Metrics()));
    try {
      engine.apply(engine.compile(List.of(ConfigLoader.parse(Path.of("test.yaml"), yaml))));
    } catch (ConfigException e) {
      throw new AssertionError(e.getMessage(), e);
    }
    return engine;
  }

  static long counter(PolicyEngine engine, String name, String... labels) {
    return engine.services().metrics().counter(name, "", labels).getCount();
  }
}
