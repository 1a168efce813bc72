package io.arbiter.extauthz;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.entry;

import com.google.protobuf.ByteString;
import com.google.protobuf.ListValue;
import com.google.protobuf.NullValue;
import com.google.protobuf.Struct;
import com.google.protobuf.Timestamp;
import com.google.protobuf.Value;
import io.arbiter.engine.AttributeBag;
import io.arbiter.engine.config.Settings;
import io.arbiter.engine.metrics.Metrics;
import io.arbiter.engine.spi.CheckResult;
import io.arbiter.engine.spi.Code;
import io.envoyproxy.envoy.config.core.v3.Address;
import io.envoyproxy.envoy.config.core.v3.HeaderMap;
import io.envoyproxy.envoy.config.core.v3.HeaderValue;
import io.envoyproxy.envoy.config.core.v3.Metadata;
import io.envoyproxy.envoy.config.core.v3.Pipe;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.envoyproxy.envoy.service.auth.v3.AttributeContext;
import io.envoyproxy.envoy.service.auth.v3.CheckRequest;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CheckRequestMapperTest {
  private final Metrics metrics = new Metrics();
  private final CheckRequestMapper mapper = new CheckRequestMapper(metrics);

  private static Address socket(String ip, int port) {
    return Address.newBuilder()
        .setSocketAddress(SocketAddress.newBuilder().setAddress(ip).setPortValue(port))
        .build();
  }

  private static Value str(String s) {
    return Value.newBuilder().setStringValue(s).build();
  }

  private static Value num(double d) {
    return Value.newBuilder().setNumberValue(d).build();
  }

  private static Value nul() {
    return Value.newBuilder().setNullValue(NullValue.NULL_VALUE).build();
  }

  private static CheckRequest request(AttributeContext.HttpRequest.Builder http) {
    return CheckRequest.newBuilder()
        .setAttributes(
            AttributeContext.newBuilder()
                .setRequest(AttributeContext.Request.newBuilder().setHttp(http)))
        .build();
  }

  private AttributeBag map(CheckRequest request) {
    CheckRequestMapper.Mapping m = mapper.map(request, Settings.DEFAULT);
    assertThat(m.rejected()).as("rejected: %s", m.rejection()).isFalse();
    return m.attributes();
  }

  @Test
  void mapsEveryFieldEnvoyFillsForAnHttpRequest() {
    Struct jwt =
        Struct.newBuilder()
            .putFields("sub", str("alice"))
            .putFields("n", num(3))
            .putFields("admin", Value.newBuilder().setBoolValue(true).build())
            .putFields("gone", nul())
            .putFields(
                "groups",
                Value.newBuilder()
                    .setListValue(
                        ListValue.newBuilder().addValues(str("a")).addValues(nul()).addValues(str("b")))
                    .build())
            .putFields(
                "nested",
                Value.newBuilder()
                    .setStructValue(Struct.newBuilder().putFields("k", str("v")))
                    .build())
            .build();
    CheckRequest request =
        CheckRequest.newBuilder()
            .setAttributes(
                AttributeContext.newBuilder()
                    .setSource(
                        AttributeContext.Peer.newBuilder()
                            .setAddress(socket("10.0.0.1", 5555))
                            .setPrincipal("spiffe://cluster.local/ns/default/sa/client")
                            .setCertificate("-----BEGIN%20CERTIFICATE-----%0A")
                            .setService("frontend-cluster")
                            .putLabels("app", "client"))
                    .setDestination(
                        AttributeContext.Peer.newBuilder()
                            .setAddress(socket("10.0.0.2", 8080))
                            .setPrincipal("spiffe://cluster.local/ns/default/sa/shop")
                            .putLabels("version", "v1"))
                    .setRequest(
                        AttributeContext.Request.newBuilder()
                            .setTime(Timestamp.newBuilder().setSeconds(1_700_000_000L).setNanos(123_456_789))
                            .setHttp(
                                AttributeContext.HttpRequest.newBuilder()
                                    .setId("12345")
                                    .setMethod("POST")
                                    .setPath("/api/items?name=a%20b&x=1&x=2&flag&plus=c+d&utf=%C3%A9")
                                    .setHost("shop.example.com:8443")
                                    .setScheme("https")
                                    .setProtocol("HTTP/2")
                                    .setSize(42)
                                    .setBody("{\"qty\":1}")
                                    .putHeaders(":path", "/api/items?name=a%20b&x=1&x=2&flag&plus=c+d&utf=%C3%A9")
                                    .putHeaders("x-request-id", "req-1")
                                    .putHeaders("user-agent", "curl/8.5")
                                    .putHeaders("content-type", "application/json")))
                    .putContextExtensions("virtual_host", "vh1")
                    .setMetadataContext(
                        Metadata.newBuilder().putFilterMetadata("envoy.filters.http.jwt_authn", jwt))
                    .setRouteMetadataContext(
                        Metadata.newBuilder()
                            .putFilterMetadata(
                                "arbiter", Struct.newBuilder().putFields("route", str("r1")).build()))
                    .setTlsSession(AttributeContext.TLSSession.newBuilder().setSni("shop.example.com")))
            .build();

    AttributeBag bag = map(request);

    assertThat(bag.asMap())
        .containsOnly(
            entry("source.ip", "10.0.0.1"),
            entry("source.port", 5555L),
            entry("source.principal", "spiffe://cluster.local/ns/default/sa/client"),
            entry("source.labels", Map.of("app", "client")),
            entry("destination.ip", "10.0.0.2"),
            entry("destination.port", 8080L),
            entry("destination.principal", "spiffe://cluster.local/ns/default/sa/shop"),
            entry("destination.labels", Map.of("version", "v1")),
            entry("destination.service.host", "shop.example.com:8443"),
            entry("connection.mtls", true),
            entry("connection.peer_certificate", "-----BEGIN%20CERTIFICATE-----%0A"),
            entry("connection.requested_server_name", "shop.example.com"),
            entry("request.time", Instant.ofEpochSecond(1_700_000_000L, 123_456_789)),
            entry("request.method", "POST"),
            entry("request.path", "/api/items"),
            entry(
                "request.query_params",
                Map.of("name", "a b", "x", "1", "flag", "", "plus", "c d", "utf", "é")),
            entry("request.host", "shop.example.com:8443"),
            entry("request.scheme", "https"),
            entry("request.protocol", "HTTP/2"),
            entry("request.size", 42L),
            entry("request.body", "{\"qty\":1}"),
            entry(
                "request.headers",
                Map.of(
                    ":path", "/api/items?name=a%20b&x=1&x=2&flag&plus=c+d&utf=%C3%A9",
                    "x-request-id", "req-1",
                    "user-agent", "curl/8.5",
                    "content-type", "application/json")),
            entry("request.id", "req-1"),
            entry("request.useragent", "curl/8.5"),
            entry("context.protocol", "http"),
            entry("context.reporter.kind", "inbound"),
            entry("context.extensions", Map.of("virtual_host", "vh1")),
            entry(
                "context.metadata",
                Map.of(
                    "envoy.filters.http.jwt_authn",
                    Map.of(
                        "sub", "alice",
                        "n", 3.0d,
                        "admin", true,
                        "groups", List.of("a", "b"),
                        "nested", Map.of("k", "v")))),
            entry("context.route_metadata", Map.of("arbiter", Map.of("route", "r1"))));
  }

  @Test
  void readsHeadersOnlyFromHeaderMapWithRawValues() {
    byte[] invalid = {'o', 'k', (byte) 0xff, (byte) 0xc3};
    AttributeContext.HttpRequest.Builder http =
        AttributeContext.HttpRequest.newBuilder()
            .setMethod("GET")
            .setPath("/")
            .setHeaderMap(
                HeaderMap.newBuilder()
                    .addHeaders(raw(":authority", "api.example.com"))
                    .addHeaders(raw("X-Request-ID", "abc-123"))
                    .addHeaders(raw("User-Agent", "grpc-java-netty/1.85.1"))
                    .addHeaders(raw("content-type", "application/grpc+proto"))
                    .addHeaders(raw("x-forwarded-for", "10.0.0.1"))
                    .addHeaders(raw("X-Forwarded-For", "10.0.0.2"))
                    .addHeaders(
                        HeaderValue.newBuilder()
                            .setKey("x-bin")
                            .setRawValue(ByteString.copyFrom(invalid)))
                    .addHeaders(HeaderValue.newBuilder().setKey("x-plain").setValue("text"))
                    .addHeaders(HeaderValue.newBuilder().setKey("x-empty")));

    AttributeBag bag = map(request(http));

    assertThat(bag.get("request.headers"))
        .isEqualTo(
            Map.of(
                ":authority", "api.example.com",
                "x-request-id", "abc-123",
                "user-agent", "grpc-java-netty/1.85.1",
                "content-type", "application/grpc+proto",
                "x-forwarded-for", "10.0.0.1,10.0.0.2",
                "x-bin", "ok\uFFFD\uFFFD",
                "x-plain", "text",
                "x-empty", ""));
    assertThat(bag.get("request.id")).isEqualTo("abc-123");
    assertThat(bag.get("request.useragent")).isEqualTo("grpc-java-netty/1.85.1");
    assertThat(bag.get("context.protocol")).isEqualTo("grpc");
  }

  @Test
  void joinsHeadersOfBothFieldsAndLowercasesMapKeys() {
    AttributeContext.HttpRequest.Builder http =
        AttributeContext.HttpRequest.newBuilder()
            .putHeaders("X-Tenant", "a")
            .putHeaders("accept", "text/html")
            .setHeaderMap(HeaderMap.newBuilder().addHeaders(raw("x-tenant", "b")));

    AttributeBag bag = map(request(http));

    assertThat(bag.get("request.headers"))
        .isEqualTo(Map.of("x-tenant", "a,b", "accept", "text/html"));
  }

  @Test
  void httpIdIsNotTheRequestId() {
    AttributeBag bag = map(request(AttributeContext.HttpRequest.newBuilder().setId("17")));

    assertThat(bag.has("request.id")).isFalse();
    assertThat(bag.has("request.headers")).isFalse();
    assertThat(bag.get("context.protocol")).isEqualTo("http");
  }

  @Test
  void grpcContentTypeIsCaseInsensitiveAndPrefixOnly() {
    assertThat(map(request(AttributeContext.HttpRequest.newBuilder()
            .putHeaders("content-type", "Application/GRPC"))).get("context.protocol"))
        .isEqualTo("grpc");
    assertThat(map(request(AttributeContext.HttpRequest.newBuilder()
            .putHeaders("content-type", "application/grp"))).get("context.protocol"))
        .isEqualTo("http");
  }

  @Test
  void splitsPathFromQueryAndDecodesParameters() {
    AttributeBag bag =
        map(request(AttributeContext.HttpRequest.newBuilder()
            .setPath("/a%2Fb/c?k=1&k=2&=x&&bad=%zz%4&e=%E2%82%AC&q=a+b%2Bc&broken=%ff#frag")));

    assertThat(bag.get("request.path")).isEqualTo("/a%2Fb/c");
    assertThat(bag.get("request.query_params"))
        .isEqualTo(
            Map.of(
                "k", "1",
                "bad", "%zz%4",
                "e", "€",
                "q", "a b+c",
                "broken", "\uFFFD"));
  }

  @Test
  void pathWithoutQueryHasNoQueryParams() {
    AttributeBag bag = map(request(AttributeContext.HttpRequest.newBuilder().setPath("/x?")));

    assertThat(bag.get("request.path")).isEqualTo("/x");
    assertThat(bag.has("request.query_params")).isFalse();
  }

  @Test
  void sizeIsSetOnlyWhenKnown() {
    assertThat(map(request(AttributeContext.HttpRequest.newBuilder().setSize(-1))).has("request.size"))
        .isFalse();
    assertThat(map(request(AttributeContext.HttpRequest.newBuilder().setSize(0))).get("request.size"))
        .isEqualTo(0L);
  }

  @Test
  void rawBodyIsDecodedWithReplacementAndWinsOverBody() {
    AttributeBag bag =
        map(request(AttributeContext.HttpRequest.newBuilder()
            .setBody("ignored")
            .setRawBody(ByteString.copyFrom(new byte[] {'h', 'i', (byte) 0x80}))));

    assertThat(bag.get("request.body")).isEqualTo("hi\uFFFD");
  }

  @Test
  void networkFilterRequestIsTcpWithPeersOnly() {
    CheckRequest request =
        CheckRequest.newBuilder()
            .setAttributes(
                AttributeContext.newBuilder()
                    .setSource(AttributeContext.Peer.newBuilder().setAddress(socket("::1", 40000)))
                    .setDestination(
                        AttributeContext.Peer.newBuilder()
                            .setAddress(socket("::1", 9000))
                            .setService("db.internal")))
            .build();

    AttributeBag bag = map(request);

    assertThat(bag.asMap())
        .containsOnly(
            entry("source.ip", "::1"),
            entry("source.port", 40000L),
            entry("destination.ip", "::1"),
            entry("destination.port", 9000L),
            entry("connection.mtls", false),
            entry("connection.requested_server_name", "db.internal"),
            entry("context.protocol", "tcp"),
            entry("context.reporter.kind", "inbound"));
  }

  @Test
  void ignoresPipeAddressesAndEmptyMetadata() {
    CheckRequest request =
        CheckRequest.newBuilder()
            .setAttributes(
                AttributeContext.newBuilder()
                    .setSource(
                        AttributeContext.Peer.newBuilder()
                            .setAddress(Address.newBuilder().setPipe(Pipe.newBuilder().setPath("/tmp/s")))
                            .setCertificate("cert"))
                    .setMetadataContext(Metadata.getDefaultInstance()))
            .build();

    AttributeBag bag = map(request);

    assertThat(bag.asMap())
        .containsOnly(
            entry("connection.mtls", true),
            entry("connection.peer_certificate", "cert"),
            entry("context.protocol", "tcp"),
            entry("context.reporter.kind", "inbound"));
  }

  @Test
  void tenThousandHeadersAreRejectedNotEvaluated() {
    AttributeContext.HttpRequest.Builder http = AttributeContext.HttpRequest.newBuilder();
    for (int i = 0; i < 10_000; i++) {
      http.putHeaders("x-h-" + i, "v");
    }

    CheckRequestMapper.Mapping m = mapper.map(request(http), Settings.DEFAULT);

    assertThat(m.rejected()).isTrue();
    assertThat(m.attributes()).isNull();
    assertThat(m.rejection())
        .isEqualTo(
            new CheckRequestMapper.Rejection(
                "too_many_headers", "request has 10000 headers, more than the limit of 512", 431));
    assertThat(rejected("too_many_headers")).isEqualTo(1);
    assertThat(rejected("headers_too_large")).isZero();
  }

  @Test
  void headerCountLimitIsInclusiveAndCountsBothFields() {
    Settings two = Engines.limits(2, 1024, 1024, 431);
    AttributeContext.HttpRequest.Builder http =
        AttributeContext.HttpRequest.newBuilder()
            .putHeaders("a", "1")
            .setHeaderMap(HeaderMap.newBuilder().addHeaders(raw("a", "2")));

    assertThat(mapper.map(request(http), two).rejected()).isFalse();

    http.setHeaderMap(http.getHeaderMap().toBuilder().addHeaders(raw("a", "3")));
    assertThat(mapper.map(request(http), two).rejection().reason()).isEqualTo("too_many_headers");
  }

  @Test
  void aOneMebibyteHeaderValueIsRejected() {
    byte[] big = new byte[1024 * 1024];
    Arrays.fill(big, (byte) 'a');
    AttributeContext.HttpRequest.Builder raw =
        AttributeContext.HttpRequest.newBuilder()
            .setHeaderMap(
                HeaderMap.newBuilder()
                    .addHeaders(HeaderValue.newBuilder().setKey("cookie").setRawValue(ByteString.copyFrom(big))));
    AttributeContext.HttpRequest.Builder map =
        AttributeContext.HttpRequest.newBuilder().putHeaders("cookie", new String(big, java.nio.charset.StandardCharsets.US_ASCII));

    for (AttributeContext.HttpRequest.Builder http : List.of(raw, map)) {
      CheckRequestMapper.Mapping m = mapper.map(request(http), Settings.DEFAULT);
      assertThat(m.rejection())
          .isEqualTo(
              new CheckRequestMapper.Rejection(
                  "headers_too_large",
                  "request headers are larger than the limit of 262144 bytes",
                  431));
    }
    assertThat(rejected("headers_too_large")).isEqualTo(2);
  }

  @Test
  void headerBytesCountNamesAndUtf8ValuesInclusively() {
    // "k" + "é" (2 bytes) = 3 bytes.
    Settings three = Engines.limits(10, 3, 0, 431);
    assertThat(mapper.map(request(AttributeContext.HttpRequest.newBuilder().putHeaders("k", "é")), three)
            .rejected())
        .isFalse();
    assertThat(mapper.map(request(AttributeContext.HttpRequest.newBuilder().putHeaders("k", "éa")), three)
            .rejection().reason())
        .isEqualTo("headers_too_large");
  }

  @Test
  void aBodyOverItsLimitGets413WhileTheOverLimitStatusIs431() {
    AttributeContext.HttpRequest.Builder http =
        AttributeContext.HttpRequest.newBuilder().setRawBody(ByteString.copyFrom(new byte[11]));

    CheckRequestMapper.Rejection r = mapper.map(request(http), Engines.limits(10, 100, 10, 431)).rejection();
    assertThat(r)
        .isEqualTo(
            new CheckRequestMapper.Rejection(
                "body_too_large", "request body has 11 bytes, more than the limit of 10", 413));
    assertThat(mapper.map(request(http), Engines.limits(10, 100, 10, 400)).rejection().httpStatus())
        .isEqualTo(400);
    assertThat(mapper.map(request(http), Engines.limits(10, 100, 11, 431)).rejected()).isFalse();
    assertThat(rejected("body_too_large")).isEqualTo(2);
  }

  @Test
  void aStringBodyIsMeasuredInUtf8Bytes() {
    AttributeContext.HttpRequest.Builder http = AttributeContext.HttpRequest.newBuilder().setBody("éé");

    assertThat(mapper.map(request(http), Engines.limits(10, 100, 3, 431)).rejection().reason())
        .isEqualTo("body_too_large");
    assertThat(mapper.map(request(http), Engines.limits(10, 100, 4, 431)).rejected()).isFalse();
  }

  @Test
  void rejectionIsAnUncachedInvalidArgumentDenial() {
    CheckResult result =
        new CheckRequestMapper.Rejection("body_too_large", "too big", 413).toResult();

    assertThat(result.code()).isEqualTo(Code.INVALID_ARGUMENT);
    assertThat(result.message()).isEqualTo("too big");
    assertThat(result.body()).isEqualTo("too big\n");
    assertThat(result.effectiveHttpStatus()).isEqualTo(413);
    assertThat(result.validDuration()).isEqualTo(Duration.ZERO);
    assertThat(result.validUseCount()).isZero();
  }

  private long rejected(String reason) {
    return Engines.counter(metrics, "arbiter_check_rejected_total", "reason", reason);
  }

  private static HeaderValue.Builder raw(String key, String value) {
    return HeaderValue.newBuilder().setKey(key).setRawValue(ByteString.copyFromUtf8(value));
  }
}
