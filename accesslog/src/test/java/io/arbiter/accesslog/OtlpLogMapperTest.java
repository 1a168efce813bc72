package io.arbiter.accesslog;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.entry;

import io.arbiter.engine.AttributeBag;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.common.v1.KeyValueList;
import io.opentelemetry.proto.logs.v1.LogRecord;
import io.opentelemetry.proto.logs.v1.ResourceLogs;
import io.opentelemetry.proto.logs.v1.ScopeLogs;
import io.opentelemetry.proto.resource.v1.Resource;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;

class OtlpLogMapperTest {
  private final OtlpLogMapper mapper = new OtlpLogMapper(AttributeMapping.defaults());

  static KeyValue kv(String key, String value) {
    return KeyValue.newBuilder().setKey(key).setValue(AnyValue.newBuilder().setStringValue(value)).build();
  }

  /** Resource attributes as Envoy's logger sets them (its built-in labels) plus a configured one. */
  static Resource envoyResource(String node) {
    return Resource.newBuilder()
        .addAttributes(kv("log_name", "otel-http"))
        .addAttributes(kv("zone_name", "eu-west-1a"))
        .addAttributes(kv("cluster_name", "front-proxy"))
        .addAttributes(kv("node_name", node))
        .addAttributes(kv("region", "eu-west-1"))
        .build();
  }

  /**
   * A record as Envoy's logger formats the attributes of envoy-configs/accesslog-otel.yaml: every
   * value a string, "-" where the command operator had nothing.
   */
  static LogRecord envoyRecord(String path, String code) {
    return LogRecord.newBuilder()
        .setTimeUnixNano(1_700_000_000_005_000_000L)
        .setBody(AnyValue.newBuilder().setStringValue("[2023-11-14T22:13:20.005Z] \"GET " + path + "\" " + code))
        .addAttributes(kv("method", "GET"))
        .addAttributes(kv("path", path))
        .addAttributes(kv("authority", "orders.example.com"))
        .addAttributes(kv("scheme", "https"))
        .addAttributes(kv("protocol", "HTTP/2"))
        .addAttributes(kv("response_code", code))
        .addAttributes(kv("response_flags", "-"))
        .addAttributes(kv("grpc_status", "-"))
        .addAttributes(kv("bytes_received", "0"))
        .addAttributes(kv("bytes_sent", "1234"))
        .addAttributes(kv("duration", "12"))
        .addAttributes(kv("downstream_remote_address", "10.0.0.5:43210"))
        .addAttributes(kv("upstream_host", "10.1.0.7:8080"))
        .addAttributes(kv("upstream_cluster", "orders"))
        .addAttributes(kv("route_name", "orders-route"))
        .addAttributes(kv("requested_server_name", "orders.example.com"))
        .addAttributes(kv("downstream_peer_uri_san", "spiffe://cluster.local/ns/default/sa/frontend"))
        .addAttributes(kv("user_agent", "curl/8.5.0"))
        .addAttributes(kv("x-request-id", "5d1e8f00"))
        .addAttributes(kv("content-type", "application/json"))
        .addAttributes(kv("http.request.header.x-user", "alice"))
        .addAttributes(kv("context.reporter.kind", "inbound"))
        .build();
  }

  static ExportLogsServiceRequest request(Resource resource, LogRecord... records) {
    return ExportLogsServiceRequest.newBuilder()
        .addResourceLogs(ResourceLogs.newBuilder().setResource(resource)
            .addScopeLogs(ScopeLogs.newBuilder().addAllLogRecords(java.util.List.of(records))))
        .build();
  }

  @Test
  void envoyRecordMapsToTheVocabulary() {
    OtlpLogMapper.Result r = mapper.map(request(envoyResource("front-proxy-1"),
        envoyRecord("/api/orders/7?expand=items", "200")));
    assertThat(r.rejected()).isZero();
    assertThat(r.invalid()).isEmpty();
    assertThat(r.bags()).hasSize(1);
    assertThat(r.bags().get(0).asMap()).containsOnly(
        entry("request.method", "GET"),
        entry("request.path", "/api/orders/7"),
        entry("request.query_params", Map.of("expand", "items")),
        entry("request.host", "orders.example.com"),
        entry("destination.service.host", "orders.example.com"),
        entry("request.scheme", "https"),
        entry("request.protocol", "HTTP/2"),
        entry("response.code", 200L),
        entry("request.size", 0L),
        entry("response.size", 1234L),
        entry("response.duration", Duration.ofMillis(12)),
        entry("source.ip", "10.0.0.5"),
        entry("source.port", 43210L),
        entry("upstream.address", "10.1.0.7:8080"),
        entry("destination.ip", "10.1.0.7"),
        entry("destination.port", 8080L),
        entry("upstream.cluster", "orders"),
        entry("route.name", "orders-route"),
        entry("connection.requested_server_name", "orders.example.com"),
        entry("source.principal", "spiffe://cluster.local/ns/default/sa/frontend"),
        entry("request.useragent", "curl/8.5.0"),
        entry("request.id", "5d1e8f00"),
        entry("request.headers", Map.of("content-type", "application/json", "x-user", "alice")),
        entry("context.reporter.kind", "inbound"),
        entry("context.reporter.name", "otel-http"),
        entry("context.reporter.cluster", "front-proxy"),
        entry("context.reporter.node", "front-proxy-1"),
        entry("request.time", Instant.ofEpochSecond(1_700_000_000L, 5_000_000)),
        entry("context.protocol", "http"));
  }

  @Test
  void grpcByContentTypeAndTcpWithoutHttpFields() {
    LogRecord grpc = envoyRecord("/orders.v1.Orders/Get", "200").toBuilder()
        .addAttributes(kv("content-type", "application/grpc")) // the first content-type wins ...
        .build();
    LogRecord grpcFirst = LogRecord.newBuilder()
        .addAttributes(kv("content_type", "application/grpc"))
        .addAttributes(kv("grpc_status", "Unavailable"))
        .addAttributes(kv("path", "/orders.v1.Orders/Get"))
        .build();
    LogRecord tcp = LogRecord.newBuilder()
        .addAttributes(kv("downstream_remote_address", "10.0.0.5:43210"))
        .addAttributes(kv("connection.received_bytes", "10"))
        .addAttributes(kv("connection.sent_bytes", "20"))
        .build();
    OtlpLogMapper.Result r = mapper.map(request(Resource.getDefaultInstance(), grpc, grpcFirst, tcp));
    assertThat(r.bags()).extracting(b -> b.get("context.protocol")).containsExactly("http", "grpc", "tcp");
    assertThat(r.bags().get(1).get("response.grpc_status")).isEqualTo(14L);
    assertThat(r.bags().get(2).get("connection.sent_bytes")).isEqualTo(20L);
    assertThat(r.bags().get(2).has("request.time")).isFalse();
  }

  @Test
  void aKeyValueBodyIsMappedAfterTheAttributesAndTypedValuesConvert() {
    LogRecord record = LogRecord.newBuilder()
        .addAttributes(KeyValue.newBuilder().setKey("response_code")
            .setValue(AnyValue.newBuilder().setIntValue(503)))
        .setBody(AnyValue.newBuilder().setKvlistValue(KeyValueList.newBuilder()
            .addValues(kv("response_code", "200")) // the attribute came first and wins
            .addValues(kv("method", "DELETE"))
            .addValues(KeyValue.newBuilder().setKey("duration")
                .setValue(AnyValue.newBuilder().setDoubleValue(2.5)))))
        .build();
    AttributeBag bag = mapper.map(request(Resource.getDefaultInstance(), record)).bags().get(0);
    assertThat(bag.get("response.code")).isEqualTo(503L);
    assertThat(bag.get("request.method")).isEqualTo("DELETE");
    assertThat(bag.get("response.duration")).isEqualTo(Duration.ofNanos(2_500_000));
  }

  @Test
  void recordsWithNoKnownKeyAreRejectedAndBadValuesReported() {
    LogRecord foreign = LogRecord.newBuilder()
        .setBody(AnyValue.newBuilder().setStringValue("some application log line"))
        .addAttributes(kv("logger", "com.example.App"))
        .addAttributes(kv("thread", "main"))
        .build();
    LogRecord bad = LogRecord.newBuilder()
        .addAttributes(kv("path", "/ok"))
        .addAttributes(kv("response_code", "abc"))
        .build();
    OtlpLogMapper.Result r = mapper.map(request(envoyResource("n"), foreign, bad));
    assertThat(r.rejected()).isEqualTo(1);
    assertThat(r.unknownKeys()).containsExactly("logger", "thread");
    assertThat(r.invalid()).containsExactly("response.code");
    assertThat(r.bags()).hasSize(1);
    assertThat(r.bags().get(0).get("request.path")).isEqualTo("/ok");
    assertThat(r.bags().get(0).has("response.code")).isFalse();
  }

  @Test
  void aCustomMappingCanNameTheStringBody() {
    OtlpLogMapper custom = new OtlpLogMapper(AttributeMapping.withOverrides(Map.of("body", "request.body")));
    LogRecord record = LogRecord.newBuilder()
        .setBody(AnyValue.newBuilder().setStringValue("GET /x 200")).build();
    OtlpLogMapper.Result r = custom.map(request(Resource.getDefaultInstance(), record));
    assertThat(r.rejected()).isZero();
    assertThat(r.bags().get(0).get("request.body")).isEqualTo("GET /x 200");
    assertThat(r.bags().get(0).get("context.protocol")).isEqualTo("tcp");
  }
}
