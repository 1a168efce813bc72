package io.arbiter.bench;

import io.arbiter.engine.AttributeBag;
import io.arbiter.engine.CheckDecision;
import io.arbiter.engine.EngineServices;
import io.arbiter.engine.PolicyEngine;
import io.arbiter.engine.config.ConfigException;
import io.arbiter.engine.config.ConfigLoader;
import io.arbiter.engine.config.Settings;
import io.arbiter.extauthz.CheckRequestMapper;
import io.envoyproxy.envoy.service.auth.v3.CheckRequest;
import java.nio.file.Path;
import java.util.List;

/** Engines built through the public API only, as the server builds them, for the benchmarks. */
final class Engines {
  private Engines() {}

  /**
   * A new engine serving {@code yaml}, on its own {@link EngineServices#defaults()} (the adapters
   * on the class path). Close it with {@link #close}.
   */
  static PolicyEngine serving(String yaml) {
    EngineServices services = EngineServices.defaults();
    PolicyEngine engine = new PolicyEngine(services);
    try {
      engine.apply(engine.compile(List.of(ConfigLoader.parse(Path.of("bench.yaml"), yaml))));
    } catch (ConfigException e) {
      services.close();
      throw new IllegalStateException("benchmark config does not compile: " + e.getMessage(), e);
    }
    return engine;
  }

  static void close(PolicyEngine engine) {
    if (engine != null) {
      engine.close();
      engine.services().close();
    }
  }

  /** The attributes the server would evaluate for {@code request} (default limits). */
  static AttributeBag attributes(PolicyEngine engine, CheckRequest request) {
    CheckRequestMapper.Mapping m =
        new CheckRequestMapper(engine.services().metrics()).map(request, Settings.DEFAULT);
    if (m.rejected()) {
      throw new IllegalStateException("benchmark request rejected: " + m.rejection());
    }
    return m.attributes();
  }

  /**
   * Fails the trial unless {@code decision} is what the benchmark claims to measure, so that a
   * change in the engine (an index that drops a rule, say) cannot make a benchmark fast by making
   * it wrong.
   */
  static void expect(CheckDecision decision, boolean allowed, int matchedRules) {
    if (decision.result().allowed() != allowed
        || decision.matchedRules().size() != matchedRules
        || !decision.errors().isEmpty()) {
      throw new IllegalStateException(
          "unexpected decision: wanted allowed=" + allowed + " with " + matchedRules
              + " matched rules, got " + decision);
    }
  }
}
