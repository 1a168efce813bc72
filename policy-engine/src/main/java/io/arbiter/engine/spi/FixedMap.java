package io.arbiter.engine.spi;

import java.util.AbstractMap;
import java.util.AbstractSet;
import java.util.Collection;
import java.util.Iterator;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Set;

/**
 * An immutable map whose keys, and their order, are fixed ahead of time, with its values in an
 * array: what an instance's dimensions and variables are. The engine builds one per instance per
 * call, and the instance records keep it as it is (any other map they copy), so a report's metric
 * costs one array and no hash table. Lookups scan the few keys. Null values are allowed (a log
 * variable may be null), null keys are not.
 *
 * @param <V> the values' type
 */
public final class FixedMap<V> extends AbstractMap<String, V> {
  private final String[] keys;
  private final Object[] values;

  private FixedMap(String[] keys, Object[] values) {
    this.keys = keys;
    this.values = values;
  }

  /** The keys of such maps, in order, validated once. Immutable. */
  public static final class Keys {
    private final String[] names;

    /** @throws IllegalArgumentException when a name is null or repeated */
    public Keys(Collection<String> names) {
      this.names = names.toArray(new String[0]);
      for (int i = 0; i < this.names.length; i++) {
        for (int j = 0; j < i; j++) {
          if (this.names[i] == null || this.names[i].equals(this.names[j])) {
            throw new IllegalArgumentException("null or repeated key: " + this.names[i]);
          }
        }
      }
      if (this.names.length > 0 && this.names[0] == null) {
        throw new IllegalArgumentException("null key");
      }
    }

    public int size() {
      return names.length;
    }

    /** The {@code i}th key. */
    public String name(int i) {
      return names[i];
    }

    /** A builder of one map of these keys, every value null until set. */
    public <V> Builder<V> builder() {
      return new Builder<>(names);
    }
  }

  /** Sets the values of one map; {@link #build} hands its array over and ends it. */
  public static final class Builder<V> {
    private final String[] keys;
    private Object[] values;

    private Builder(String[] keys) {
      this.keys = keys;
      this.values = new Object[keys.length];
    }

    /** Sets the value of the {@code i}th key. */
    public Builder<V> set(int i, V value) {
      if (values == null) {
        throw new IllegalStateException("build() was already called");
      }
      values[i] = value;
      return this;
    }

    public FixedMap<V> build() {
      if (values == null) {
        throw new IllegalStateException("build() was already called");
      }
      FixedMap<V> map = new FixedMap<>(keys, values);
      values = null;
      return map;
    }
  }

  private int indexOf(Object key) {
    for (int i = 0; i < keys.length; i++) {
      if (keys[i].equals(key)) {
        return i;
      }
    }
    return -1;
  }

  @Override
  @SuppressWarnings("unchecked")
  public V get(Object key) {
    int i = indexOf(key);
    return i < 0 ? null : (V) values[i];
  }

  @Override
  public boolean containsKey(Object key) {
    return indexOf(key) >= 0;
  }

  @Override
  public int size() {
    return keys.length;
  }

  @Override
  public Set<Map.Entry<String, V>> entrySet() {
    return new AbstractSet<>() {
      @Override
      public Iterator<Map.Entry<String, V>> iterator() {
        return new Iterator<>() {
          private int next;

          @Override
          public boolean hasNext() {
            return next < keys.length;
          }

          @Override
          @SuppressWarnings("unchecked")
          public Map.Entry<String, V> next() {
            if (next >= keys.length) {
              throw new NoSuchElementException();
            }
            int i = next++;
            return new AbstractMap.SimpleImmutableEntry<>(keys[i], (V) values[i]);
          }
        };
      }

      @Override
      public int size() {
        return keys.length;
      }
    };
  }

  @Override
  public boolean equals(Object o) {
    if (o instanceof FixedMap<?> f && f.keys == keys) {
      return java.util.Arrays.equals(values, f.values);
    }
    return super.equals(o);
  }

  @Override
  public int hashCode() {
    int h = 0;
    for (int i = 0; i < keys.length; i++) {
      h += keys[i].hashCode() ^ Objects.hashCode(values[i]);
    }
    return h;
  }
}
