package io.arbiter.envoyconfigs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import io.arbiter.envoyconfigs.SnippetValidator.InvalidSnippetException;
import io.arbiter.envoyconfigs.SnippetValidator.Parsed;
import io.envoyproxy.envoy.extensions.filters.http.ext_authz.v3.ExtAuthz;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The validator and the wiring checks reject broken snippets, saying what and where. */
class SnippetValidatorTest {

  private static EnvoySchema schema;
  private static SnippetValidator validator;

  private static final String HTTP_FILTER =
      "envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter";
  private static final String CLUSTER = "envoy.config.cluster.v3.Cluster";

  private static final String GOOD_FILTER = """
      # envoy-message: envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter
      name: envoy.filters.http.ext_authz
      typed_config:
        "@type": type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthz
        transport_api_version: V3
        grpc_service:
          envoy_grpc: {cluster_name: arbiter}
          timeout: 0.25s
        failure_mode_allow: false
      """;

  private static final String GOOD_CLUSTER = """
      # envoy-message: envoy.config.cluster.v3.Cluster
      name: arbiter
      type: STATIC
      connect_timeout: 1s
      typed_extension_protocol_options:
        envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
          "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
          explicit_http_config: {http2_protocol_options: {}}
      load_assignment:
        cluster_name: arbiter
        endpoints:
          - lb_endpoints:
              - endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: 9191}}}
      """;

  @BeforeAll
  static void load() {
    schema = EnvoySchema.get();
    validator = new SnippetValidator(schema);
  }

  @Test
  void aGoodSnippetParsesAsItsDeclaredType() throws Exception {
    Parsed p = validator.validate("good.yaml", GOOD_FILTER);
    assertThat(p.messageType()).isEqualTo(HTTP_FILTER);
    ExtAuthz x = ArbiterWiring.typed(p.message(),
        io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter
            .getDefaultInstance()).getTypedConfig().unpack(ExtAuthz.class);
    assertThat(x.getGrpcService().getEnvoyGrpc().getClusterName()).isEqualTo("arbiter");
    assertThat(x.getGrpcService().getTimeout().getNanos()).isEqualTo(250_000_000);
  }

  @Test
  void aMisspeltFieldIsRejectedNamingFileFieldAndPath() {
    String yaml = GOOD_FILTER.replace("failure_mode_allow", "failure_mode_alow");
    assertThatThrownBy(() -> validator.validate("broken.yaml", yaml))
        .isInstanceOf(InvalidSnippetException.class)
        .hasMessageContaining("broken.yaml")
        .hasMessageContaining("typed_config<envoy.extensions.filters.http.ext_authz.v3.ExtAuthz>"
            + ".failure_mode_alow")
        .hasMessageContaining("unknown field 'failure_mode_alow'")
        .hasMessageContaining("did you mean 'failure_mode_allow'");
  }

  @Test
  void protobufsOwnJsonParserRejectsTheMisspeltFieldToo() {
    // The path-naming pre-pass is a convenience: the parser itself does not ignore unknown fields.
    String json = """
        {"name": "x", "typed_config": {
          "@type": "type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthz",
          "failure_mode_alow": false}}""";
    assertThatThrownBy(() -> JsonFormat.parser().usingTypeRegistry(schema.registry()).merge(json,
        io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter
            .newBuilder()))
        .isInstanceOf(InvalidProtocolBufferException.class)
        .hasMessageContaining("failure_mode_alow");
  }

  @Test
  void anUnknownTypeIsRejectedNamingFileAndType() {
    String yaml = GOOD_FILTER.replace("ext_authz.v3.ExtAuthz", "ext_authz.v3.ExtAuthzz");
    assertThatThrownBy(() -> validator.validate("typo-type.yaml", yaml))
        .isInstanceOf(InvalidSnippetException.class)
        .hasMessageContaining("typo-type.yaml")
        .hasMessageContaining("unresolved @type")
        .hasMessageContaining("type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthzz");
  }

  @Test
  void aWrongValueTypeIsRejected() {
    String yaml = GOOD_FILTER.replace("timeout: 0.25s", "timeout: soon");
    assertThatThrownBy(() -> validator.validate("bad-duration.yaml", yaml))
        .hasMessageContaining("bad-duration.yaml")
        .hasMessageContaining("does not match Envoy's schema");
  }

  @Test
  void envoysValidationRulesAreChecked() {
    // GrpcService.EnvoyGrpc.cluster_name: (validate.rules).string.min_len = 1
    assertThatThrownBy(() -> validator.validate("empty.yaml",
        GOOD_FILTER.replace("cluster_name: arbiter", "cluster_name: \"\"")))
        .hasMessageContaining("grpc_service.envoy_grpc.cluster_name: must not be empty");
    // ExtAuthzPerRoute: oneof override {option (validate.required) = true; ...}
    assertThatThrownBy(() -> validator.validate("route.yaml", """
        # envoy-message: envoy.config.route.v3.Route
        match: {prefix: /}
        route: {cluster: web}
        typed_per_filter_config:
          envoy.filters.http.ext_authz:
            "@type": type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthzPerRoute
        """)).hasMessageContaining("one of disabled, check_settings is required");
    // HealthCheck: timeout, interval and thresholds are required; a health checker oneof too
    assertThatThrownBy(() -> validator.validate("hc.yaml",
        GOOD_CLUSTER + "health_checks: [{timeout: 1s}]\n"))
        .hasMessageContaining("health_checks[0].interval: is required")
        .hasMessageContaining("health_checks[0].unhealthy_threshold: is required")
        .hasMessageContaining("health_checks[0]: one of");
    // SocketAddress.port_value: lte 65535
    assertThatThrownBy(() -> validator.validate("port.yaml", GOOD_CLUSTER.replace("9191", "91910")))
        .hasMessageContaining("port_value: must be <= 65535, is 91910");
    // a duration gt 0
    assertThatThrownBy(() -> validator.validate("ct.yaml",
        GOOD_CLUSTER.replace("connect_timeout: 1s", "connect_timeout: 0s")))
        .hasMessageContaining("connect_timeout: must be > 0s");
  }

  @Test
  void deprecatedFieldsAreRejected() {
    // Cluster.http2_protocol_options is deprecated: typed_extension_protocol_options replaces it
    assertThatThrownBy(() -> validator.validate("old.yaml",
        GOOD_CLUSTER + "http2_protocol_options: {}\n"))
        .hasMessageContaining("http2_protocol_options: deprecated in Envoy's API");
    // transport_api_version V2 is a deprecated enum value
    assertThatThrownBy(() -> validator.validate("v2.yaml",
        GOOD_FILTER.replace("transport_api_version: V3", "transport_api_version: V2")))
        .hasMessageContaining("enum value V2 is deprecated");
  }

  @Test
  void v2TypesAreRejected() {
    String yaml = GOOD_FILTER
        .replace("envoy.extensions.filters.http.ext_authz.v3.ExtAuthz",
            "envoy.config.filter.http.ext_authz.v2.ExtAuthz")
        .replace("  transport_api_version: V3\n", "");
    assertThatThrownBy(() -> validator.validate("v2type.yaml", yaml))
        .hasMessageContaining("Envoy's v2 API");
  }

  @Test
  void theHeaderAndYamlItselfAreChecked() {
    assertThatThrownBy(() -> validator.validate("noheader.yaml", "name: x\n"))
        .hasMessageContaining("noheader.yaml").hasMessageContaining("first line");
    assertThatThrownBy(() -> validator.validate("nosuchtype.yaml",
        "# envoy-message: envoy.config.bootstrap.v3.Bootstrapp\nadmin: {}\n"))
        .hasMessageContaining("envoy.config.bootstrap.v3.Bootstrapp");
    assertThatThrownBy(() -> validator.validate("dup.yaml", GOOD_CLUSTER + "name: again\n"))
        .hasMessageContaining("dup.yaml").hasMessageContaining("duplicate key");
    assertThatThrownBy(() -> validator.validate("list.yaml", "# envoy-message: " + CLUSTER
        + "\n- a\n")).hasMessageContaining("mapping");
  }

  // --- wiring ---------------------------------------------------------------------------------

  private static List<String> wiring(String yaml, String... module) throws InvalidSnippetException {
    List<Parsed> parsed = new java.util.ArrayList<>();
    for (int i = 0; i < module.length; i++) {
      parsed.add(validator.validate("module-" + i + ".yaml", module[i]));
    }
    return new ArbiterWiring(schema, parsed).check(validator.validate("snippet.yaml", yaml));
  }

  @Test
  void aWellWiredFilterPasses() throws InvalidSnippetException {
    assertThat(wiring(GOOD_FILTER, GOOD_CLUSTER)).isEmpty();
  }

  @Test
  void wiringMistakesAreReported() throws InvalidSnippetException {
    assertThat(wiring(GOOD_FILTER.replace("  transport_api_version: V3\n", ""), GOOD_CLUSTER))
        .anyMatch(s -> s.contains("transport_api_version: must be V3"));
    assertThat(wiring(GOOD_FILTER.replace("cluster_name: arbiter", "cluster_name: authz"),
        GOOD_CLUSTER)).anyMatch(s -> s.contains("no cluster 'authz'"));
    assertThat(wiring(GOOD_FILTER, GOOD_CLUSTER.replace("9191", "9000")))
        .anyMatch(s -> s.contains("is not on Arbiter's gRPC port 9191"));
    assertThat(wiring(GOOD_FILTER, GOOD_CLUSTER.replace("http2_protocol_options", "http_protocol_options")))
        .anyMatch(s -> s.contains("gRPC needs HTTP/2"));
    assertThat(wiring(GOOD_FILTER.replace("timeout: 0.25s", "timeout: 0.1s"), GOOD_CLUSTER))
        .anyMatch(s -> s.contains("not above Arbiter's handler timeout"));
    assertThat(wiring(GOOD_FILTER.replace("failure_mode_allow: false", "failure_mode_allow: true"),
        GOOD_CLUSTER)).anyMatch(s -> s.contains("fail closed"));
    assertThat(wiring(GOOD_FILTER, GOOD_CLUSTER + """
        health_checks:
          - {timeout: 1s, interval: 5s, unhealthy_threshold: 2, healthy_threshold: 1,
             grpc_health_check: {service_name: arbiter}}
        """)).anyMatch(s -> s.contains("grpc_health_check.service_name"));
  }

  @Test
  void aBootstrapWithTheRouterFirstAndAMissingClusterIsReported() throws InvalidSnippetException {
    String bootstrap = """
        # envoy-message: envoy.config.bootstrap.v3.Bootstrap
        admin: {address: {socket_address: {address: 0.0.0.0, port_value: 9901}}}
        static_resources:
          listeners:
            - name: l
              address: {socket_address: {address: 0.0.0.0, port_value: 8080}}
              filter_chains:
                - filters:
                    - name: envoy.filters.network.http_connection_manager
                      typed_config:
                        "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                        stat_prefix: in
                        route_config:
                          virtual_hosts:
                            - name: all
                              domains: ["*"]
                              routes:
                                - match: {prefix: /}
                                  route: {cluster: web}
                                  typed_per_filter_config:
                                    ext_authz:
                                      "@type": type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthzPerRoute
                                      disabled: true
                        http_filters:
                          - name: envoy.filters.http.router
                            typed_config:
                              "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
                          - name: envoy.filters.http.ext_authz
                            typed_config:
                              "@type": type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthz
                              transport_api_version: V3
                              grpc_service: {envoy_grpc: {cluster_name: arbiter}, timeout: 0.25s}
        """;
    // the module's cluster snippets do not count for a bootstrap: it must define its own
    assertThat(wiring(bootstrap, GOOD_CLUSTER))
        .anyMatch(s -> s.contains("ext_authz after the router never runs"))
        .anyMatch(s -> s.contains("the last filter must be the router"))
        .anyMatch(s -> s.contains("no cluster 'arbiter' in this bootstrap"))
        .anyMatch(s -> s.contains("no ext_authz HTTP filter is named 'ext_authz'"))
        .anyMatch(s -> s.startsWith("admin.address: the admin API can stop Envoy"))
        .anyMatch(s -> s.contains("port 9901 is one of Arbiter's default ports"));
  }

  @Test
  void anHttpModeFilterMustUseArbitersHttpPortAndPrefix() throws InvalidSnippetException {
    String filter = """
        # envoy-message: envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter
        name: envoy.filters.http.ext_authz
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthz
          transport_api_version: V3
          http_service:
            server_uri: {uri: "http://arbiter:9191", cluster: arbiter, timeout: 0.25s}
            path_prefix: /authz
        """;
    assertThat(wiring(filter, GOOD_CLUSTER))
        .anyMatch(s -> s.contains("path_prefix: Arbiter's HTTP-mode endpoint is under '/check'"))
        .anyMatch(s -> s.contains("server_uri.uri: port 9191 is not Arbiter's HTTP-mode port 9192"))
        .anyMatch(s -> s.contains("is not on Arbiter's HTTP-mode port 9192"))
        .anyMatch(s -> s.contains("speaks HTTP/1.1"));
  }
}
