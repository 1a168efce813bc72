package io.arbiter.accesslog;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.entry;

import io.arbiter.engine.AttributeBag;
import io.arbiter.engine.Vocabulary;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AttributeMappingTest {
  @TempDir Path dir;

  private static Map<String, Object> map(AttributeMapping m, Object... keyValues) {
    AttributeMapping.Collector c = m.collector();
    for (int i = 0; i < keyValues.length; i += 2) {
      c.add((String) keyValues[i], keyValues[i + 1]);
    }
    AttributeBag.Builder b = AttributeBag.builder();
    c.into(b);
    return b.build().asMap();
  }

  @Test
  void everyVocabularyNameMapsToItselfAndEveryDefaultTargetExists() {
    AttributeMapping d = AttributeMapping.defaults();
    for (String name : Vocabulary.attributes().keySet()) {
      assertThat(d.table().get(name)).as(name).containsExactly(name);
    }
    assertThat(AttributeMapping.defaultTable()).containsEntry("method", List.of("request.method"))
        .containsEntry("upstream_host", List.of("upstream.address", "destination.address"))
        .containsEntry("authority", List.of("request.host", "destination.service.host"));
  }

  @Test
  void istioStyleKeysAsEnvoyFormatsThem() {
    Map<String, Object> m = map(AttributeMapping.defaults(),
        "method", "POST",
        "path", "/api/orders?expand=items",
        "protocol", "HTTP/1.1",
        "response_code", "201",
        "response_flags", "-",
        "bytes_received", "17",
        "bytes_sent", "42",
        "duration", "12",
        "upstream_host", "10.1.0.7:8080",
        "downstream_remote_address", "[2001:db8::5]:43210",
        "authority", "orders.example.com",
        "user_agent", "curl/8.5.0",
        "x-request-id", "abc",
        "request_id", "ignored: the first key wins",
        "route_name", "orders-route",
        "upstream_cluster", "orders",
        "requested_server_name", "-",
        "x_forwarded_for", "203.0.113.7",
        "start_time", "2023-11-14T22:13:20.005Z",
        "grpc_status", "NotFound",
        "unknown", "ignored");
    assertThat(m).containsOnly(
        entry("request.method", "POST"),
        entry("request.path", "/api/orders"),
        entry("request.query_params", Map.of("expand", "items")),
        entry("request.protocol", "HTTP/1.1"),
        entry("response.code", 201L),
        entry("request.size", 17L),
        entry("response.size", 42L),
        entry("response.duration", Duration.ofMillis(12)),
        entry("upstream.address", "10.1.0.7:8080"),
        entry("destination.ip", "10.1.0.7"),
        entry("destination.port", 8080L),
        entry("source.ip", "2001:db8::5"),
        entry("source.port", 43210L),
        entry("request.host", "orders.example.com"),
        entry("destination.service.host", "orders.example.com"),
        entry("request.useragent", "curl/8.5.0"),
        entry("request.id", "abc"),
        entry("route.name", "orders-route"),
        entry("upstream.cluster", "orders"),
        entry("request.headers", Map.of("x-forwarded-for", "203.0.113.7")),
        entry("request.time", Instant.parse("2023-11-14T22:13:20.005Z")),
        entry("response.grpc_status", 5L));
  }

  @Test
  void openTelemetryConventionsAndTypedValues() {
    Map<String, Object> m = map(AttributeMapping.defaults(),
        "http.request.method", "GET",
        "url.path", "/a",
        "url.query", "q=1&r=two",
        "http.response.status_code", 404L,
        "client.address", "192.0.2.1",
        "client.port", 5555L,
        "user_agent.original", "okhttp",
        "http.request.header.X-Tenant", "acme",
        "http.response.header.cache-control", "no-store",
        "connection.mtls", "true",
        "response.duration", "1.5s",
        "request.time", 1_700_000_000.25d,
        "rpc.grpc.status_code", 14.0d);
    assertThat(m).containsOnly(
        entry("request.method", "GET"),
        entry("request.path", "/a"),
        entry("request.query_params", Map.of("q", "1", "r", "two")),
        entry("response.code", 404L),
        entry("source.ip", "192.0.2.1"),
        entry("source.port", 5555L),
        entry("request.useragent", "okhttp"),
        entry("request.headers", Map.of("x-tenant", "acme")),
        entry("response.headers", Map.of("cache-control", "no-store")),
        entry("connection.mtls", true),
        entry("response.duration", Duration.ofMillis(1500)),
        entry("request.time", Instant.ofEpochSecond(1_700_000_000L, 250_000_000)),
        entry("response.grpc_status", 14L));
  }

  @Test
  void keyValueListsBecomeMapsAndMergeWithSingleHeaders() {
    Map<String, Object> kv = new LinkedHashMap<>();
    kv.put("X-User", "alice");
    kv.put("x-tenant", "from-the-map");
    Map<String, Object> md = Map.of("envoy.filters.http.ext_authz", Map.of("decision_id", "abc", "n", 3L));
    Map<String, Object> m = map(AttributeMapping.defaults(),
        "request.headers.x-tenant", "single-wins",
        "request.headers", kv,
        "context.metadata", md);
    assertThat(m).containsOnly(
        entry("request.headers", Map.of("x-user", "alice", "x-tenant", "single-wins")),
        entry("context.metadata", Map.of("envoy.filters.http.ext_authz", Map.of("decision_id", "abc", "n", 3.0d))));
  }

  @Test
  void valuesThatDoNotConvertAreLeftOutAndReported() {
    AttributeMapping.Collector c = AttributeMapping.defaults().collector();
    assertThat(c.add("response_code", "two hundred")).isTrue();
    assertThat(c.add("duration", "soon")).isTrue();
    assertThat(c.add("connection.mtls", "yes")).isTrue();
    assertThat(c.add("downstream_remote_address", "10.0.0.1:http")).isTrue();
    assertThat(c.add("grpc_status", "Bogus")).isTrue();
    assertThat(c.add("nobody-knows", "x")).isFalse();
    assertThat(c.known()).isEqualTo(5);
    assertThat(c.invalid()).containsExactly(
        "response.code", "response.duration", "connection.mtls", "source.address",
        "response.grpc_status");
    AttributeBag.Builder b = AttributeBag.builder();
    c.into(b);
    assertThat(b.build().asMap()).isEmpty();
  }

  @Test
  void overridesReplaceAddAndRemoveKeys() {
    AttributeMapping m = AttributeMapping.withOverrides(Map.of(
        "status", "response.code",
        "method", List.of(),
        "client", List.of("source.address"),
        "tenant", "request.headers.x-tenant"));
    assertThat(map(m, "status", "503", "method", "GET", "client", "10.0.0.1:1", "tenant", "acme",
        "path", "/still-default"))
        .containsOnly(
            entry("response.code", 503L),
            entry("source.ip", "10.0.0.1"),
            entry("source.port", 1L),
            entry("request.headers", Map.of("x-tenant", "acme")),
            entry("request.path", "/still-default"));
    assertThat(m.knows("method")).isFalse();
  }

  @Test
  void badOverridesAreAllReportedAtOnce() {
    Map<String, Object> bad = new LinkedHashMap<>();
    bad.put("a", "request.nope");
    bad.put("b", List.of("response.code", 7));
    bad.put("c", Map.of("x", "y"));
    assertThatThrownBy(() -> AttributeMapping.withOverrides(bad))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'a': 'request.nope' is not an attribute")
        .hasMessageContaining("'b': a target must be a string, not 7")
        .hasMessageContaining("'c': the target must be");
  }

  @Test
  void loadsAYamlFile() throws Exception {
    Path file = dir.resolve("mapping.yaml");
    Files.writeString(file, """
        # Envoy's attributes, as our logger config names them
        status: response.code
        peer: [source.address]
        method: ~
        """);
    AttributeMapping m = AttributeMapping.load(file);
    assertThat(m.table()).containsEntry("status", List.of("response.code"))
        .containsEntry("peer", List.of("source.address"))
        .doesNotContainKey("method");

    Files.writeString(file, "- not a map\n");
    assertThatThrownBy(() -> AttributeMapping.load(file))
        .hasMessageContaining(file.toString()).hasMessageContaining("must be a map");
    Files.writeString(file, "x: response.codes\n");
    assertThatThrownBy(() -> AttributeMapping.load(file))
        .hasMessageContaining(file.toString()).hasMessageContaining("'response.codes'");
    Files.writeString(file, "");
    assertThat(AttributeMapping.load(file).table()).isEqualTo(AttributeMapping.defaults().table());
  }
}
