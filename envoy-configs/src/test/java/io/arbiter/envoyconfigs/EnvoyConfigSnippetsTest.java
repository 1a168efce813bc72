package io.arbiter.envoyconfigs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import io.arbiter.envoyconfigs.SnippetValidator.InvalidSnippetException;
import io.arbiter.envoyconfigs.SnippetValidator.Parsed;
import io.envoyproxy.envoy.config.bootstrap.v3.Bootstrap;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.envoyproxy.envoy.extensions.filters.http.ext_authz.v3.ExtAuthzPerRoute;
import io.envoyproxy.envoy.service.auth.v3.AuthorizationGrpc;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Every {@code *.yaml} snippet in this module is valid Envoy config: it parses as the message its
 * header names, under Envoy's own schema (the compiled API protos), with unknown fields and
 * unresolved {@code "@type"}s rejected, Envoy's validation rules and deprecations checked
 * ({@link SchemaRules}); and it wires Envoy to Arbiter correctly ({@link ArbiterWiring}).
 */
class EnvoyConfigSnippetsTest {

  private static final String HTTP_FILTER =
      "envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter";

  /** The snippets the README and operators rely on, with the message type each must declare. */
  private static final Map<String, String> EXPECTED = Map.ofEntries(
      Map.entry("bootstrap-sidecar.yaml", "envoy.config.bootstrap.v3.Bootstrap"),
      Map.entry("bootstrap-front-proxy.yaml", "envoy.config.bootstrap.v3.Bootstrap"),
      Map.entry("filter-ext-authz-grpc.yaml", HTTP_FILTER),
      Map.entry("filter-ext-authz-http.yaml", HTTP_FILTER),
      Map.entry("filter-ext-authz-network.yaml", "envoy.config.listener.v3.Filter"),
      Map.entry("route-check-settings.yaml", "envoy.config.route.v3.Route"),
      Map.entry("cluster-arbiter.yaml", "envoy.config.cluster.v3.Cluster"),
      Map.entry("cluster-arbiter-http.yaml", "envoy.config.cluster.v3.Cluster"),
      Map.entry("filter-ratelimit.yaml", HTTP_FILTER),
      Map.entry("route-rate-limits.yaml", "envoy.config.route.v3.Route"));

  private static EnvoySchema schema;
  private static SnippetValidator validator;
  /** Snippet file name -> its text. */
  private static Map<String, String> sources;

  @BeforeAll
  static void load() throws IOException {
    schema = EnvoySchema.get();
    validator = new SnippetValidator(schema);
    sources = new LinkedHashMap<>();
    // Under surefire the working directory is the module's basedir.
    try (Stream<Path> files = Files.list(Path.of(""))) {
      for (Path p : files.filter(f -> f.getFileName().toString().endsWith(".yaml")).sorted().toList()) {
        sources.put(p.getFileName().toString(), Files.readString(p, StandardCharsets.UTF_8));
      }
    }
  }

  @Test
  void theModuleHasSnippets() {
    assertThat(sources).as("*.yaml snippets in " + Path.of("").toAbsolutePath()).isNotEmpty();
  }

  @Test
  void everyExpectedSnippetIsThereAndDeclaresItsType() throws InvalidSnippetException {
    assertThat(sources.keySet()).containsAll(EXPECTED.keySet());
    for (Map.Entry<String, String> e : EXPECTED.entrySet()) {
      assertThat(SnippetValidator.declaredMessageType(e.getKey(), sources.get(e.getKey())))
          .as(e.getKey()).isEqualTo(e.getValue());
    }
  }

  @Test
  void theTypeRegistryCoversEveryProtoOfTheEnvoyApiJar() {
    assertThat(schema.protoFilesWithoutDescriptor()).isEmpty();
    assertThat(schema.protoSourceCount()).isGreaterThan(500);
    assertThat(schema.messageCount()).isGreaterThan(2000); // 2,380 in api 1.0.49
    assertThat(schema.message("envoy.config.bootstrap.v3.Bootstrap")).isNotNull();
    assertThat(schema.message("envoy.extensions.filters.network.ext_authz.v3.ExtAuthz")).isNotNull();
    assertThat(schema.message("envoy.extensions.upstreams.http.v3.HttpProtocolOptions")).isNotNull();
  }

  @TestFactory
  Stream<DynamicTest> everySnippetIsValidEnvoyConfigWiredToArbiter() {
    if (sources.isEmpty()) {
      fail("no *.yaml snippets in " + Path.of("").toAbsolutePath());
    }
    ArbiterWiring wiring = new ArbiterWiring(schema, parseAll());
    return sources.entrySet().stream().map(e -> DynamicTest.dynamicTest(e.getKey(), () -> {
      Parsed p = parse(e.getKey());
      List<String> problems = wiring.check(p);
      if (!problems.isEmpty()) {
        fail(e.getKey() + " does not wire Envoy to Arbiter correctly:\n  "
            + String.join("\n  ", problems));
      }
    }));
  }

  /** The opening comment says what the snippet is, where it goes, and what to change. */
  @TestFactory
  Stream<DynamicTest> everySnippetExplainsWhatToChange() {
    return sources.entrySet().stream().map(e -> DynamicTest.dynamicTest(e.getKey(), () -> {
      List<String> lines = e.getValue().lines().toList();
      List<String> header = new ArrayList<>();
      for (String l : lines.subList(1, lines.size())) {
        if (!l.startsWith("#")) {
          break;
        }
        header.add(l);
      }
      String comment = String.join("\n", header);
      assertThat(header).as(e.getKey() + ": opening comment").hasSizeGreaterThanOrEqualTo(5);
      assertThat(comment).as(e.getKey() + ": says where it goes").containsIgnoringCase("goes");
      assertThat(comment).as(e.getKey() + ": says what to change").contains("Change");
      String yaml = lines.stream().filter(l -> !l.strip().startsWith("#"))
          .collect(Collectors.joining("\n"));
      for (String key : List.of("failure_mode_allow", "timeout", "include_peer_certificate",
          "include_tls_session", "with_request_body", "socket_address")) {
        if (yaml.contains(key + ":")) {
          String mention = key.equals("socket_address") ? "address" : key;
          assertThat(comment).as(e.getKey() + ": explains " + key).contains(mention);
        }
      }
    }));
  }

  @Test
  void theSidecarTalksToArbiterOnLoopback() {
    Bootstrap b = ArbiterWiring.typed(parse("bootstrap-sidecar.yaml").message(),
        Bootstrap.getDefaultInstance());
    Cluster arbiter = cluster(b, "arbiter");
    SocketAddress a = arbiter.getLoadAssignment().getEndpoints(0).getLbEndpoints(0).getEndpoint()
        .getAddress().getSocketAddress();
    assertThat(a.getAddress()).isEqualTo("127.0.0.1");
    assertThat(a.getPortValue()).isEqualTo(ArbiterWiring.GRPC_PORT);
    assertThat(sources.get("bootstrap-sidecar.yaml")).contains("include_peer_certificate: true");
  }

  @Test
  void theFrontProxyHealthChecksArbiterAndSetsPerRouteChecks() {
    Parsed p = parse("bootstrap-front-proxy.yaml");
    Bootstrap b = ArbiterWiring.typed(p.message(), Bootstrap.getDefaultInstance());
    Cluster arbiter = cluster(b, "arbiter");
    assertThat(arbiter.getHealthChecksList()).hasSize(1);
    assertThat(arbiter.getHealthChecks(0).getGrpcHealthCheck().getServiceName())
        .isEqualTo(AuthorizationGrpc.SERVICE_NAME);
    assertThat(b.getStaticResources().getListeners(0).getAddress().getSocketAddress())
        .extracting(SocketAddress::getAddress, SocketAddress::getPortValue)
        .containsExactly("0.0.0.0", 8080);

    List<ExtAuthzPerRoute> perRoute = new ArrayList<>();
    new ArbiterWiring(schema, List.of()).find(p.message(), ExtAuthzPerRoute.getDefaultInstance())
        .forEach(a -> perRoute.add(a.value()));
    assertThat(perRoute).anyMatch(ExtAuthzPerRoute::getDisabled);
    assertThat(perRoute).anyMatch(r ->
        "gold".equals(r.getCheckSettings().getContextExtensionsMap().get("tier")));
  }

  // ---------------------------------------------------------------------------------------------

  private static Parsed parse(String name) {
    try {
      return validator.validate(name, sources.get(name));
    } catch (InvalidSnippetException e) {
      throw new AssertionError("not valid Envoy config: " + e.getMessage(), e);
    }
  }

  /** The module's snippets that parse (a broken one fails its own dynamic test). */
  private static List<Parsed> parseAll() {
    List<Parsed> out = new ArrayList<>();
    for (String name : sources.keySet()) {
      try {
        out.add(validator.validate(name, sources.get(name)));
      } catch (InvalidSnippetException e) {
        // reported by that snippet's own test
      }
    }
    return out;
  }

  private static Cluster cluster(Bootstrap b, String name) {
    return b.getStaticResources().getClustersList().stream()
        .filter(c -> c.getName().equals(name)).findFirst()
        .orElseThrow(() -> new AssertionError("no cluster " + name));
  }
}
