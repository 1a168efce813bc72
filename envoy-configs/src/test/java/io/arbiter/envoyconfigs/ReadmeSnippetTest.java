package io.arbiter.envoyconfigs;

import static org.assertj.core.api.Assertions.assertThat;

import io.arbiter.envoyconfigs.SnippetValidator.Parsed;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * The Envoy config the README's "Point Envoy at it" section shows (an HTTP filter, then the
 * cluster) is valid under Envoy's schema and wired to Arbiter's defaults, like the snippet files.
 */
class ReadmeSnippetTest {

  @Test
  void theReadmeFilterAndClusterAreValidEnvoyConfig() throws Exception {
    String readme = Files.readString(Path.of("..", "README.md"));
    int section = readme.indexOf("## Point Envoy at it");
    assertThat(section).as("README section 'Point Envoy at it'").isNotNegative();
    int start = readme.indexOf("```yaml\n", section) + "```yaml\n".length();
    String block = readme.substring(start, readme.indexOf("```", start));
    List<?> items = new Yaml(new SafeConstructor(new LoaderOptions())).load(block);
    assertThat(items).as("the README block: a filter, then a cluster").hasSize(2);

    EnvoySchema schema = EnvoySchema.get();
    SnippetValidator validator = new SnippetValidator(schema);
    Yaml dumper = new Yaml();
    Parsed filter = validator.validate("README filter", dumper.dump((Map<?, ?>) items.get(0)),
        "envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter");
    Parsed cluster = validator.validate("README cluster", dumper.dump((Map<?, ?>) items.get(1)),
        "envoy.config.cluster.v3.Cluster");
    ArbiterWiring wiring = new ArbiterWiring(schema, List.of(filter, cluster));
    assertThat(wiring.check(filter)).isEmpty();
    assertThat(wiring.check(cluster)).isEmpty();
  }
}
