package io.arbiter.engine;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;

/**
 * The type of an attribute, with the Java class its values have in an {@link AttributeBag} and the
 * value an absent attribute reads as in expressions.
 */
public enum AttributeType {
  STRING(String.class, ""),
  INT(Long.class, 0L),
  DOUBLE(Double.class, 0.0d),
  BOOL(Boolean.class, false),
  TIMESTAMP(Instant.class, Instant.EPOCH),
  DURATION(Duration.class, Duration.ZERO),
  /** A map of strings to strings, e.g. headers. Keys of header maps are lowercase. */
  STRING_MAP(Map.class, Map.of()),
  /** A map of strings to JSON-like values (maps, lists, strings, doubles, booleans), e.g. metadata. */
  DYN_MAP(Map.class, Map.of());

  private final Class<?> javaType;
  private final Object zero;

  AttributeType(Class<?> javaType, Object zero) {
    this.javaType = javaType;
    this.zero = zero;
  }

  public Class<?> javaType() {
    return javaType;
  }

  /** What an absent attribute of this type reads as: "", 0, false, epoch, zero, an empty map. */
  public Object zero() {
    return zero;
  }
}
