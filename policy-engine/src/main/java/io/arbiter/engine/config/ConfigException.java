package io.arbiter.engine.config;

import java.util.List;
import java.util.stream.Collectors;

/** A config that cannot be served, with every error found in it. */
public final class ConfigException extends Exception {
  private final List<ConfigError> errors;

  public ConfigException(List<ConfigError> errors) {
    super(
        errors.size()
            + (errors.size() == 1 ? " config error:\n  " : " config errors:\n  ")
            + errors.stream().map(ConfigError::toString).collect(Collectors.joining("\n  ")));
    this.errors = List.copyOf(errors);
  }

  public List<ConfigError> errors() {
    return errors;
  }
}
