package io.arbiter.engine.config;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
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

  /**
   * A short fingerprint of documents' names and texts: the same files give the same value, so a
   * watcher can tell a real change from a touch. It is the {@link ConfigSnapshot#version()}.
   */
  public static String fingerprint(List<ConfigDocument> docs) {
    try {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      for (ConfigDocument d : docs) {
        sha.update(d.name().getBytes(StandardCharsets.UTF_8));
        sha.update((byte) 0);
        sha.update(d.text().getBytes(StandardCharsets.UTF_8));
        sha.update((byte) 0);
      }
      return HexFormat.of().formatHex(sha.digest(), 0, 6);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
