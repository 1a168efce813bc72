package io.arbiter.bench;

import com.codahale.metrics.Counter;
import io.arbiter.engine.AttributeBag;
import io.arbiter.engine.CheckDecision;
import io.arbiter.engine.PolicyEngine;
import io.arbiter.engine.config.Settings;
import io.arbiter.engine.internal.CacheProbe;
import io.arbiter.extauthz.CheckRequestMapper;
import io.envoyproxy.envoy.service.auth.v3.CheckRequest;
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
 * The decision cache's cost and gain per check (issue 6: "the cost of building the key, target
 * under 1 µs"), for {@link Requests#standard()} against {@link CacheConfigs} {@code config}:
 * {@code 10} ({@code RuleSets.yaml(10)}), {@code 10+headers} (plus three rules reading {@code
 * user-agent}, {@code x-user}, {@code x-forwarded-for} on every request) and {@code 1000+headers}.
 *
 * <ul>
 *   <li>{@code key}: the engine's own {@code DecisionCache.Shape.key} for the standard bag (via
 *       {@link CacheProbe}): read each referenced value, allocate the key, hash it. The bag's
 *       strings were hashed before (a {@code String} caches its hash), so this is the floor;
 *   <li>{@code parseMap} and {@code parseMapKey}: the request parsed from its wire bytes and mapped
 *       to a bag (fresh strings, as in the server), without and with building its key: the
 *       difference is the key with every value's hash computed, as the server pays it;
 *   <li>{@code hit}: {@code PolicyEngine.check} answered from the cache (one entry; its use count
 *       of 10,000 makes one call in 10,001 evaluate again and store, as in the server);
 *   <li>{@code parseMapHit}: parse, map and a cached check: the engine's whole share of a server
 *       call on a hit (compare {@code CheckPipelineBenchmark.serverPath});
 *   <li>{@code miss}: {@code PolicyEngine.check} on an engine with {@code maxEntries: 1024},
 *       cycling 16,384 bags that differ only in their bearer token (distinct keys, same decision):
 *       lookup, single-flight join, evaluation, store, eviction;
 *   <li>{@code off}: the same config with {@code cache: {enabled: false}}: evaluation only;
 *       {@code offDistinct}: the same over the 16,384 bags ({@code miss − offDistinct} is what a
 *       miss adds);
 *   <li>{@code empty}: {@code rules: []} with the cache off: the engine's floor per call.
 * </ul>
 *
 * Setup checks every decision (allowed, the expected matched rules, no error; cached on a hit, not
 * on a miss), that the key has exactly one shape and tells tokens apart; teardown checks from the
 * engines' own counters that the hit benchmark hit (≥ 99%) and the miss benchmark missed (≥ 95%).
 *
 * <p>Run: {@code benchmarks/jmh.sh DecisionCacheBenchmark} or {@code java -jar
 * benchmarks/target/benchmarks.jar DecisionCacheBenchmark -prof gc -p config=10+headers}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
public class DecisionCacheBenchmark {
  static final int DISTINCT = 1 << 14;

  @Param({"10", "10+headers", "1000+headers"})
  public String config;

  private PolicyEngine cached;
  private PolicyEngine uncached;
  private PolicyEngine small;
  private PolicyEngine empty;
  private CheckRequestMapper mapper;
  private CacheProbe probe;
  private AttributeBag bag;
  private byte[] wire;
  private AttributeBag[] distinct;
  private int next;
  private int matches;
  private byte[][] keyStrings;
  private long hitsAtStart;
  private long missesAtStart;

  @Setup
  public void setup() throws Exception {
    matches = CacheConfigs.expectedMatches(config);
    cached = Engines.serving(CacheConfigs.yaml(config));
    uncached = Engines.serving(CacheConfigs.yaml(config + "/off"));
    small = Engines.serving(CacheConfigs.yaml(config, "{maxEntries: 1024}"));
    empty = Engines.serving("rules: []\nsettings:\n  cache: {enabled: false}\n");
    mapper = new CheckRequestMapper(cached.services().metrics());
    CheckRequest standard = Requests.standard();
    wire = standard.toByteArray();
    bag = Engines.attributes(cached, standard);

    CheckDecision first = cached.check(bag).toCompletableFuture().join();
    Engines.expect(first, true, matches);
    expectCached(first, false, "first check");
    CheckDecision second = cached.check(bag).toCompletableFuture().join();
    Engines.expect(second, true, matches);
    expectCached(second, true, "second check of the same bag");
    CheckDecision fresh = cached.check(parseMap()).toCompletableFuture().join();
    Engines.expect(fresh, true, matches);
    expectCached(fresh, true, "a check of the same request parsed again");

    probe = CacheProbe.of(cached);
    if (probe.shapes() != 1) {
      throw new IllegalStateException("expected one cache shape, got " + probe.shapes());
    }
    System.out.println("\n[" + config + "] cache key shape: " + probe.describe(0));
    java.util.List<byte[]> strings = new java.util.ArrayList<>();
    for (Object v : probe.values(0, bag)) {
      if (v instanceof String str) {
        strings.add(str.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
      }
    }
    keyStrings = strings.toArray(byte[][]::new);
    System.out.println("[" + config + "] key string values: " + keyStrings.length + ", "
        + strings.stream().mapToInt(x -> x.length).sum() + " characters");
    distinct = new AttributeBag[DISTINCT];
    for (int i = 0; i < DISTINCT; i++) {
      distinct[i] = Engines.attributes(small, CacheRequests.withKey(i));
    }
    if (!probe.sameKey(0, bag, parseMap()) || probe.sameKey(0, distinct[0], distinct[1])) {
      throw new IllegalStateException("the key does not tell the tokens apart, or differs for equal requests");
    }
    for (AttributeBag b : new AttributeBag[] {distinct[0], distinct[1], distinct[DISTINCT - 1]}) {
      CheckDecision d = small.check(b).toCompletableFuture().join();
      Engines.expect(d, true, matches);
      expectCached(d, false, "a new token");
      Engines.expect(uncached.check(b).toCompletableFuture().join(), true, matches);
    }
    CheckDecision off = uncached.check(bag).toCompletableFuture().join();
    Engines.expect(off, true, matches);
    expectCached(off, false, "the cache-off engine");
    Engines.expect(empty.check(bag).toCompletableFuture().join(), true, 0);
    hitsAtStart = lookups(cached, "hit");
    missesAtStart = lookups(small, "miss");
  }

  /**
   * Fails the trial when the engines' own counters say the hit benchmark did not hit or the miss
   * benchmark did not miss (only for the benchmark that ran: the others leave them near zero).
   */
  @TearDown
  public void tearDown() {
    try {
      long hits = lookups(cached, "hit") - hitsAtStart;
      long misses = lookups(cached, "miss") + lookups(cached, "merged");
      if (hits > 1_000 && hits < 0.99 * (hits + misses)) {
        throw new IllegalStateException("hit benchmark: only " + hits + " hits, " + misses + " misses");
      }
      long smallMisses = lookups(small, "miss") - missesAtStart;
      long smallHits = lookups(small, "hit") + lookups(small, "merged");
      if (smallMisses + smallHits > 1_000) {
        System.out.printf("%n[%s] miss benchmark: %d misses, %d hits (%.2f%% misses), %d entries, %d evicted by size%n",
            config, smallMisses, smallHits, 100.0 * smallMisses / (smallMisses + smallHits),
            CacheProbe.of(small).cache().size(), counter(small, "arbiter_check_cache_evictions_total", "cause", "size"));
        if (smallMisses < 0.95 * (smallMisses + smallHits)) {
          throw new IllegalStateException("miss benchmark: " + smallHits + " hits, " + smallMisses + " misses");
        }
      }
      if (hits > 1_000) {
        System.out.printf("%n[%s] hit benchmark: %d hits, %d misses (%.4f%% hits)%n",
            config, hits, misses, 100.0 * hits / (hits + misses));
      }
    } finally {
      Engines.close(cached);
      Engines.close(uncached);
      Engines.close(small);
      Engines.close(empty);
    }
  }

  private static void expectCached(CheckDecision d, boolean cached, String what) {
    if (d.cached() != cached) {
      throw new IllegalStateException(what + ": wanted cached=" + cached + ", got " + d);
    }
  }

  private static long lookups(PolicyEngine e, String result) {
    return counter(e, "arbiter_check_cache_lookups_total", "result", result);
  }

  private static long counter(PolicyEngine e, String name, String label, String value) {
    Counter c = e.services().metrics().counter(name, "", label, value);
    return c.getCount();
  }

  private AttributeBag parseMap() throws Exception {
    CheckRequestMapper.Mapping m = mapper.map(CheckRequest.parseFrom(wire), Settings.DEFAULT);
    return m.attributes();
  }

  private AttributeBag nextDistinct() {
    AttributeBag b = distinct[next];
    next = (next + 1) & (DISTINCT - 1);
    return b;
  }

  @Benchmark
  public Object key() {
    return probe.key(0, bag);
  }

  /**
   * What hashing the key's string values costs when their hashes are not cached yet (a fresh
   * request's strings): {@code Arrays.hashCode(byte[])} over their Latin-1 bytes, the same
   * {@code 31 * h + b} loop {@code String.hashCode} runs over a compact string's bytes.
   */
  @Benchmark
  public int hashKeyStrings() {
    int h = 0;
    for (byte[] b : keyStrings) {
      h = 31 * h + java.util.Arrays.hashCode(b);
    }
    return h;
  }

  @Benchmark
  public AttributeBag parseMapOnly() throws Exception {
    return parseMap();
  }

  @Benchmark
  public Object parseMapKey() throws Exception {
    return probe.key(0, parseMap());
  }

  @Benchmark
  public CheckDecision hit() {
    return cached.check(bag).toCompletableFuture().join();
  }

  @Benchmark
  public CheckDecision parseMapHit() throws Exception {
    return cached.check(parseMap()).toCompletableFuture().join();
  }

  @Benchmark
  public CheckDecision miss() {
    return small.check(nextDistinct()).toCompletableFuture().join();
  }

  @Benchmark
  public CheckDecision off() {
    return uncached.check(bag).toCompletableFuture().join();
  }

  @Benchmark
  public CheckDecision offDistinct() {
    return uncached.check(nextDistinct()).toCompletableFuture().join();
  }

  @Benchmark
  public CheckDecision empty() {
    return empty.check(bag).toCompletableFuture().join();
  }
}
