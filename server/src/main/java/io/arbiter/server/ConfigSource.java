package io.arbiter.server;

import io.arbiter.engine.config.ConfigDocument;
import io.arbiter.engine.config.ConfigException;
import io.arbiter.engine.config.ConfigLoader;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;

/** Where a config comes from: a file or directory that is watched, or the embedded default. */
public sealed interface ConfigSource {

  /** Reads the documents as they are now. */
  List<ConfigDocument> read() throws ConfigException;

  /** Whether the source can change while Arbiter runs. */
  boolean watchable();

  /** A YAML file, or a directory of them. */
  record Files(Path path) implements ConfigSource {
    @Override
    public List<ConfigDocument> read() throws ConfigException {
      return ConfigLoader.load(path);
    }

    @Override
    public boolean watchable() {
      return true;
    }

    @Override
    public String toString() {
      return path.toString();
    }
  }

  /** The default config inside the jar: allow everything, mark it with a header. */
  record Embedded() implements ConfigSource {
    static final String RESOURCE = "default-config.yaml";

    @Override
    public List<ConfigDocument> read() throws ConfigException {
      return List.of(ConfigLoader.parse(Path.of("<embedded default>"), text()));
    }

    /** The embedded YAML text. */
    public static String text() {
      try (InputStream in = ConfigSource.class.getResourceAsStream(RESOURCE)) {
        if (in == null) {
          throw new IllegalStateException("the jar lacks " + RESOURCE);
        }
        return new String(in.readAllBytes(), StandardCharsets.UTF_8);
      } catch (IOException e) {
        throw new IllegalStateException("cannot read embedded config", e);
      }
    }

    @Override
    public boolean watchable() {
      return false;
    }

    @Override
    public String toString() {
      return "<embedded default>";
    }
  }
}
