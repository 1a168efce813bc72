package io.arbiter.engine.internal;

import com.codahale.metrics.Counter;
import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;
import com.github.benmanes.caffeine.cache.RemovalCause;
import io.arbiter.engine.AttributeBag;
import io.arbiter.engine.config.CacheSettings;
import io.arbiter.engine.config.ConfigSnapshot;
import io.arbiter.engine.metrics.Metrics;
import io.arbiter.engine.spi.CheckResult;
import io.arbiter.engine.spi.HeaderValue;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The check decision cache of one config snapshot: decisions keyed by exactly the attributes their
 * evaluation read (Mixer's referenced attributes), reused while valid, with identical in-flight
 * checks merged into one evaluation.
 *
 * <h2>Why a hit is always the decision evaluation would take</h2>
 *
 * An evaluation is a deterministic function of the attributes it reads: the rule index reads its
 * indexed attributes, each evaluated rule its match's {@link Reference}s, each matching rule those
 * of its conditions, directives and instances (statically found, so a superset of what one run
 * reads). A decision is stored under its <em>shape</em> (that set of references) and the values
 * the call had for them, absent ones included. A later call that has the same values for the same
 * shape would read the same values at every step, so it would take the same path to the same
 * decision; everything else about it is irrelevant. The cache keeps one entry per shape and
 * values, so a lookup tries each shape seen (usually a handful; at most {@code maxShapes}). What a
 * handler's answer depends on beyond its instance (time, its backend) is bounded by the result's
 * validity, as in Mixer.
 *
 * <p>Identical in-flight checks are merged under the union of all shapes, which any two calls
 * that could take different paths differ in: the first evaluates, the rest wait for it and reuse
 * its decision if it may be reused (else they evaluate on their own, so one-time results and
 * quota allocations are never shared).
 *
 * <p>Not cached: decisions that failed (an error, a deadline), results valid for no time or no
 * use (quota allocations among them), and new shapes beyond {@code maxShapes}. Thread-safe.
 */
public final class DecisionCache {

  /** The counters and gauges the engine keeps for every snapshot's cache. */
  public record Counters(Counter hits, Counter misses, Counter merged, Counter uncacheable,
      Counter shapeOverflow, Counter evictedSize, Counter evictedExpired) {
    public static Counters register(Metrics m) {
      String lookups = "arbiter_check_cache_lookups_total";
      String lookupsHelp = "Checks that looked in the decision cache, by result: hit, miss, or merged"
          + " (waited for an identical check in flight and reused its decision).";
      String evictions = "arbiter_check_cache_evictions_total";
      String evictionsHelp = "Decisions removed from the cache, by cause: size (a bound) or expired.";
      return new Counters(
          m.counter(lookups, lookupsHelp, "result", "hit"),
          m.counter(lookups, lookupsHelp, "result", "miss"),
          m.counter(lookups, lookupsHelp, "result", "merged"),
          m.counter("arbiter_check_cache_uncacheable_total",
              "Evaluated decisions not cached: failed, valid for no time or use, or a new shape beyond maxShapes."),
          m.counter("arbiter_check_cache_shape_overflow_total",
              "Decisions not cached because their set of read attributes was new and maxShapes were already kept."),
          m.counter(evictions, evictionsHelp, "cause", "size"),
          m.counter(evictions, evictionsHelp, "cause", "expired"));
    }
  }

  /** A cached decision and how often it may still be reused. */
  public static final class Entry {
    private final CheckResult result;
    private final List<String> matchedRules;
    private final String configVersion;
    private final long ttlNanos;
    private final AtomicInteger uses;
    private final int weight;

    Entry(CheckResult result, List<String> matchedRules, String configVersion, long ttlNanos,
        int uses, int weight) {
      this.result = result;
      this.matchedRules = matchedRules;
      this.configVersion = configVersion;
      this.ttlNanos = ttlNanos;
      this.uses = new AtomicInteger(uses);
      this.weight = weight;
    }

    public CheckResult result() {
      return result;
    }

    public List<String> matchedRules() {
      return matchedRules;
    }

    public String configVersion() {
      return configVersion;
    }

    /** Takes one use; false when none is left. */
    public boolean tryUse() {
      return uses.getAndDecrement() > 0;
    }
  }

  /** A set of references a decision depended on. Identity is the shape: keys of two never meet. */
  static final class Shape {
    final Reference[] refs;
    private final AttributeBag.Name[] names;
    private final String[] mapKeys;

    Shape(Reference[] refs) {
      this.refs = refs;
      this.names = new AttributeBag.Name[refs.length];
      this.mapKeys = new String[refs.length];
      for (int i = 0; i < refs.length; i++) {
        names[i] = AttributeBag.name(refs[i].attribute());
        mapKeys[i] = refs[i].key();
      }
    }

    /** {@link Reference#read} for each reference, with the attribute names resolved once. */
    Key key(AttributeBag bag) {
      Object[] values = new Object[names.length];
      for (int i = 0; i < names.length; i++) {
        Object v = bag.get(names[i]);
        if (v != null && mapKeys[i] != null) {
          v = ((Map<?, ?>) v).get(mapKeys[i]);
        }
        values[i] = v != null ? v : Reference.ABSENT;
      }
      return new Key(this, values);
    }
  }

  /**
   * A shape and the values a call had for it.
   *
   * <p>Hashes and compares its values itself rather than through {@link Arrays}: most are strings,
   * and a loop of our own tests for them first, so its calls stay direct however many other types
   * the JDK's shared {@code Arrays.hashCode} and {@code Objects.equals} have seen elsewhere in the
   * process (with a thousand rules' worth of warm-up, enough to make those calls virtual).
   */
  static final class Key {
    final Shape shape;
    final Object[] values;
    final int hash;

    Key(Shape shape, Object[] values) {
      this.shape = shape;
      this.values = values;
      this.hash = System.identityHashCode(shape) * 31 + hash(values);
    }

    private static int hash(Object[] values) {
      int h = 1;
      for (Object v : values) {
        h = 31 * h + (v instanceof String s ? s.hashCode() : v.hashCode());
      }
      return h;
    }

    @Override
    public int hashCode() {
      return hash;
    }

    @Override
    public boolean equals(Object o) {
      if (!(o instanceof Key k) || k.hash != hash || k.shape != shape) {
        return false;
      }
      Object[] a = values;
      Object[] b = k.values;
      for (int i = 0; i < a.length; i++) {
        Object x = a[i];
        Object y = b[i];
        if (x != y && !(x instanceof String s ? s.equals(y) : x.equals(y))) {
          return false;
        }
      }
      return true;
    }
  }

  /** A bit set as a map key. */
  private record Bits(long[] bits) {
    @Override
    public boolean equals(Object o) {
      return o instanceof Bits b && Arrays.equals(b.bits, bits);
    }

    @Override
    public int hashCode() {
      return Arrays.hashCode(bits);
    }
  }

  /** A check's place in the merging of identical checks. */
  public static final class Flight {
    private final Key key;
    private final CompletableFuture<Entry> done;
    private final boolean leader;

    Flight(Key key, CompletableFuture<Entry> done, boolean leader) {
      this.key = key;
      this.done = done;
      this.leader = leader;
    }

    /** True for the check that evaluates; the others wait for {@link #done}. */
    public boolean leader() {
      return leader;
    }

    /** The leader's entry, or null when its decision may not be reused. */
    public CompletableFuture<Entry> done() {
      return done;
    }
  }

  private final ConfigSnapshot snapshot;
  private final CacheSettings settings;
  private final RuleReferences references;
  private final Counters counters;
  private final Cache<Key, Entry> cache;
  private final ConcurrentHashMap<Key, CompletableFuture<Entry>> inflight = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<Bits, Shape> byBits = new ConcurrentHashMap<>();
  private final Shape union;
  private volatile Shape[] shapes = new Shape[0];

  /**
   * @param clock times validity: the system clock means the monotonic {@link System#nanoTime};
   *     any other (a test's) is read in milliseconds
   */
  public DecisionCache(ConfigSnapshot snapshot, Counters counters, java.time.Clock clock) {
    this.snapshot = snapshot;
    this.settings = snapshot.settings().cache();
    this.references = snapshot.checks().references();
    this.counters = counters;
    this.union = new Shape(references.resolve(references.all()));
    long floor = Math.max(1, settings.maxBytes() / settings.maxEntries());
    this.cache = Caffeine.newBuilder()
        .maximumWeight(settings.maxBytes())
        .weigher((Key k, Entry e) -> (int) Math.min(Integer.MAX_VALUE, Math.max(e.weight, floor)))
        .expireAfter(new Expiry<Key, Entry>() {
          @Override
          public long expireAfterCreate(Key key, Entry value, long currentTime) {
            return value.ttlNanos;
          }

          @Override
          public long expireAfterUpdate(Key key, Entry value, long currentTime, long currentDuration) {
            return value.ttlNanos;
          }

          @Override
          public long expireAfterRead(Key key, Entry value, long currentTime, long currentDuration) {
            return currentDuration;
          }
        })
        .executor(Runnable::run)
        .ticker(Tickers.of(clock))
        .removalListener((Key k, Entry e, RemovalCause cause) -> {
          if (cause == RemovalCause.SIZE) {
            counters.evictedSize.inc();
          } else if (cause == RemovalCause.EXPIRED) {
            counters.evictedExpired.inc();
          }
        })
        .build();
  }

  /** The snapshot whose decisions this caches. */
  public ConfigSnapshot snapshot() {
    return snapshot;
  }

  /** A reusable decision for {@code bag}, its use taken; or null (counted as a miss). */
  public Entry lookup(AttributeBag bag) {
    for (Shape s : shapes) {
      Key key = s.key(bag);
      Entry e = cache.getIfPresent(key);
      if (e != null) {
        if (e.tryUse()) {
          counters.hits.inc();
          return e;
        }
        cache.asMap().remove(key, e);
      }
    }
    counters.misses.inc();
    return null;
  }

  /** Joins the evaluation of an identical check in flight, or leads a new one. */
  public Flight join(AttributeBag bag) {
    Key key = union.key(bag);
    CompletableFuture<Entry> mine = new CompletableFuture<>();
    CompletableFuture<Entry> other = inflight.putIfAbsent(key, mine);
    return other == null ? new Flight(key, mine, true) : new Flight(key, other, false);
  }

  /** Counts a check that reused the decision of the identical one it waited for. */
  public void merged() {
    counters.merged.inc();
  }

  /**
   * Ends a leader's flight: caches its decision if it may be reused, then releases the checks
   * that waited for it.
   *
   * @param read the references the evaluation read (bits over the snapshot's check references)
   * @param cap the matched rules' caps, or null
   */
  public void complete(Flight flight, AttributeBag bag, CheckResult result, List<String> matched,
      boolean failed, long[] read, CompiledRule.CacheCap cap) {
    Entry entry = null;
    try {
      entry = store(bag, result, matched, failed, read, cap);
    } finally {
      inflight.remove(flight.key, flight.done);
      flight.done.complete(entry);
    }
  }

  private Entry store(AttributeBag bag, CheckResult result, List<String> matched, boolean failed,
      long[] read, CompiledRule.CacheCap cap) {
    Duration valid = min(result.validDuration(), settings.maxValidDuration());
    int uses = Math.min(result.validUseCount(), settings.maxValidUseCount());
    if (cap != null) {
      valid = min(valid, cap.validDuration());
      uses = Math.min(uses, cap.validUseCount());
    }
    if (failed || valid.isZero() || valid.isNegative() || uses <= 0) {
      counters.uncacheable.inc();
      return null;
    }
    Shape shape = shapeOf(read);
    if (shape == null) {
      counters.uncacheable.inc();
      counters.shapeOverflow.inc();
      return null;
    }
    Key key = shape.key(bag);
    Entry entry = new Entry(result, matched, snapshot.version(), valid.toNanos(), uses,
        weight(key, result, matched));
    cache.put(key, entry);
    return entry;
  }

  private Shape shapeOf(long[] read) {
    Bits bits = new Bits(read);
    Shape s = byBits.get(bits);
    if (s != null) {
      return s;
    }
    synchronized (this) {
      s = byBits.get(bits);
      if (s == null) {
        if (byBits.size() >= settings.maxShapes()) {
          return null;
        }
        s = new Shape(references.resolve(read));
        byBits.put(new Bits(read.clone()), s);
        Shape[] next = Arrays.copyOf(shapes, shapes.length + 1);
        next[shapes.length] = s;
        shapes = next;
      }
      return s;
    }
  }

  private static Duration min(Duration a, Duration b) {
    return a.compareTo(b) <= 0 ? a : b;
  }

  /** Decisions kept now (approximately). */
  public long size() {
    return cache.estimatedSize();
  }

  /** Distinct shapes seen. */
  public int shapes() {
    return shapes.length;
  }

  /** Drops every entry (a config reload does this by building a new cache). */
  public void clear() {
    cache.invalidateAll();
  }

  /** A rough size in bytes of an entry: its key's values and its result. */
  static int weight(Key key, CheckResult result, List<String> matched) {
    long w = 160 + 16L * key.values.length;
    for (Object v : key.values) {
      w += size(v);
    }
    w += 200 + 48L * matched.size();
    for (HeaderValue h : result.requestHeadersToAdd()) {
      w += 64 + size(h.name()) + size(h.value());
    }
    for (HeaderValue h : result.responseHeadersToAdd()) {
      w += 64 + size(h.name()) + size(h.value());
    }
    w += size(result.message()) + size(result.body());
    return (int) Math.min(Integer.MAX_VALUE, w);
  }

  private static long size(Object v) {
    if (v instanceof String s) {
      return 40 + s.length();
    }
    if (v instanceof Map<?, ?> m) {
      long w = 64;
      for (Map.Entry<?, ?> e : m.entrySet()) {
        w += 32 + size(e.getKey()) + size(e.getValue());
      }
      return w;
    }
    if (v instanceof List<?> l) {
      long w = 32;
      for (Object o : l) {
        w += 8 + size(o);
      }
      return w;
    }
    return 16;
  }
}
