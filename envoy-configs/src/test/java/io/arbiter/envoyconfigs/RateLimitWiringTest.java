package io.arbiter.envoyconfigs;

import static org.assertj.core.api.Assertions.assertThat;

import io.arbiter.envoyconfigs.SnippetValidator.InvalidSnippetException;
import io.arbiter.envoyconfigs.SnippetValidator.Parsed;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/** The wiring checks of the rate-limit filter reject what would not reach Arbiter as intended. */
class RateLimitWiringTest {
  private static EnvoySchema schema;
  private static SnippetValidator validator;
  private static String filter;
  private static Parsed cluster;

  @BeforeAll
  static void load() throws Exception {
    schema = EnvoySchema.get();
    validator = new SnippetValidator(schema);
    filter = Files.readString(Path.of("filter-ratelimit.yaml"));
    cluster = validator.validate("cluster-arbiter.yaml",
        Files.readString(Path.of("cluster-arbiter.yaml")));
  }

  private static List<String> wiring(String yaml, Parsed... module) throws InvalidSnippetException {
    return new ArbiterWiring(schema, List.of(module))
        .check(validator.validate("snippet.yaml", yaml));
  }

  @Test
  void theShippedFilterPasses() throws InvalidSnippetException {
    assertThat(wiring(filter, cluster)).isEmpty();
  }

  @Test
  void mistakesAreReported() throws Exception {
    assertThat(wiring(filter.replace("    transport_api_version: V3\n", ""),
        cluster)).anyMatch(s -> s.contains(
            "rate_limit_service.transport_api_version: must be V3 (Arbiter serves"
                + " envoy.service.ratelimit.v3 only)"));
    assertThat(wiring(filter.replace("failure_mode_deny: true", "failure_mode_deny: false"),
        cluster)).anyMatch(s -> s.contains("failure_mode_deny: snippets we ship fail closed"));
    assertThat(wiring(filter.replace("  timeout: 0.25s\n", ""), cluster))
        .anyMatch(s -> s.contains(".timeout: set it explicitly (Envoy's default is 20ms)"));
    assertThat(wiring(filter.replace("timeout: 0.25s", "timeout: 0.02s"), cluster))
        .anyMatch(s -> s.contains("not above Arbiter's handler timeout"));
    assertThat(wiring(filter.replace("cluster_name: arbiter", "cluster_name: rls"), cluster))
        .anyMatch(s -> s.contains("rate_limit_service.grpc_service.envoy_grpc.cluster_name:"
            + " no cluster 'rls'"));
    Parsed elsewhere = validator.validate("cluster.yaml",
        Files.readString(Path.of("cluster-arbiter.yaml")).replace("9191", "8081"));
    assertThat(wiring(filter, elsewhere))
        .anyMatch(s -> s.contains("is not on Arbiter's gRPC port 9191"));
  }

  @Test
  void theFilterAfterTheRouterIsReported() throws InvalidSnippetException {
    String hcm = """
        # envoy-message: envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
        stat_prefix: in
        route_config:
          virtual_hosts: [{name: all, domains: ["*"], routes: [{match: {prefix: /}, route: {cluster: web}}]}]
        http_filters:
          - name: envoy.filters.http.router
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
          - name: envoy.filters.http.ratelimit
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.ratelimit.v3.RateLimit
              domain: edge
              timeout: 0.25s
              failure_mode_deny: true
              rate_limit_service:
                transport_api_version: V3
                grpc_service: {envoy_grpc: {cluster_name: arbiter}}
        """;
    assertThat(wiring(hcm, cluster))
        .anyMatch(s -> s.contains("http_filters[1]: the rate-limit filter after the router never"
            + " runs"));
  }

  /** The README's "Rate limits" Envoy block (a filter, then a route) is valid and well wired. */
  @Test
  void theReadmeFilterAndRouteAreValidEnvoyConfig() throws Exception {
    String readme = Files.readString(Path.of("..", "README.md"));
    int section = readme.indexOf("## Rate limits");
    assertThat(section).as("README section 'Rate limits'").isNotNegative();
    int filterAt = readme.indexOf("name: envoy.filters.http.ratelimit", section);
    int start = readme.lastIndexOf("```yaml\n", filterAt) + "```yaml\n".length();
    String block = readme.substring(start, readme.indexOf("```", start));
    List<?> items = new Yaml(new SafeConstructor(new LoaderOptions())).load(block);
    assertThat(items).as("the README block: a filter, then a route").hasSize(2);

    Yaml dumper = new Yaml();
    Parsed readmeFilter = validator.validate("README filter",
        dumper.dump((Map<?, ?>) items.get(0)),
        "envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter");
    Parsed readmeRoute = validator.validate("README route", dumper.dump((Map<?, ?>) items.get(1)),
        "envoy.config.route.v3.Route");
    ArbiterWiring wiring = new ArbiterWiring(schema, List.of(readmeFilter, cluster));
    assertThat(wiring.check(readmeFilter)).isEmpty();
    assertThat(wiring.check(readmeRoute)).isEmpty();
    assertThat(readmeRoute.message().toString()).contains("remote_address");
  }
}
