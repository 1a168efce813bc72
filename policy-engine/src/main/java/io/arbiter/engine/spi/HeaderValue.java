package io.arbiter.engine.spi;

import java.util.Objects;

/**
 * One header to add. {@code append} false replaces any header of that name (Envoy's
 * OVERWRITE_IF_EXISTS_OR_ADD); true adds another value beside the existing ones.
 */
public record HeaderValue(String name, String value, boolean append) {
  public HeaderValue {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(value, "value");
  }
}
