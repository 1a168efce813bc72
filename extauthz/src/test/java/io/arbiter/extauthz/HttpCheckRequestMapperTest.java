package io.arbiter.extauthz;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.entry;

import io.arbiter.engine.AttributeBag;
import io.arbiter.engine.config.Settings;
import io.arbiter.engine.metrics.Metrics;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** HTTP-mode checks as attributes: through the CheckRequest the gRPC mode would have received. */
class HttpCheckRequestMapperTest {
  private static final Instant NOW = Instant.parse("2025-01-02T03:04:05.123456789Z");

  private final Metrics metrics = new Metrics();
  private final CheckRequestMapper mapper = new CheckRequestMapper(metrics);

  private AttributeBag map(HttpCheckRequest request) {
    CheckRequestMapper.Mapping m =
        mapper.map(HttpCheckRequestMapper.toCheckRequest(request, NOW), Settings.DEFAULT);
    assertThat(m.rejected()).as("rejected: %s", m.rejection()).isFalse();
    return m.attributes();
  }

  private static InetSocketAddress peer(String ip, int port) throws Exception {
    return new InetSocketAddress(InetAddress.getByName(ip), port);
  }

  @Test
  void mapsWhatEnvoyForwards() throws Exception {
    Map<String, List<String>> headers = new LinkedHashMap<>();
    headers.put("Host", List.of("shop.example.com"));
    headers.put("Authorization", List.of("Bearer abc"));
    headers.put("X-request-id", List.of("req-1"));
    headers.put("User-agent", List.of("curl/8.5"));
    headers.put("X-forwarded-proto", List.of("https, http"));
    headers.put("Content-length", List.of("9"));
    headers.put("Connection", List.of("keep-alive"));
    headers.put("X-multi", List.of("a", "b"));

    AttributeBag bag =
        map(
            new HttpCheckRequest(
                "POST",
                "/api/items?name=a%20b&x=1&x=2",
                headers,
                "{\"qty\":1}".getBytes(StandardCharsets.UTF_8),
                peer("10.0.0.9", 40123)));

    assertThat(bag.asMap())
        .containsOnly(
            entry("source.ip", "10.0.0.9"),
            entry("source.port", 40123L),
            entry("connection.mtls", false),
            entry("request.time", NOW),
            entry("request.method", "POST"),
            entry("request.path", "/api/items"),
            entry("request.query_params", Map.of("name", "a b", "x", "1")),
            entry("request.host", "shop.example.com"),
            entry("destination.service.host", "shop.example.com"),
            entry("request.scheme", "https"),
            entry("request.body", "{\"qty\":1}"),
            entry(
                "request.headers",
                Map.of(
                    "host", "shop.example.com",
                    "authorization", "Bearer abc",
                    "x-request-id", "req-1",
                    "user-agent", "curl/8.5",
                    "x-forwarded-proto", "https, http",
                    "x-multi", "a,b")),
            entry("request.id", "req-1"),
            entry("request.useragent", "curl/8.5"),
            entry("context.protocol", "http"),
            entry("context.reporter.kind", "inbound"));
  }

  @Test
  void sourceIsTheLastForwardedForElementAndThenHasNoPort() throws Exception {
    Map<String, List<String>> headers =
        Map.of("X-Forwarded-For", List.of("203.0.113.7, 198.51.100.1", " 192.0.2.44 , "));

    AttributeBag bag = map(new HttpCheckRequest("GET", "/", headers, null, peer("127.0.0.1", 5000)));

    assertThat(bag.get("source.ip")).isEqualTo("192.0.2.44");
    assertThat(bag.has("source.port")).isFalse();
    assertThat(bag.get("request.headers"))
        .isEqualTo(Map.of("x-forwarded-for", "203.0.113.7, 198.51.100.1, 192.0.2.44 , "));
  }

  @Test
  void bracketedIpv6ForwardedForAndCompressedIpv6Peer() throws Exception {
    AttributeBag forwarded =
        map(new HttpCheckRequest(
            "GET", "/", Map.of("x-forwarded-for", List.of("[2001:db8::1]")), null, null));
    AttributeBag direct =
        map(new HttpCheckRequest("GET", "/", Map.of(), null, peer("0:0:0:0:0:0:0:1", 7)));

    assertThat(forwarded.get("source.ip")).isEqualTo("2001:db8::1");
    assertThat(direct.get("source.ip")).isEqualTo("::1");
    assertThat(direct.get("source.port")).isEqualTo(7L);
  }

  @Test
  void emptyForwardedForFallsBackToThePeerAndNoPeerMeansNoSource() throws Exception {
    AttributeBag empty =
        map(new HttpCheckRequest(
            "GET", "/", Map.of("x-forwarded-for", List.of(" , ")), null, peer("10.1.1.1", 9)));
    AttributeBag none = map(new HttpCheckRequest("GET", "/", Map.of(), null, null));

    assertThat(empty.get("source.ip")).isEqualTo("10.1.1.1");
    assertThat(none.has("source.ip")).isFalse();
    assertThat(none.has("request.host")).isFalse();
    assertThat(none.has("request.size")).isFalse();
    assertThat(none.has("request.body")).isFalse();
  }

  @Test
  void grpcContentTypeMakesTheProtocolGrpc() {
    AttributeBag bag =
        map(new HttpCheckRequest(
            "POST", "/pkg.Svc/Method", Map.of("content-type", List.of("application/grpc+proto")),
            null, null));

    assertThat(bag.get("context.protocol")).isEqualTo("grpc");
  }

  @Test
  void limitsCountEachForwardedValueBeforeJoining() {
    Settings twoHeaders = Engines.limits(2, 1 << 20, 1 << 20, 431);
    HttpCheckRequest threeValues =
        new HttpCheckRequest("GET", "/", Map.of("x-a", List.of("1", "2", "3")), null, null);

    CheckRequestMapper.Mapping m =
        mapper.map(HttpCheckRequestMapper.toCheckRequest(threeValues, NOW), twoHeaders);

    assertThat(m.rejected()).isTrue();
    assertThat(m.rejection().reason()).isEqualTo(CheckRequestMapper.TOO_MANY_HEADERS);
    assertThat(m.rejection().httpStatus()).isEqualTo(431);
  }
}
