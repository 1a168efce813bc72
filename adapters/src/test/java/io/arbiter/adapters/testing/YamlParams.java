package io.arbiter.adapters.testing;

import io.arbiter.engine.spi.Params;
import java.util.Map;
import org.yaml.snakeyaml.Yaml;

/**
 * Handler params written the way operators write them, in YAML (flow style fits on one line):
 * {@code YamlParams.of("{metrics: [{name: requests_total, instance: count, kind: COUNTER}]}")}.
 */
public final class YamlParams {
  private YamlParams() {}

  /** The params of a YAML mapping; an empty text gives empty params. */
  public static Params of(String yaml) {
    Object parsed = new Yaml().load(yaml);
    @SuppressWarnings("unchecked")
    Map<String, ?> map = parsed == null ? Map.of() : (Map<String, ?>) parsed;
    return new Params(map);
  }
}
