package io.arbiter.accesslog;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.entry;

import io.arbiter.engine.AttributeBag;
import io.envoyproxy.envoy.config.core.v3.Address;
import io.envoyproxy.envoy.config.core.v3.Pipe;
import io.envoyproxy.envoy.data.accesslog.v3.AccessLogCommon;
import io.envoyproxy.envoy.data.accesslog.v3.HTTPAccessLogEntry;
import io.envoyproxy.envoy.data.accesslog.v3.HTTPRequestProperties;
import io.envoyproxy.envoy.data.accesslog.v3.HTTPResponseProperties;
import io.envoyproxy.envoy.data.accesslog.v3.ResponseFlags;
import io.envoyproxy.envoy.data.accesslog.v3.TCPAccessLogEntry;
import io.envoyproxy.envoy.data.accesslog.v3.TLSProperties;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class AccessLogEntryMapperTest {
  private static final Reporter REPORTER = new Reporter("sidecar~10.0.0.9~orders-1", "orders", "http-log");
  private final AccessLogEntryMapper mapper = new AccessLogEntryMapper(AttributeMapping.defaults());

  @Test
  void httpEntryMapsEveryDocumentedField() {
    AttributeBag bag = mapper.map(Entries.http("/api/orders/7?expand=items&debug", 200), REPORTER);

    assertThat(bag.asMap()).containsOnly(
        entry("source.ip", "10.0.0.5"),
        entry("source.port", 43210L),
        entry("destination.ip", "10.1.0.7"),
        entry("destination.port", 8080L),
        entry("upstream.address", "10.1.0.7:8080"),
        entry("upstream.cluster", "outbound|8080||orders.default.svc.cluster.local"),
        entry("route.name", "orders-route"),
        entry("source.principal", "spiffe://cluster.local/ns/default/sa/frontend"),
        entry("destination.principal", "spiffe://cluster.local/ns/default/sa/orders"),
        entry("connection.requested_server_name", "orders.example.com"),
        entry("connection.mtls", true),
        entry("request.time", Instant.ofEpochSecond(Entries.START_SECONDS, 5000)),
        entry("response.duration", Duration.ofNanos(12_500_000)),
        entry("context.metadata", Map.of("envoy.filters.http.ext_authz",
            Map.of("decision_id", "0123456789abcdef", "cache_hit", true,
                "matched_rules", List.of("tag-user")))),
        entry("check.cache_hit", true),
        entry("context.reporter.node", "sidecar~10.0.0.9~orders-1"),
        entry("context.reporter.cluster", "orders"),
        entry("context.reporter.name", "http-log"),
        entry("request.method", "GET"),
        entry("request.scheme", "https"),
        entry("request.host", "orders.example.com"),
        entry("destination.service.host", "orders.example.com"),
        entry("request.path", "/api/orders/7"),
        entry("request.query_params", Map.of("expand", "items", "debug", "")),
        entry("request.useragent", "curl/8.5.0"),
        entry("request.id", "5d1e8f00-2f7c-4d41-9d0e-3c1b1a8b7f10"),
        entry("request.size", 0L),
        entry("request.headers", Map.of(
            "x-user", "alice",
            "content-type", "application/json",
            "user-agent", "curl/8.5.0",
            "referer", "https://shop.example.com/",
            "x-forwarded-for", "203.0.113.7",
            "x-request-id", "5d1e8f00-2f7c-4d41-9d0e-3c1b1a8b7f10")),
        entry("request.protocol", "HTTP/2"),
        entry("response.code", 200L),
        entry("response.size", 1234L),
        entry("response.headers", Map.of("content-type", "application/json")),
        entry("context.protocol", "http"));
  }

  @Test
  void grpcIsRecognizedByContentTypeOrGrpcStatusAndTheStatusComesFromTrailers() {
    HTTPAccessLogEntry base = Entries.http("/orders.v1.Orders/Get", 200);
    HTTPAccessLogEntry byContentType = base.toBuilder()
        .setRequest(base.getRequest().toBuilder().putRequestHeaders("content-type", "application/grpc+proto"))
        .setResponse(base.getResponse().toBuilder().putResponseTrailers("grpc-status", "5"))
        .build();
    AttributeBag bag = mapper.map(byContentType, REPORTER);
    assertThat(bag.get("context.protocol")).isEqualTo("grpc");
    assertThat(bag.get("response.grpc_status")).isEqualTo(5L);

    // A trailers-only reply: grpc-status among the response headers; the request content-type not logged.
    HTTPAccessLogEntry trailersOnly = base.toBuilder()
        .setRequest(base.getRequest().toBuilder().removeRequestHeaders("content-type"))
        .setResponse(HTTPResponseProperties.newBuilder()
            .setResponseCode(com.google.protobuf.UInt32Value.of(200))
            .putResponseHeaders("Grpc-Status", "14"))
        .build();
    bag = mapper.map(trailersOnly, REPORTER);
    assertThat(bag.get("context.protocol")).isEqualTo("grpc");
    assertThat(bag.get("response.grpc_status")).isEqualTo(14L);
    assertThat(headers(bag, "response.headers")).containsOnlyKeys("grpc-status");
  }

  @Test
  void localReplyWithoutUpstreamTakesTheDestinationFromTheListenerAndPrintsFlags() {
    HTTPAccessLogEntry base = Entries.http("/nowhere", 503);
    AccessLogCommon common = base.getCommonProperties().toBuilder()
        .clearUpstreamRemoteAddress().clearUpstreamCluster().clearTlsProperties()
        .clearTimeToLastDownstreamTxByte()
        .setDuration(com.google.protobuf.Duration.newBuilder().setSeconds(1).setNanos(500_000_000))
        .setResponseFlags(ResponseFlags.newBuilder().setNoHealthyUpstream(true)
            .setUpstreamRetryLimitExceeded(true)
            .setUnauthorizedDetails(ResponseFlags.Unauthorized.newBuilder()
                .setReason(ResponseFlags.Unauthorized.Reason.EXTERNAL_SERVICE)))
        .build();
    AttributeBag bag = mapper.map(base.toBuilder().setCommonProperties(common).build(), Reporter.NONE);

    assertThat(bag.get("destination.ip")).isEqualTo("10.0.0.9");
    assertThat(bag.get("destination.port")).isEqualTo(8443L);
    assertThat(bag.has("upstream.address")).isFalse();
    assertThat(bag.has("upstream.cluster")).isFalse();
    assertThat(bag.get("response.flags")).isEqualTo("UH,UAEX,URX");
    assertThat(bag.get("response.duration")).isEqualTo(Duration.ofMillis(1500));
    assertThat(bag.get("connection.mtls")).isEqualTo(false);
    assertThat(bag.has("source.principal")).isFalse();
    assertThat(bag.names()).noneMatch(n -> n.startsWith("context.reporter."));
  }

  @Test
  void aSparseEntrySetsOnlyWhatItCarries() {
    HTTPAccessLogEntry sparse = HTTPAccessLogEntry.newBuilder()
        .setCommonProperties(AccessLogCommon.newBuilder()
            .setDownstreamRemoteAddress(Address.newBuilder().setPipe(Pipe.newBuilder().setPath("/tmp/s"))))
        .setRequest(HTTPRequestProperties.newBuilder().setPath("/x"))
        .setResponse(HTTPResponseProperties.getDefaultInstance())
        .build();
    AttributeBag bag = mapper.map(sparse, Reporter.NONE);
    assertThat(bag.asMap()).containsOnly(
        entry("request.path", "/x"), entry("request.size", 0L), entry("response.size", 0L),
        entry("connection.mtls", false), entry("context.protocol", "http"));
  }

  @Test
  void ipv6UpstreamIsBracketed() {
    HTTPAccessLogEntry base = Entries.http("/", 200);
    HTTPAccessLogEntry v6 = base.toBuilder().setCommonProperties(base.getCommonProperties().toBuilder()
        .setUpstreamRemoteAddress(Entries.address("fd00::7", 8080))).build();
    AttributeBag bag = mapper.map(v6, REPORTER);
    assertThat(bag.get("upstream.address")).isEqualTo("[fd00::7]:8080");
    assertThat(bag.get("destination.ip")).isEqualTo("fd00::7");
  }

  @Test
  void aNamedUpstreamPortIsNoPort() {
    HTTPAccessLogEntry base = Entries.http("/", 200);
    HTTPAccessLogEntry named = base.toBuilder().setCommonProperties(base.getCommonProperties().toBuilder()
        .setUpstreamRemoteAddress(Address.newBuilder().setSocketAddress(
            io.envoyproxy.envoy.config.core.v3.SocketAddress.newBuilder()
                .setAddress("10.1.0.7").setNamedPort("http")))).build();
    AttributeBag bag = mapper.map(named, REPORTER);
    assertThat(bag.get("upstream.address")).isEqualTo("10.1.0.7");
    assertThat(bag.get("destination.ip")).isEqualTo("10.1.0.7");
    assertThat(bag.has("destination.port")).isFalse();
  }

  @Test
  void customTagsSetTheReporterKindAndMappedAttributesButFieldsWin() {
    HTTPAccessLogEntry base = Entries.http("/", 200);
    HTTPAccessLogEntry tagged = base.toBuilder().setCommonProperties(base.getCommonProperties().toBuilder()
        .putCustomTags("context.reporter.kind", "outbound")
        .putCustomTags("route_name", "from-a-tag")
        .putCustomTags("http.request.header.x-tenant", "acme")
        .putCustomTags("unknown-tag", "ignored")).build();
    AttributeBag bag = mapper.map(tagged, REPORTER);
    assertThat(bag.get("context.reporter.kind")).isEqualTo("outbound");
    assertThat(bag.get("route.name")).isEqualTo("orders-route");
    // request.headers is a field of the entry, so the field's map wins over the tag's header.
    assertThat(headers(bag, "request.headers")).doesNotContainKey("x-tenant");
  }

  @Test
  void tcpEntry() {
    TCPAccessLogEntry e = Entries.tcp();
    AttributeBag bag = mapper.map(e, new Reporter("edge-1", "edge", "tcp-log"));
    assertThat(bag.asMap()).containsOnly(
        entry("source.ip", "10.0.0.5"),
        entry("source.port", 43210L),
        entry("destination.ip", "10.1.0.7"),
        entry("destination.port", 8080L),
        entry("upstream.address", "10.1.0.7:8080"),
        entry("upstream.cluster", "outbound|8080||orders.default.svc.cluster.local"),
        entry("source.principal", "spiffe://cluster.local/ns/default/sa/frontend"),
        entry("destination.principal", "spiffe://cluster.local/ns/default/sa/orders"),
        entry("connection.requested_server_name", "orders.example.com"),
        entry("connection.mtls", true),
        entry("request.time", Instant.ofEpochSecond(Entries.START_SECONDS, 5000)),
        entry("response.duration", Duration.ofNanos(12_500_000)),
        entry("response.flags", "UF"),
        entry("connection.received_bytes", 512L),
        entry("connection.sent_bytes", 2048L),
        entry("context.reporter.node", "edge-1"),
        entry("context.reporter.cluster", "edge"),
        entry("context.reporter.name", "tcp-log"),
        entry("context.protocol", "tcp"));
  }

  // The rules below were also held equal to the wire decoder's copy of them by
  // AccessLogWireDecoderTest; with one copy left (AccessLogEntryFields.toBag), they are pinned here.

  @Test
  void responseDurationIsTheLastByteSentWhenLoggedElseTheDuration() {
    HTTPAccessLogEntry base = Entries.http("/", 200);
    HTTPAccessLogEntry both = base.toBuilder().setCommonProperties(base.getCommonProperties().toBuilder()
        .setDuration(com.google.protobuf.Duration.newBuilder().setSeconds(3))).build();
    assertThat(mapper.map(both, REPORTER).get("response.duration")).isEqualTo(Duration.ofNanos(12_500_000));
  }

  @Test
  void mtlsIsAPeerCertificateWithASanOrASubjectAndPrincipalsPreferTheFirstNonEmptyUriSan() {
    assertThat(tls(cert().setSubject("CN=frontend")).asMap())
        .containsEntry("connection.mtls", true).doesNotContainKey("source.principal");
    assertThat(tls(cert().addSubjectAltName(dns("frontend.internal"))).asMap())
        .containsEntry("connection.mtls", true).containsEntry("source.principal", "frontend.internal");
    assertThat(tls(cert().addSubjectAltName(dns(""))).asMap())
        .containsEntry("connection.mtls", true).doesNotContainKey("source.principal");
    assertThat(tls(cert()).asMap())
        .containsEntry("connection.mtls", false).doesNotContainKey("source.principal");
    assertThat(tls(cert().addSubjectAltName(uri("")).addSubjectAltName(dns(""))
            .addSubjectAltName(dns("a.internal")).addSubjectAltName(dns("b.internal"))
            .addSubjectAltName(uri("spiffe://td/first")).addSubjectAltName(uri("spiffe://td/second")))
        .get("source.principal")).isEqualTo("spiffe://td/first");
    assertThat(tls(cert().addSubjectAltName(dns("")).addSubjectAltName(dns("a.internal"))
            .addSubjectAltName(dns("b.internal")))
        .get("source.principal")).isEqualTo("a.internal");
  }

  @Test
  void loggedRequestHeadersAreLowercasedAndWinOverTheEntrysOwnFields() {
    HTTPAccessLogEntry base = Entries.http("/", 200);
    HTTPAccessLogEntry e = base.toBuilder().setRequest(base.getRequest().toBuilder()
        .putRequestHeaders("User-Agent", "logged-agent").putRequestHeaders("X-Tenant", "acme")).build();
    assertThat(headers(mapper.map(e, REPORTER), "request.headers"))
        .containsEntry("user-agent", "logged-agent")
        .containsEntry("x-tenant", "acme")
        .containsEntry("referer", "https://shop.example.com/")
        .doesNotContainKeys("User-Agent", "X-Tenant");
  }

  @Test
  void grpcByEitherContentTypeInAnyCaseAndTheStatusFromATrailerOfAnyCase() {
    HTTPAccessLogEntry base = Entries.http("/orders.v1.Orders/Get", 200);
    HTTPAccessLogEntry request = base.toBuilder().setRequest(base.getRequest().toBuilder()
        .putRequestHeaders("content-type", "Application/GRPC+proto")).build();
    assertThat(mapper.map(request, REPORTER).asMap())
        .containsEntry("context.protocol", "grpc").doesNotContainKey("response.grpc_status");
    HTTPAccessLogEntry response = base.toBuilder().setResponse(base.getResponse().toBuilder()
        .putResponseHeaders("content-type", "application/grpc")).build();
    assertThat(mapper.map(response, REPORTER).get("context.protocol")).isEqualTo("grpc");
    HTTPAccessLogEntry trailer = base.toBuilder().setResponse(base.getResponse().toBuilder()
        .putResponseTrailers("Grpc-Status", " 7 ")).build();
    assertThat(mapper.map(trailer, REPORTER).asMap())
        .containsEntry("context.protocol", "grpc").containsEntry("response.grpc_status", 7L);
    HTTPAccessLogEntry garbled = base.toBuilder().setResponse(base.getResponse().toBuilder()
        .putResponseTrailers("grpc-status", "seven")).build();
    assertThat(mapper.map(garbled, REPORTER).asMap())
        .containsEntry("context.protocol", "grpc").doesNotContainKey("response.grpc_status");
  }

  @Test
  void everyHttpVersionHasItsName() {
    HTTPAccessLogEntry base = Entries.http("/", 200);
    Map<HTTPAccessLogEntry.HTTPVersion, String> names = Map.of(
        HTTPAccessLogEntry.HTTPVersion.HTTP10, "HTTP/1.0", HTTPAccessLogEntry.HTTPVersion.HTTP11, "HTTP/1.1",
        HTTPAccessLogEntry.HTTPVersion.HTTP2, "HTTP/2", HTTPAccessLogEntry.HTTPVersion.HTTP3, "HTTP/3");
    names.forEach((v, name) -> assertThat(
        mapper.map(base.toBuilder().setProtocolVersion(v).build(), REPORTER).get("request.protocol"))
        .as("%s", v).isEqualTo(name));
    assertThat(mapper.map(base.toBuilder().setProtocolVersionValue(99).build(), REPORTER)
        .has("request.protocol")).isFalse();
    assertThat(mapper.map(base.toBuilder().setRequest(base.getRequest().toBuilder()
        .setRequestMethodValue(99)).build(), REPORTER).has("request.method")).isFalse();
  }

  @Test
  void theStreamsReporterWinsOverCustomTagsOfItsNames() {
    HTTPAccessLogEntry base = Entries.http("/", 200);
    HTTPAccessLogEntry tagged = base.toBuilder().setCommonProperties(base.getCommonProperties().toBuilder()
        .putCustomTags("context.reporter.name", "from-a-tag")).build();
    assertThat(mapper.map(tagged, REPORTER).get("context.reporter.name")).isEqualTo("http-log");
    assertThat(mapper.map(tagged, Reporter.NONE).get("context.reporter.name")).isEqualTo("from-a-tag");
  }

  @Test
  void aTcpEntryWithoutConnectionPropertiesHasNoByteCounts() {
    AttributeBag bag = mapper.map(Entries.tcp().toBuilder().clearConnectionProperties().build(), REPORTER);
    assertThat(bag.names()).doesNotContain("connection.received_bytes", "connection.sent_bytes");
    assertThat(bag.get("context.protocol")).isEqualTo("tcp");
  }

  /** An HTTP entry whose only TLS property is this peer certificate. */
  private AttributeBag tls(TLSProperties.CertificateProperties.Builder peer) {
    HTTPAccessLogEntry base = Entries.http("/", 200);
    return mapper.map(base.toBuilder().setCommonProperties(base.getCommonProperties().toBuilder()
        .setTlsProperties(TLSProperties.newBuilder().setPeerCertificateProperties(peer))).build(), REPORTER);
  }

  private static TLSProperties.CertificateProperties.Builder cert() {
    return TLSProperties.CertificateProperties.newBuilder();
  }

  private static TLSProperties.CertificateProperties.SubjectAltName uri(String uri) {
    return TLSProperties.CertificateProperties.SubjectAltName.newBuilder().setUri(uri).build();
  }

  private static TLSProperties.CertificateProperties.SubjectAltName dns(String dns) {
    return TLSProperties.CertificateProperties.SubjectAltName.newBuilder().setDns(dns).build();
  }

  @SuppressWarnings("unchecked")
  private static Map<String, String> headers(AttributeBag bag, String name) {
    return (Map<String, String>) bag.get(name);
  }

  @Test
  void everyResponseFlagHasEnvoysShortName() {
    ResponseFlags.Builder all = ResponseFlags.newBuilder();
    for (var f : ResponseFlags.getDescriptor().getFields()) {
      if (f.getType() == com.google.protobuf.Descriptors.FieldDescriptor.Type.BOOL) {
        all.setField(f, true);
      }
    }
    all.setUnauthorizedDetails(ResponseFlags.Unauthorized.getDefaultInstance());
    assertThat(io.arbiter.accesslog.internal.ResponseFlagsText.format(all.build())).isEqualTo(
        "LH,UH,UT,LR,UR,UF,UC,UO,NR,DI,FI,RL,UAEX,RLSE,DC,URX,SI,IH,DPE,UMSDR,RFCF,NFCF,DT,UPE,NC,OM,DF,DR");
    assertThat(io.arbiter.accesslog.internal.ResponseFlagsText.format(ResponseFlags.getDefaultInstance()))
        .isEmpty();
  }

  /** The generated entry's flags reach the shared mapping as the wire decoder reads them: by field number. */
  @Test
  void eachResponseFlagIsItsFieldNumbersBit() {
    for (var f : ResponseFlags.getDescriptor().getFields()) {
      ResponseFlags.Builder one = ResponseFlags.newBuilder();
      if (f.getType() == com.google.protobuf.Descriptors.FieldDescriptor.Type.BOOL) {
        one.setField(f, true);
      } else {
        one.setField(f, ResponseFlags.Unauthorized.getDefaultInstance());
      }
      assertThat(io.arbiter.accesslog.internal.ResponseFlagsText.fields(one.build()))
          .as(f.getName()).isEqualTo(1 << f.getNumber());
    }
    assertThat(io.arbiter.accesslog.internal.ResponseFlagsText.fields(ResponseFlags.getDefaultInstance()))
        .isZero();
  }
}
