package io.arbiter.engine.config;

import java.nio.file.Path;
import java.util.Map;

/**
 * One parsed YAML file of a config.
 *
 * @param file where it came from (for errors and relative paths); a name like {@code <embedded>}
 *     for configs that have no file
 * @param text the file as read, for {@code /config} and fingerprints
 * @param content its top-level mapping
 */
public record ConfigDocument(Path file, String text, Map<String, Object> content) {
  public ConfigDocument {
    content = java.util.Collections.unmodifiableMap(content);
  }

  public String name() {
    return file.toString();
  }
}
