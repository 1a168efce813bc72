package io.arbiter.bench;

import io.arbiter.engine.AttributeBag;
import io.arbiter.engine.CheckDecision;
import io.arbiter.engine.PolicyEngine;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The full decision, {@code PolicyEngine.check(bag).toCompletableFuture().join()}, for {@link
 * Requests#standard()} against a {@link RuleSets} config of {@code rules} rules: per-service rules
 * guarded by path and host conditions, of which the request matches 1 (for 1 rule) or 2 (one adds
 * a header, one checks the token and allows). Every other rule must be rejected by its match, so
 * this is what rule indexing speeds up. No decision cache is involved (the engine has none); the
 * bag is mapped once in setup ({@link AttributeBagBenchmark} measures mapping).
 *
 * <p>Run: {@code java -jar benchmarks/target/benchmarks.jar EngineBenchmark -prof gc} (one size:
 * {@code -p rules=1000}). {@code gc.alloc.rate.norm} is the engine's allocation per check.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
public class EngineBenchmark {
  @Param({"1", "10", "100", "1000"})
  public int rules;

  private PolicyEngine engine;
  private AttributeBag bag;

  @Setup
  public void setup() {
    engine = Engines.serving(RuleSets.yaml(rules) + RuleSets.NO_CACHE);
    bag = Engines.attributes(engine, Requests.standard());
    Engines.expect(check(), true, RuleSets.expectedMatches(rules));
  }

  @TearDown
  public void tearDown() {
    Engines.close(engine);
  }

  @Benchmark
  public CheckDecision check() {
    return engine.check(bag).toCompletableFuture().join();
  }
}
