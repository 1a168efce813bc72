package io.arbiter.engine.testing;

import io.arbiter.engine.AttributeBag;
import io.arbiter.engine.CheckDecision;
import io.arbiter.engine.EngineServices;
import io.arbiter.engine.PolicyEngine;
import io.arbiter.engine.config.ConfigException;
import io.arbiter.engine.config.ConfigLoader;
import io.arbiter.engine.config.ConfigSnapshot;
import io.arbiter.engine.metrics.Metrics;
import io.arbiter.engine.spi.Adapter;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Map;

/** Builds engines from YAML text for tests. */
public final class TestEngines {
  private TestEngines() {}

  public static EngineServices services(Adapter... adapters) {
    Map<String, Adapter> byName = new java.util.LinkedHashMap<>();
    for (Adapter a : adapters) {
      byName.put(a.name(), a);
    }
    return EngineServices.create(byName, Clock.systemUTC(), new Metrics());
  }

  /** An engine serving {@code yaml}; fails the test if it does not compile. */
  public static PolicyEngine engine(String yaml, Adapter... adapters) {
    PolicyEngine engine = new PolicyEngine(services(adapters));
    try {
      engine.apply(compile(engine, yaml));
    } catch (ConfigException e) {
      throw new AssertionError(e.getMessage(), e);
    }
    return engine;
  }

  public static ConfigSnapshot compile(PolicyEngine engine, String yaml) throws ConfigException {
    return engine.compile(List.of(ConfigLoader.parse(Path.of("test.yaml"), yaml)));
  }

  /** Decides synchronously (waits at most 5 s). */
  public static CheckDecision check(PolicyEngine engine, AttributeBag bag) {
    try {
      return engine.check(bag).toCompletableFuture().get(5, java.util.concurrent.TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }
}
