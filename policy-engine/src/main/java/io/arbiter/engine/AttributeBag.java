package io.arbiter.engine;

import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/**
 * The attributes of one call, as a front end read them off the wire: an immutable map from
 * {@linkplain Vocabulary vocabulary} names to values of the attribute's Java type. Absent
 * attributes are simply not there; expressions read them as their type's zero value.
 *
 * <p>Immutable and thread-safe once built.
 */
public final class AttributeBag {
  private static final AttributeBag EMPTY = new AttributeBag(Map.of());

  private final Map<String, Object> values;

  /** Takes {@code values} over; nobody else holds it. */
  private AttributeBag(Map<String, Object> values) {
    this.values = values;
  }

  public static AttributeBag empty() {
    return EMPTY;
  }

  public static Builder builder() {
    return new Builder();
  }

  /** The value, or null when absent. */
  public Object get(String name) {
    return values.get(name);
  }

  public boolean has(String name) {
    return values.containsKey(name);
  }

  public Set<String> names() {
    return values.keySet();
  }

  /** A read-only view of every attribute. */
  public Map<String, Object> asMap() {
    return java.util.Collections.unmodifiableMap(values);
  }

  @Override
  public String toString() {
    return "AttributeBag" + values;
  }

  /** Builds a bag; rejects names outside the vocabulary and values of the wrong type. */
  public static final class Builder {
    private Map<String, Object> values = new HashMap<>(32);

    private Builder() {}

    /**
     * Sets {@code name}; a null value leaves it absent.
     *
     * @throws IllegalArgumentException if the name is not in the vocabulary or the value's type is
     *     not the attribute's
     */
    public Builder put(String name, Object value) {
      AttributeType type =
          Vocabulary.typeOf(name)
              .orElseThrow(() -> new IllegalArgumentException("unknown attribute '" + name + "'"));
      if (value == null) {
        values.remove(name);
        return this;
      }
      if (!type.javaType().isInstance(value)) {
        throw new IllegalArgumentException(
            "attribute '" + name + "' is " + type + ", not " + value.getClass().getSimpleName());
      }
      values.put(name, value);
      return this;
    }

    /** Sets a string attribute unless the value is null or empty (Envoy's proto3 "unset"). */
    public Builder putNonEmpty(String name, String value) {
      if (value != null && !value.isEmpty()) {
        put(name, value);
      }
      return this;
    }

    /** The bag; the builder hands over its map (no copy) and cannot be used again. */
    public AttributeBag build() {
      if (values == null) {
        throw new IllegalStateException("build() was already called");
      }
      AttributeBag bag = new AttributeBag(values);
      values = null;
      return bag;
    }
  }
}
