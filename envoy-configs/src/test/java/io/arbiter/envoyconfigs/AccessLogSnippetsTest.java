package io.arbiter.envoyconfigs;

import static org.assertj.core.api.Assertions.assertThat;

import io.arbiter.accesslog.AttributeMapping;
import io.arbiter.envoyconfigs.SnippetValidator.Parsed;
import io.envoyproxy.envoy.config.accesslog.v3.AccessLog;
import io.envoyproxy.envoy.extensions.access_loggers.grpc.v3.HttpGrpcAccessLogConfig;
import io.envoyproxy.envoy.extensions.access_loggers.grpc.v3.TcpGrpcAccessLogConfig;
import io.envoyproxy.envoy.extensions.access_loggers.open_telemetry.v3.OpenTelemetryAccessLogConfig;
import io.envoyproxy.envoy.service.accesslog.v3.AccessLogServiceGrpc;
import io.opentelemetry.proto.common.v1.KeyValue;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * The access-log snippets (kept in their own map beside {@code EnvoyConfigSnippetsTest}'s, which
 * validates and wires every snippet of the module, these included): each is an {@code AccessLog}
 * of the right logger, logs what Arbiter's mapping needs, and the wiring check catches a logger
 * that does not reach Arbiter.
 */
class AccessLogSnippetsTest {
  private static final String ACCESS_LOG = AccessLog.getDescriptor().getFullName();

  /** The access-log snippets, with the message type each must declare. */
  static final Map<String, String> EXPECTED = Map.of(
      "accesslog-grpc-http.yaml", ACCESS_LOG,
      "accesslog-grpc-tcp.yaml", ACCESS_LOG,
      "accesslog-otel.yaml", ACCESS_LOG);

  private static SnippetValidator validator;
  private static EnvoySchema schema;

  @BeforeAll
  static void load() {
    schema = EnvoySchema.get();
    validator = new SnippetValidator(schema);
  }

  private static String text(String name) throws Exception {
    return Files.readString(Path.of(name), StandardCharsets.UTF_8);
  }

  private static AccessLog parse(String name) throws Exception {
    Parsed p = validator.validate(name, text(name));
    return ArbiterWiring.typed(p.message(), AccessLog.getDefaultInstance());
  }

  private static ArbiterWiring wiring() throws Exception {
    return new ArbiterWiring(schema, List.of(validator.validate("cluster-arbiter.yaml",
        text("cluster-arbiter.yaml"))));
  }

  @Test
  void eachSnippetDeclaresItsTypeAndNamesItsLogger() throws Exception {
    for (Map.Entry<String, String> e : EXPECTED.entrySet()) {
      assertThat(SnippetValidator.declaredMessageType(e.getKey(), text(e.getKey())))
          .as(e.getKey()).isEqualTo(e.getValue());
    }
    assertThat(parse("accesslog-grpc-http.yaml").getName()).isEqualTo("envoy.access_loggers.http_grpc");
    assertThat(parse("accesslog-grpc-tcp.yaml").getTypedConfig().is(TcpGrpcAccessLogConfig.class)).isTrue();
    assertThat(parse("accesslog-otel.yaml").getName()).isEqualTo("envoy.access_loggers.open_telemetry");
  }

  @Test
  void theHttpLoggerLogsWhatTellsGrpcFromHttpAndTheReporterKind() throws Exception {
    HttpGrpcAccessLogConfig c = parse("accesslog-grpc-http.yaml").getTypedConfig()
        .unpack(HttpGrpcAccessLogConfig.class);
    assertThat(c.getAdditionalRequestHeadersToLogList()).contains("content-type");
    assertThat(c.getAdditionalResponseTrailersToLogList()).contains("grpc-status");
    assertThat(c.getCommonConfig().getCustomTagsList())
        .anySatisfy(t -> {
          assertThat(t.getTag()).isEqualTo("context.reporter.kind");
          assertThat(t.getLiteral().getValue()).isIn("inbound", "outbound");
        });
  }

  /** Every key the OpenTelemetry snippet sends is one Arbiter's default mapping knows. */
  @Test
  void everyOpenTelemetryAttributeIsInArbitersDefaultMapping() throws Exception {
    OpenTelemetryAccessLogConfig c = parse("accesslog-otel.yaml").getTypedConfig()
        .unpack(OpenTelemetryAccessLogConfig.class);
    List<String> keys = c.getAttributes().getValuesList().stream().map(KeyValue::getKey).toList();
    assertThat(keys).hasSizeGreaterThan(15);
    AttributeMapping defaults = AttributeMapping.defaults();
    assertThat(keys).allSatisfy(k -> assertThat(defaults.knows(k)).as(k).isTrue());
    // and the resource labels Envoy adds itself
    assertThat(List.of("log_name", "node_name", "cluster_name")).allMatch(defaults::knows);
  }

  @Test
  void aLoggerThatDoesNotReachArbitersGrpcPortIsAWiringProblem() throws Exception {
    String good = text("accesslog-grpc-tcp.yaml");
    assertThat(wiring().check(validator.validate("good", good))).isEmpty();

    List<String> elsewhere = wiring().check(validator.validate("bad",
        good.replace("cluster_name: arbiter", "cluster_name: collector")));
    assertThat(elsewhere).singleElement().asString()
        .contains("common_config.grpc_service.envoy_grpc.cluster_name: no cluster 'collector'");

    List<String> google = wiring().check(validator.validate("bad", good.replace(
        "envoy_grpc:\n        cluster_name: arbiter",
        "google_grpc: {target_uri: 'arbiter:9191', stat_prefix: als}")));
    assertThat(google).singleElement().asString().contains("use envoy_grpc");
    assertThat(AccessLogServiceGrpc.SERVICE_NAME).isEqualTo("envoy.service.accesslog.v3.AccessLogService");
  }

  /** The logger the README's "Access logs" section shows is valid and wired like the files. */
  @Test
  void theReadmeAccessLoggerIsValidEnvoyConfig() throws Exception {
    String readme = Files.readString(Path.of("..", "README.md"), StandardCharsets.UTF_8);
    int section = readme.indexOf("## Access logs");
    assertThat(section).as("README section 'Access logs'").isNotNegative();
    int start = readme.indexOf("```yaml\n", section) + "```yaml\n".length();
    String block = readme.substring(start, readme.indexOf("```", start));
    List<?> items = new Yaml(new SafeConstructor(new LoaderOptions())).load(block);
    assertThat(items).as("the README block: one access logger").hasSize(1);
    Parsed logger = validator.validate("README access logger",
        new Yaml().dump((Map<?, ?>) items.get(0)), ACCESS_LOG);
    assertThat(wiring().check(logger)).isEmpty();
    assertThat(ArbiterWiring.typed(logger.message(), AccessLog.getDefaultInstance()).getTypedConfig()
        .is(HttpGrpcAccessLogConfig.class)).isTrue();
  }
}
