package io.arbiter.engine.internal;

import io.arbiter.engine.AttributeBag;
import io.arbiter.engine.PolicyEngine;
import java.lang.reflect.Field;

/**
 * Benchmark-only access to the decision cache's key building, which the engine does not expose:
 * this class sits in the engine's internal package (in the benchmarks jar, on the same class
 * loader) to call the package-private {@code DecisionCache.Shape.key}, and reads the engine's
 * private {@code cache} and the cache's private {@code shapes} fields reflectively, once, in a
 * benchmark's setup. It runs the engine's own key code; it copies none of it.
 *
 * <p>Fragile by nature: a renamed field fails the benchmark's setup loudly. A public hook in the
 * engine (for example {@code PolicyEngine.decisionCache()} and a public {@code
 * DecisionCache.keys(AttributeBag)}) would replace it.
 */
public final class CacheProbe {
  private final DecisionCache cache;
  private final DecisionCache.Shape[] shapes;

  private CacheProbe(DecisionCache cache, DecisionCache.Shape[] shapes) {
    this.cache = cache;
    this.shapes = shapes;
  }

  /** The engine's current decision cache and its shapes now; fails when the cache is off. */
  public static CacheProbe of(PolicyEngine engine) {
    try {
      Field f = PolicyEngine.class.getDeclaredField("cache");
      f.setAccessible(true);
      DecisionCache c = (DecisionCache) f.get(engine);
      if (c == null) {
        throw new IllegalStateException("the engine has no decision cache (off?)");
      }
      Field s = DecisionCache.class.getDeclaredField("shapes");
      s.setAccessible(true);
      return new CacheProbe(c, (DecisionCache.Shape[]) s.get(c));
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException("cannot reach the engine's decision cache: " + e, e);
    }
  }

  public DecisionCache cache() {
    return cache;
  }

  /** How many shapes the cache had when this probe was taken. */
  public int shapes() {
    return shapes.length;
  }

  /** The references of shape {@code i}, for the write-up. */
  public String describe(int i) {
    return java.util.Arrays.toString(shapes[i].refs);
  }

  /** Builds {@code bag}'s key for shape {@code i}: the engine's {@code Shape.key}, nothing else. */
  public Object key(int i, AttributeBag bag) {
    return shapes[i].key(bag);
  }

  /** The values the key of shape {@code i} holds for {@code bag} (a copy of the key's array). */
  public Object[] values(int i, AttributeBag bag) {
    return shapes[i].key(bag).values.clone();
  }

  /** True when the key of shape {@code i} for {@code a} equals that for {@code b}. */
  public boolean sameKey(int i, AttributeBag a, AttributeBag b) {
    return shapes[i].key(a).equals(shapes[i].key(b));
  }
}
