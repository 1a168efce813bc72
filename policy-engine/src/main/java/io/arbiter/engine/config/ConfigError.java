package io.arbiter.engine.config;

/**
 * One problem with a config: where (file, object, field) and why. {@code object} is like {@code
 * rule "admin-needs-user"}; {@code field} like {@code match} or {@code params.entries[2]}; either
 * may be empty when the problem is with the whole file.
 */
public record ConfigError(String file, String object, String field, String reason) {

  @Override
  public String toString() {
    StringBuilder b = new StringBuilder(file);
    if (!object.isEmpty()) {
      b.append(": ").append(object);
    }
    if (!field.isEmpty()) {
      b.append(": ").append(field);
    }
    return b.append(": ").append(reason).toString();
  }
}
