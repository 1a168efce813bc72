package io.arbiter.engine;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/**
 * The attributes of one call, as a front end read them off the wire: an immutable map from
 * {@linkplain Vocabulary vocabulary} names to values of the attribute's Java type. Absent
 * attributes are simply not there; expressions read them as their type's zero value.
 *
 * <p>Values sit in an array by the attribute's position in the vocabulary: a front end sets about
 * thirty per call and a rule reads a few, so a lookup is one hash of the name (cached by the
 * string) and an array read, and building a bag allocates one array. {@link #names()} and {@link
 * #asMap()} list attributes in vocabulary order.
 *
 * <p>Immutable and thread-safe once built.
 */
public final class AttributeBag {
  private static final AttributeBag EMPTY = new AttributeBag(new Object[Vocabulary.NAMES.length], 0);

  private final Object[] values;
  private final int size;

  /** Takes {@code values} over; nobody else holds it. */
  private AttributeBag(Object[] values, int size) {
    this.values = values;
    this.size = size;
  }

  public static AttributeBag empty() {
    return EMPTY;
  }

  public static Builder builder() {
    return new Builder();
  }

  /**
   * An attribute of the vocabulary resolved once, so a front end that sets the same attributes on
   * every call does not look each name up again ({@link Builder#put(Name, Object)}).
   */
  public static final class Name {
    private final int index;
    private final String name;

    private Name(int index, String name) {
      this.index = index;
      this.name = name;
    }

    @Override
    public String toString() {
      return name;
    }
  }

  /**
   * {@code attribute} resolved; keep it in a constant.
   *
   * @throws IllegalArgumentException if it is not in the vocabulary
   */
  public static Name name(String attribute) {
    int i = Vocabulary.index(attribute);
    if (i < 0) {
      throw new IllegalArgumentException("unknown attribute '" + attribute + "'");
    }
    return new Name(i, attribute);
  }

  /** The value, or null when absent (or not an attribute of the vocabulary). */
  public Object get(String name) {
    int i = Vocabulary.index(name);
    return i < 0 ? null : values[i];
  }

  /** The value, or null when absent. */
  public Object get(Name name) {
    return values[name.index];
  }

  public boolean has(String name) {
    return get(name) != null;
  }

  /** How many attributes are present. */
  public int size() {
    return size;
  }

  /** The names of the attributes present, in vocabulary order. */
  public Set<String> names() {
    Set<String> out = new LinkedHashSet<>(size * 2);
    for (int i = 0; i < values.length; i++) {
      if (values[i] != null) {
        out.add(Vocabulary.NAMES[i]);
      }
    }
    return Collections.unmodifiableSet(out);
  }

  /** A read-only copy of every attribute, in vocabulary order. */
  public Map<String, Object> asMap() {
    Map<String, Object> out = new LinkedHashMap<>(size * 2);
    for (int i = 0; i < values.length; i++) {
      if (values[i] != null) {
        out.put(Vocabulary.NAMES[i], values[i]);
      }
    }
    return Collections.unmodifiableMap(out);
  }

  @Override
  public String toString() {
    return "AttributeBag" + asMap();
  }

  /** Builds a bag; rejects names outside the vocabulary and values of the wrong type. */
  public static final class Builder {
    private Object[] values = new Object[Vocabulary.NAMES.length];
    private int size;

    private Builder() {}

    /**
     * Sets {@code name}; a null value leaves it absent.
     *
     * @throws IllegalArgumentException if the name is not in the vocabulary or the value's type is
     *     not the attribute's
     */
    public Builder put(String name, Object value) {
      int i = Vocabulary.index(name);
      if (i < 0) {
        throw new IllegalArgumentException("unknown attribute '" + name + "'");
      }
      return set(i, name, value);
    }

    /**
     * Sets {@code name}; a null value leaves it absent.
     *
     * @throws IllegalArgumentException if the value's type is not the attribute's
     */
    public Builder put(Name name, Object value) {
      return set(name.index, name.name, value);
    }

    /** Sets a string attribute unless the value is null or empty (Envoy's proto3 "unset"). */
    public Builder putNonEmpty(Name name, String value) {
      if (value != null && !value.isEmpty()) {
        set(name.index, name.name, value);
      }
      return this;
    }

    private Builder set(int i, String name, Object value) {
      if (values == null) {
        throw new IllegalStateException("build() was already called");
      }
      if (value != null) {
        AttributeType type = Vocabulary.TYPES[i];
        if (!type.javaType().isInstance(value)) {
          throw new IllegalArgumentException(
              "attribute '" + name + "' is " + type + ", not " + value.getClass().getSimpleName());
        }
      }
      Object old = values[i];
      values[i] = value;
      size += (value != null ? 1 : 0) - (old != null ? 1 : 0);
      return this;
    }

    /** Sets a string attribute unless the value is null or empty (Envoy's proto3 "unset"). */
    public Builder putNonEmpty(String name, String value) {
      if (value != null && !value.isEmpty()) {
        put(name, value);
      }
      return this;
    }

    /** The bag; the builder hands over its array (no copy) and cannot be used again. */
    public AttributeBag build() {
      if (values == null) {
        throw new IllegalStateException("build() was already called");
      }
      AttributeBag bag = new AttributeBag(values, size);
      values = null;
      return bag;
    }
  }
}
