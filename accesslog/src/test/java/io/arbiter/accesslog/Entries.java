package io.arbiter.accesslog;

import com.google.protobuf.Duration;
import com.google.protobuf.ListValue;
import com.google.protobuf.Struct;
import com.google.protobuf.Timestamp;
import com.google.protobuf.UInt32Value;
import com.google.protobuf.Value;
import io.envoyproxy.envoy.config.core.v3.Address;
import io.envoyproxy.envoy.config.core.v3.Metadata;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.config.core.v3.RequestMethod;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.envoyproxy.envoy.data.accesslog.v3.AccessLogCommon;
import io.envoyproxy.envoy.data.accesslog.v3.ConnectionProperties;
import io.envoyproxy.envoy.data.accesslog.v3.HTTPAccessLogEntry;
import io.envoyproxy.envoy.data.accesslog.v3.HTTPRequestProperties;
import io.envoyproxy.envoy.data.accesslog.v3.HTTPResponseProperties;
import io.envoyproxy.envoy.data.accesslog.v3.ResponseFlags;
import io.envoyproxy.envoy.data.accesslog.v3.TCPAccessLogEntry;
import io.envoyproxy.envoy.data.accesslog.v3.TLSProperties;
import io.envoyproxy.envoy.service.accesslog.v3.StreamAccessLogsMessage;
import java.util.List;

/** Access-log entries shaped the way Envoy's gRPC access loggers send them. */
final class Entries {
  private Entries() {}

  static final long START_SECONDS = 1_700_000_000L;

  static Address address(String ip, int port) {
    return Address.newBuilder()
        .setSocketAddress(SocketAddress.newBuilder().setAddress(ip).setPortValue(port))
        .build();
  }

  /**
   * The common properties of an mTLS request through a sidecar: downstream 10.0.0.5:43210 to the
   * listener 10.0.0.9:8443, upstream 10.1.0.7:8080, a decision Arbiter's ext_authz Check put in
   * the dynamic metadata.
   */
  static AccessLogCommon.Builder common() {
    return AccessLogCommon.newBuilder()
        .setSampleRate(1)
        .setDownstreamRemoteAddress(address("10.0.0.5", 43210))
        .setDownstreamLocalAddress(address("10.0.0.9", 8443))
        .setUpstreamRemoteAddress(address("10.1.0.7", 8080))
        .setUpstreamLocalAddress(address("10.0.0.9", 51000))
        .setUpstreamCluster("outbound|8080||orders.default.svc.cluster.local")
        .setRouteName("orders-route")
        .setStartTime(Timestamp.newBuilder().setSeconds(START_SECONDS).setNanos(5000))
        .setTimeToLastRxByte(Duration.newBuilder().setNanos(1_000_000))
        .setTimeToLastDownstreamTxByte(Duration.newBuilder().setNanos(12_500_000))
        .setTlsProperties(TLSProperties.newBuilder()
            .setTlsVersion(TLSProperties.TLSVersion.TLSv1_3)
            .setTlsSniHostname("orders.example.com")
            .setPeerCertificateProperties(TLSProperties.CertificateProperties.newBuilder()
                .addSubjectAltName(TLSProperties.CertificateProperties.SubjectAltName.newBuilder()
                    .setDns("frontend.internal"))
                .addSubjectAltName(TLSProperties.CertificateProperties.SubjectAltName.newBuilder()
                    .setUri("spiffe://cluster.local/ns/default/sa/frontend"))
                .setSubject("CN=frontend"))
            .setLocalCertificateProperties(TLSProperties.CertificateProperties.newBuilder()
                .addSubjectAltName(TLSProperties.CertificateProperties.SubjectAltName.newBuilder()
                    .setUri("spiffe://cluster.local/ns/default/sa/orders"))))
        .setMetadata(Metadata.newBuilder().putFilterMetadata("envoy.filters.http.ext_authz",
            Struct.newBuilder()
                .putFields("decision_id", Value.newBuilder().setStringValue("0123456789abcdef").build())
                .putFields("cache_hit", Value.newBuilder().setBoolValue(true).build())
                .putFields("matched_rules", Value.newBuilder().setListValue(ListValue.newBuilder()
                    .addValues(Value.newBuilder().setStringValue("tag-user"))).build())
                .build()));
  }

  /** A GET with a query string, the headers Envoy was told to log, and a 200 response. */
  static HTTPAccessLogEntry http(String path, int code) {
    return HTTPAccessLogEntry.newBuilder()
        .setCommonProperties(common())
        .setProtocolVersion(HTTPAccessLogEntry.HTTPVersion.HTTP2)
        .setRequest(HTTPRequestProperties.newBuilder()
            .setRequestMethod(RequestMethod.GET)
            .setScheme("https")
            .setAuthority("orders.example.com")
            .setPath(path)
            .setUserAgent("curl/8.5.0")
            .setReferer("https://shop.example.com/")
            .setForwardedFor("203.0.113.7")
            .setRequestId("5d1e8f00-2f7c-4d41-9d0e-3c1b1a8b7f10")
            .setRequestHeadersBytes(220)
            .setRequestBodyBytes(0)
            .putRequestHeaders("x-user", "alice")
            .putRequestHeaders("content-type", "application/json"))
        .setResponse(HTTPResponseProperties.newBuilder()
            .setResponseCode(UInt32Value.of(code))
            .setResponseBodyBytes(1234)
            .setResponseCodeDetails("via_upstream")
            .putResponseHeaders("content-type", "application/json"))
        .build();
  }

  static TCPAccessLogEntry tcp() {
    return TCPAccessLogEntry.newBuilder()
        .setCommonProperties(common().clearRouteName().clearMetadata()
            .setResponseFlags(ResponseFlags.newBuilder().setUpstreamConnectionFailure(true)))
        .setConnectionProperties(ConnectionProperties.newBuilder()
            .setReceivedBytes(512).setSentBytes(2048))
        .build();
  }

  static StreamAccessLogsMessage.Identifier identifier(String node, String logName) {
    return StreamAccessLogsMessage.Identifier.newBuilder()
        .setNode(Node.newBuilder().setId(node).setCluster(node.replaceAll("-\\d+$", "")))
        .setLogName(logName)
        .build();
  }

  /** A message of HTTP entries, with the identifier when it is the stream's first. */
  static StreamAccessLogsMessage httpMessage(
      StreamAccessLogsMessage.Identifier identifier, List<HTTPAccessLogEntry> entries) {
    StreamAccessLogsMessage.Builder m = StreamAccessLogsMessage.newBuilder()
        .setHttpLogs(StreamAccessLogsMessage.HTTPAccessLogEntries.newBuilder().addAllLogEntry(entries));
    if (identifier != null) {
      m.setIdentifier(identifier);
    }
    return m.build();
  }
}
