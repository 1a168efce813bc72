package io.arbiter.engine.config;

import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;

/**
 * Reads a config from one YAML file or from every {@code *.yaml}/{@code *.yml} file of a directory
 * (in name order). Only plain YAML is accepted: no tags, no duplicate keys, no aliases bombs.
 */
public final class ConfigLoader {
  /** Files larger than this are refused (a config is text an operator writes). */
  public static final long MAX_FILE_BYTES = 16L * 1024 * 1024;

  private ConfigLoader() {}

  /**
   * @throws ConfigException if a file cannot be read or is not YAML, with every such file's error
   */
  public static List<ConfigDocument> load(Path path) throws ConfigException {
    List<ConfigError> errors = new ArrayList<>();
    List<ConfigDocument> docs = new ArrayList<>();
    List<Path> files = new ArrayList<>();
    if (Files.isDirectory(path)) {
      try (Stream<Path> s = Files.list(path)) {
        s.filter(p -> {
              String n = p.getFileName().toString();
              return (n.endsWith(".yaml") || n.endsWith(".yml")) && !n.startsWith(".");
            })
            .sorted()
            .forEach(files::add);
      } catch (IOException e) {
        throw new ConfigException(List.of(new ConfigError(path.toString(), "", "", "cannot list directory: " + e)));
      }
      if (files.isEmpty()) {
        throw new ConfigException(
            List.of(new ConfigError(path.toString(), "", "", "no *.yaml or *.yml file in directory")));
      }
    } else {
      files.add(path);
    }
    for (Path file : files) {
      String text;
      try {
        if (Files.size(file) > MAX_FILE_BYTES) {
          errors.add(new ConfigError(file.toString(), "", "", "larger than " + MAX_FILE_BYTES + " bytes"));
          continue;
        }
        text =
            StandardCharsets.UTF_8
                .newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .decode(java.nio.ByteBuffer.wrap(Files.readAllBytes(file)))
                .toString();
      } catch (CharacterCodingException e) {
        errors.add(new ConfigError(file.toString(), "", "", "not valid UTF-8"));
        continue;
      } catch (IOException e) {
        errors.add(new ConfigError(file.toString(), "", "", "cannot read: " + describe(e)));
        continue;
      }
      try {
        docs.add(parse(file, text));
      } catch (ConfigException e) {
        errors.addAll(e.errors());
      }
    }
    if (!errors.isEmpty()) {
      throw new ConfigException(errors);
    }
    return docs;
  }

  /** Parses one YAML text; {@code file} names it in errors. */
  public static ConfigDocument parse(Path file, String text) throws ConfigException {
    LoaderOptions options = new LoaderOptions();
    options.setAllowDuplicateKeys(false);
    options.setMaxAliasesForCollections(50);
    options.setCodePointLimit((int) MAX_FILE_BYTES);
    Yaml yaml = new Yaml(new SafeConstructor(options));
    Object root;
    try {
      root = yaml.load(text);
    } catch (MarkedYAMLException e) {
      String where = e.getProblemMark() == null ? "" : "line " + (e.getProblemMark().getLine() + 1)
          + ", column " + (e.getProblemMark().getColumn() + 1) + ": ";
      throw new ConfigException(
          List.of(new ConfigError(file.toString(), "", "", "invalid YAML: " + where + e.getProblem())));
    } catch (YAMLException e) {
      throw new ConfigException(
          List.of(new ConfigError(file.toString(), "", "", "invalid YAML: " + e.getMessage())));
    }
    if (root == null) {
      return new ConfigDocument(file, text, Map.of());
    }
    if (!(root instanceof Map<?, ?> map)) {
      throw new ConfigException(
          List.of(new ConfigError(file.toString(), "", "", "the top level must be a mapping (handlers, instances, rules, settings)")));
    }
    Map<String, Object> content = new LinkedHashMap<>();
    map.forEach((k, v) -> content.put(String.valueOf(k), v));
    return new ConfigDocument(file, text, content);
  }

  private static String describe(IOException e) {
    if (e instanceof java.nio.file.NoSuchFileException) {
      return "no such file";
    }
    if (e instanceof java.nio.file.AccessDeniedException) {
      return "permission denied";
    }
    return e.toString();
  }
}
