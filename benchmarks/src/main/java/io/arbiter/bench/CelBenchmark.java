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
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One compiled rule's match, {@code request.path.startsWith('/admin') && !('x-user' in
 * request.headers)} (the README's {@code admin-needs-user}, without an action), evaluated through
 * the public API: {@link PolicyEngine#check} on an engine serving only that rule, minus {@code
 * noRules}, the same check on an engine serving none (decision id, result combining, metrics).
 * The engine exposes compiled expressions only in {@code io.arbiter.engine.internal}, so there is
 * no public way to time the expression alone; the difference is the evaluation plus recording a
 * match.
 *
 * <ul>
 *   <li>{@code matchTrue}: {@code /admin/users} without {@code x-user}: both sides evaluated, the
 *       rule matches.
 *   <li>{@code matchFalseByHeader}: {@code /admin/users} with {@code x-user}: both sides
 *       evaluated, no match.
 *   <li>{@code matchFalseByPath}: {@code /svc-0/...}: {@code &&} short-circuits after the prefix.
 * </ul>
 *
 * <p>Run: {@code java -jar benchmarks/target/benchmarks.jar CelBenchmark -prof gc}
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
public class CelBenchmark {
  static final String RULE =
      """
      rules:
        - name: admin-needs-user
          match: "request.path.startsWith('/admin') && !('x-user' in request.headers)"
      """;

  private PolicyEngine empty;
  private PolicyEngine oneRule;
  private AttributeBag adminNoUser;
  private AttributeBag adminWithUser;
  private AttributeBag otherPath;

  @Setup
  public void setup() {
    empty = Engines.serving("rules: []\n" + RuleSets.NO_CACHE);
    oneRule = Engines.serving(RULE + RuleSets.NO_CACHE);
    adminNoUser = Engines.attributes(oneRule, Requests.request("app.example.com", "/admin/users?page=2", false));
    adminWithUser = Engines.attributes(oneRule, Requests.request("app.example.com", "/admin/users?page=2", true));
    otherPath = Engines.attributes(oneRule, Requests.standard());
    Engines.expect(oneRule.check(adminNoUser).toCompletableFuture().join(), true, 1);
    Engines.expect(oneRule.check(adminWithUser).toCompletableFuture().join(), true, 0);
    Engines.expect(oneRule.check(otherPath).toCompletableFuture().join(), true, 0);
    Engines.expect(empty.check(adminNoUser).toCompletableFuture().join(), true, 0);
  }

  @TearDown
  public void tearDown() {
    Engines.close(empty);
    Engines.close(oneRule);
  }

  @Benchmark
  public CheckDecision noRules() {
    return empty.check(adminNoUser).toCompletableFuture().join();
  }

  @Benchmark
  public CheckDecision matchTrue() {
    return oneRule.check(adminNoUser).toCompletableFuture().join();
  }

  @Benchmark
  public CheckDecision matchFalseByHeader() {
    return oneRule.check(adminWithUser).toCompletableFuture().join();
  }

  @Benchmark
  public CheckDecision matchFalseByPath() {
    return oneRule.check(otherPath).toCompletableFuture().join();
  }
}
