package io.arbiter.bench;

import com.google.protobuf.Duration;
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
import io.envoyproxy.envoy.data.accesslog.v3.HTTPAccessLogEntry;
import io.envoyproxy.envoy.data.accesslog.v3.HTTPRequestProperties;
import io.envoyproxy.envoy.data.accesslog.v3.HTTPResponseProperties;
import io.envoyproxy.envoy.data.accesslog.v3.ResponseFlags;
import io.envoyproxy.envoy.data.accesslog.v3.TLSProperties;
import io.envoyproxy.envoy.service.accesslog.v3.StreamAccessLogsMessage;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.UUID;

/**
 * Envoy-shaped {@code HTTPAccessLogEntry}s for the ingest benchmark, what Envoy's {@code
 * envoy.access_loggers.http_grpc} sends with {@code envoy-configs/accesslog-grpc-http.yaml}:
 * addresses of all four peers, upstream cluster, route name, the five timings, TLS with a SPIFFE
 * peer SAN, ext_authz filter metadata, request line and sizes, {@code user-agent}, {@code referer},
 * {@code x-forwarded-for}, a unique {@code x-request-id}, the logged request headers ({@code
 * content-type}, {@code x-user}) and response headers and trailers. The mix, from a seeded random:
 * 8 services, 80% HTTP (70% GET) and 20% gRPC, codes mostly 200 with 201/204/304/404/429/500/503,
 * response flags on the 503s, durations from 0.5 ms to about 2 s.
 *
 * <p>Entries are batched the way Envoy batches them: into one {@code StreamAccessLogsMessage} until
 * the serialized entries reach {@code buffer_size_bytes} (16 KiB by default), the message that
 * crosses it included. Deterministic for a seed.
 */
public final class AccessLogEntries {
  public static final int SERVICES = 8;
  private static final String[] METHODS_HTTP = {"GET", "GET", "GET", "GET", "GET", "GET", "GET", "POST", "POST", "PUT"};
  private static final int[] CODES = {200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200,
      200, 200, 200, 200, 201, 204, 304, 404};
  private static final String[] USERS = {"alice", "bob", "carol", "dave", "erin", "frank"};
  private static final String[] AGENTS = {
      "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36",
      "curl/8.5.0", "grpc-java-netty/1.85.1", "okhttp/4.12.0"};

  private AccessLogEntries() {}

  /** The {@code i}th service's host, as {@code request.authority} (destination.service.host). */
  public static String host(int service) {
    return "svc-" + service + ".shop.svc.cluster.local";
  }

  /** One entry; {@code random} decides the mix. */
  public static HTTPAccessLogEntry entry(SplittableRandom random) {
    int svc = random.nextInt(SERVICES);
    boolean grpc = random.nextInt(5) == 0;
    int roll = random.nextInt(100);
    int code = roll < 97 ? CODES[random.nextInt(CODES.length)] : roll < 98 ? 429 : roll < 99 ? 500 : 503;
    String method = grpc ? "POST" : METHODS_HTTP[random.nextInt(METHODS_HTTP.length)];
    String host = host(svc);
    String path = grpc
        ? "/shop.v1.Service" + svc + "/Get" + (char) ('A' + random.nextInt(6))
        : "/api/v1/items/" + random.nextInt(100_000) + "?page=" + random.nextInt(20) + "&sort=price";
    // durations: mostly a few ms, a long tail
    long micros = 500 + (long) (Math.pow(random.nextDouble(), 4) * 2_000_000);
    long startSeconds = 1_764_000_000L + random.nextInt(3600);
    int startNanos = random.nextInt(1_000_000_000);
    String contentType = grpc ? "application/grpc" : random.nextBoolean() ? "application/json" : "text/html; charset=utf-8";
    String requestId = new UUID(random.nextLong(), random.nextLong()).toString();

    AccessLogCommon.Builder common = AccessLogCommon.newBuilder()
        .setSampleRate(1.0)
        .setDownstreamRemoteAddress(address("10.12." + random.nextInt(256) + "." + random.nextInt(256), 30000 + random.nextInt(30000)))
        .setDownstreamLocalAddress(address("10.8.0." + (10 + svc), 8443))
        .setUpstreamRemoteAddress(address("10.16." + svc + "." + (2 + random.nextInt(40)), 8080))
        .setUpstreamLocalAddress(address("10.8.0." + (10 + svc), 40000 + random.nextInt(20000)))
        .setUpstreamCluster("outbound|8080||" + host)
        .setRouteName("svc-" + svc + "-route")
        .setStartTime(Timestamp.newBuilder().setSeconds(startSeconds).setNanos(startNanos))
        .setTimeToLastRxByte(duration(micros / 20))
        .setTimeToFirstUpstreamTxByte(duration(micros / 10))
        .setTimeToLastUpstreamTxByte(duration(micros / 9))
        .setTimeToFirstUpstreamRxByte(duration(micros * 8 / 10))
        .setTimeToLastUpstreamRxByte(duration(micros * 9 / 10))
        .setTimeToFirstDownstreamTxByte(duration(micros * 85 / 100))
        .setTimeToLastDownstreamTxByte(duration(micros))
        .setTlsProperties(TLSProperties.newBuilder()
            .setTlsVersion(TLSProperties.TLSVersion.TLSv1_3)
            .setTlsSniHostname(host)
            .setPeerCertificateProperties(TLSProperties.CertificateProperties.newBuilder()
                .addSubjectAltName(TLSProperties.CertificateProperties.SubjectAltName.newBuilder()
                    .setUri("spiffe://cluster.local/ns/shop/sa/frontend-" + random.nextInt(4))))
            .setLocalCertificateProperties(TLSProperties.CertificateProperties.newBuilder()
                .addSubjectAltName(TLSProperties.CertificateProperties.SubjectAltName.newBuilder()
                    .setUri("spiffe://cluster.local/ns/shop/sa/svc-" + svc))))
        .setMetadata(Metadata.newBuilder().putFilterMetadata("envoy.filters.http.ext_authz",
            Struct.newBuilder()
                .putFields("decision_id", Value.newBuilder().setStringValue(Long.toHexString(random.nextLong())).build())
                .putFields("rule", Value.newBuilder().setStringValue("svc-" + svc + "-authz").build())
                .build()));
    if (code == 503 && !grpc) {
      common.setResponseFlags(ResponseFlags.newBuilder().setUpstreamConnectionFailure(true));
      common.setUpstreamTransportFailureReason("delayed connect error: 111");
    }
    HTTPRequestProperties.Builder request = HTTPRequestProperties.newBuilder()
        .setRequestMethod(RequestMethod.valueOf(method))
        .setScheme("https")
        .setAuthority(host)
        .setPath(path)
        .setUserAgent(AGENTS[grpc ? 2 : random.nextInt(AGENTS.length)])
        .setForwardedFor("203.0.113." + random.nextInt(256))
        .setRequestId(requestId)
        .setRequestHeadersBytes(300 + random.nextInt(400))
        .setRequestBodyBytes(method.equals("GET") ? 0 : 50 + random.nextInt(4000))
        .putRequestHeaders("content-type", contentType)
        .putRequestHeaders("x-user", USERS[random.nextInt(USERS.length)]);
    if (!grpc) {
      request.setReferer("https://shop.example.com/catalog/" + random.nextInt(50));
    }
    HTTPResponseProperties.Builder response = HTTPResponseProperties.newBuilder()
        .setResponseCode(UInt32Value.of(grpc ? 200 : code))
        .setResponseHeadersBytes(150 + random.nextInt(200))
        .setResponseBodyBytes(code == 204 || code == 304 ? 0 : 100 + random.nextInt(20_000))
        .setResponseCodeDetails(code == 503 && !grpc ? "upstream_reset_before_response_started{connection_failure}" : "via_upstream")
        .putResponseHeaders("content-type", contentType);
    if (grpc) {
      response.putResponseTrailers("grpc-status", code >= 500 ? "14" : code == 404 ? "5" : "0");
    }
    return HTTPAccessLogEntry.newBuilder()
        .setCommonProperties(common)
        .setProtocolVersion(grpc ? HTTPAccessLogEntry.HTTPVersion.HTTP2 : HTTPAccessLogEntry.HTTPVersion.HTTP11)
        .setRequest(request)
        .setResponse(response)
        .build();
  }

  private static Address address(String ip, int port) {
    return Address.newBuilder()
        .setSocketAddress(SocketAddress.newBuilder().setAddress(ip).setPortValue(port))
        .build();
  }

  private static Duration duration(long micros) {
    return Duration.newBuilder().setSeconds(micros / 1_000_000).setNanos((int) (micros % 1_000_000) * 1000).build();
  }

  /**
   * {@code messages} messages of entries batched as Envoy does: entries are added until their
   * serialized size reaches {@code batchBytes}. No identifier (see {@link #withIdentifier}).
   */
  public static List<StreamAccessLogsMessage> messages(long seed, int messages, int batchBytes) {
    SplittableRandom random = new SplittableRandom(seed);
    List<StreamAccessLogsMessage> out = new ArrayList<>(messages);
    for (int m = 0; m < messages; m++) {
      StreamAccessLogsMessage.HTTPAccessLogEntries.Builder logs =
          StreamAccessLogsMessage.HTTPAccessLogEntries.newBuilder();
      int bytes = 0;
      while (bytes < batchBytes) {
        HTTPAccessLogEntry e = entry(random);
        logs.addLogEntry(e);
        bytes += e.getSerializedSize();
      }
      out.add(StreamAccessLogsMessage.newBuilder().setHttpLogs(logs).build());
    }
    return out;
  }

  /** {@code message} with the stream's identifier, as Envoy sends the first message of a stream. */
  public static StreamAccessLogsMessage withIdentifier(
      StreamAccessLogsMessage message, String nodeId, String cluster, String logName) {
    return message.toBuilder()
        .setIdentifier(StreamAccessLogsMessage.Identifier.newBuilder()
            .setNode(Node.newBuilder().setId(nodeId).setCluster(cluster))
            .setLogName(logName))
        .build();
  }
}
