package io.arbiter.accesslog;

import com.google.protobuf.Timestamp;
import io.arbiter.frontend.QueryStrings;
import io.arbiter.accesslog.internal.ResponseFlagsText;
import io.arbiter.frontend.Structs;
import io.arbiter.frontend.Texts;
import io.arbiter.engine.AttributeBag;
import io.envoyproxy.envoy.config.core.v3.Address;
import io.envoyproxy.envoy.config.core.v3.RequestMethod;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.envoyproxy.envoy.data.accesslog.v3.AccessLogCommon;
import io.envoyproxy.envoy.data.accesslog.v3.HTTPAccessLogEntry;
import io.envoyproxy.envoy.data.accesslog.v3.HTTPRequestProperties;
import io.envoyproxy.envoy.data.accesslog.v3.HTTPResponseProperties;
import io.envoyproxy.envoy.data.accesslog.v3.TCPAccessLogEntry;
import io.envoyproxy.envoy.data.accesslog.v3.TLSProperties;
import java.time.Duration;
import java.time.Instant;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * Turns the entries of Envoy's gRPC access loggers ({@code envoy.access_loggers.http_grpc} and
 * {@code tcp_grpc}) into the attribute vocabulary.
 *
 * <h2>Every entry ({@code common_properties})</h2>
 *
 * <ul>
 *   <li>{@code source.ip}/{@code .port}: {@code downstream_remote_address}. {@code
 *       destination.ip}/{@code .port}: {@code upstream_remote_address}, or {@code
 *       downstream_local_address} when there is no upstream (a local reply). {@code
 *       upstream.address}: {@code upstream_remote_address} as {@code ip:port} ({@code [v6]:port}).
 *       Pipe and internal addresses are ignored.
 *   <li>From {@code tls_properties}: {@code source.principal} the peer certificate's first URI SAN
 *       (else its first DNS SAN), {@code destination.principal} the local certificate's, {@code
 *       connection.requested_server_name} the SNI. {@code connection.mtls} is true when a peer
 *       certificate was presented, false otherwise (also without TLS).
 *   <li>{@code request.time}: {@code start_time}. {@code response.duration}: {@code
 *       time_to_last_downstream_tx_byte}, else {@code duration}.
 *   <li>{@code response.flags}: the {@code response_flags} set, as Envoy prints them ({@code
 *       UF,URX}); absent when none is set. {@code route.name}, {@code upstream.cluster}: {@code
 *       route_name}, {@code upstream_cluster}.
 *   <li>{@code context.metadata}: {@code metadata.filter_metadata} by filter name, JSON-like (the
 *       ext_authz filter's entry holds what Arbiter's own Check put in its dynamic metadata:
 *       {@code decision_id}, {@code matched_rules}, …). {@code check.cache_hit}: that entry's
 *       {@code cache_hit}, when Arbiter's Check decided the request.
 *   <li>{@code context.reporter.node}/{@code .cluster}/{@code .name}: from the stream's {@link
 *       Reporter}. {@code context.reporter.kind} and anything else: from {@code custom_tags},
 *       through the {@link AttributeMapping} (Envoy's entries do not say whether the listener was
 *       inbound or outbound; a literal custom tag {@code context.reporter.kind: inbound} does).
 *       A value a field sets wins over a custom tag's.
 * </ul>
 *
 * <h2>HTTP entries</h2>
 *
 * {@code request.method}, {@code request.scheme}; {@code request.host} and {@code
 * destination.service.host} from {@code authority}; {@code request.path} ({@code path} before
 * {@code ?}) and {@code request.query_params}; {@code request.useragent}, {@code request.id},
 * {@code request.size} ({@code request_body_bytes}); {@code request.headers}: {@code
 * request_headers} (the headers the logger was told to log), names lowercased, plus {@code
 * user-agent}, {@code referer}, {@code x-forwarded-for} and {@code x-request-id} from their own
 * fields; {@code request.protocol} from {@code protocol_version} ({@code HTTP/1.0}, {@code
 * HTTP/1.1}, {@code HTTP/2}, {@code HTTP/3}). {@code response.code}, {@code response.size} ({@code
 * response_body_bytes}), {@code response.headers}; {@code response.grpc_status} from the {@code
 * grpc-status} trailer (or header, for a trailers-only reply). {@code context.protocol}: {@code
 * grpc} when the request's {@code content-type} starts with {@code application/grpc} or the
 * response carries {@code grpc-status}, else {@code http}; log {@code content-type} and the
 * {@code grpc-status} trailer for this to work.
 *
 * <h2>TCP entries</h2>
 *
 * The common properties, {@code connection.received_bytes}/{@code .sent_bytes} from {@code
 * connection_properties}, and {@code context.protocol} {@code tcp}.
 *
 * <p>Thread-safe; never throws for any content of an entry.
 */
public final class AccessLogEntryMapper {
  private static final String GRPC_CONTENT_TYPE = "application/grpc";

  final AttributeMapping customTags; // AccessLogWireDecoder maps custom tags with it too

  /** @param customTags how {@code custom_tags} map to attributes */
  public AccessLogEntryMapper(AttributeMapping customTags) {
    this.customTags = Objects.requireNonNull(customTags, "customTags");
  }

  public AttributeBag map(HTTPAccessLogEntry entry, Reporter reporter) {
    AttributeBag.Builder bag = AttributeBag.builder();
    common(entry.getCommonProperties(), reporter, bag);
    HTTPRequestProperties rq = entry.getRequest();
    RequestMethod method = rq.getRequestMethod();
    if (method != RequestMethod.METHOD_UNSPECIFIED && method != RequestMethod.UNRECOGNIZED) {
      bag.put("request.method", method.name());
    }
    bag.putNonEmpty("request.scheme", rq.getScheme());
    bag.putNonEmpty("request.host", rq.getAuthority());
    bag.putNonEmpty("destination.service.host", rq.getAuthority());
    String target = rq.getPath();
    if (!target.isEmpty()) {
      int end = QueryStrings.pathEnd(target);
      bag.put("request.path", end == target.length() ? target : target.substring(0, end));
      Map<String, String> query = QueryStrings.parameters(target);
      if (!query.isEmpty()) {
        bag.put("request.query_params", query);
      }
    }
    bag.putNonEmpty("request.useragent", rq.getUserAgent());
    bag.putNonEmpty("request.id", rq.getRequestId());
    bag.put("request.size", rq.getRequestBodyBytes());
    Map<String, String> requestHeaders = requestHeaders(rq);
    if (!requestHeaders.isEmpty()) {
      bag.put("request.headers", requestHeaders);
    }
    bag.putNonEmpty("request.protocol", protocol(entry.getProtocolVersion()));

    HTTPResponseProperties rs = entry.getResponse();
    if (rs.hasResponseCode()) {
      bag.put("response.code", (long) rs.getResponseCode().getValue());
    }
    bag.put("response.size", rs.getResponseBodyBytes());
    Map<String, String> responseHeaders = Map.of();
    if (rs.getResponseHeadersCount() > 0) {
      responseHeaders = Texts.lowerNames(rs.getResponseHeadersMap());
      bag.put("response.headers", responseHeaders);
    }
    String grpcStatus = header(rs.getResponseTrailersMap(), "grpc-status");
    if (grpcStatus == null) {
      grpcStatus = responseHeaders.get("grpc-status");
    }
    Long code = grpcStatus == null ? null : parseCode(grpcStatus);
    if (code != null) {
      bag.put("response.grpc_status", code);
    }
    boolean grpc = grpcStatus != null
        || isGrpc(requestHeaders.get("content-type"))
        || isGrpc(responseHeaders.get("content-type"));
    bag.put("context.protocol", grpc ? "grpc" : "http");
    return bag.build();
  }

  public AttributeBag map(TCPAccessLogEntry entry, Reporter reporter) {
    AttributeBag.Builder bag = AttributeBag.builder();
    common(entry.getCommonProperties(), reporter, bag);
    if (entry.hasConnectionProperties()) {
      bag.put("connection.received_bytes", entry.getConnectionProperties().getReceivedBytes());
      bag.put("connection.sent_bytes", entry.getConnectionProperties().getSentBytes());
    }
    bag.put("context.protocol", "tcp");
    return bag.build();
  }

  private void common(AccessLogCommon c, Reporter reporter, AttributeBag.Builder bag) {
    if (c.getCustomTagsCount() > 0) {
      AttributeMapping.Collector tags = customTags.collector();
      c.getCustomTagsMap().forEach(tags::add);
      tags.into(bag);
    }
    reporter.putInto(bag);
    SocketAddress source = socket(c.getDownstreamRemoteAddress());
    if (source != null) {
      bag.putNonEmpty("source.ip", source.getAddress());
      putPort(bag, "source.port", source);
    }
    SocketAddress upstream = socket(c.getUpstreamRemoteAddress());
    SocketAddress destination = upstream != null ? upstream : socket(c.getDownstreamLocalAddress());
    if (destination != null) {
      bag.putNonEmpty("destination.ip", destination.getAddress());
      putPort(bag, "destination.port", destination);
    }
    if (upstream != null && !upstream.getAddress().isEmpty()) {
      long port = upstream.getPortSpecifierCase() == SocketAddress.PortSpecifierCase.PORT_VALUE
          ? upstream.getPortValue() : -1;
      bag.put("upstream.address", Texts.hostPort(upstream.getAddress(), port));
    }
    boolean mtls = false;
    if (c.hasTlsProperties()) {
      TLSProperties tls = c.getTlsProperties();
      if (tls.hasPeerCertificateProperties()) {
        TLSProperties.CertificateProperties peer = tls.getPeerCertificateProperties();
        mtls = peer.getSubjectAltNameCount() > 0 || !peer.getSubject().isEmpty();
        bag.putNonEmpty("source.principal", san(peer));
      }
      if (tls.hasLocalCertificateProperties()) {
        bag.putNonEmpty("destination.principal", san(tls.getLocalCertificateProperties()));
      }
      bag.putNonEmpty("connection.requested_server_name", tls.getTlsSniHostname());
    }
    bag.put("connection.mtls", mtls);
    if (c.hasStartTime()) {
      Timestamp t = c.getStartTime();
      bag.put("request.time", Instant.ofEpochSecond(t.getSeconds(), t.getNanos()));
    }
    com.google.protobuf.Duration d = c.hasTimeToLastDownstreamTxByte()
        ? c.getTimeToLastDownstreamTxByte() : c.hasDuration() ? c.getDuration() : null;
    if (d != null) {
      bag.put("response.duration", Duration.ofSeconds(d.getSeconds(), d.getNanos()));
    }
    if (c.hasResponseFlags()) {
      bag.putNonEmpty("response.flags", ResponseFlagsText.format(c.getResponseFlags()));
    }
    bag.putNonEmpty("route.name", c.getRouteName());
    bag.putNonEmpty("upstream.cluster", c.getUpstreamCluster());
    if (c.hasMetadata() && c.getMetadata().getFilterMetadataCount() > 0) {
      Map<String, Object> metadata = Structs.filterMetadata(c.getMetadata());
      bag.put("context.metadata", metadata);
      if (metadata.get(EXT_AUTHZ) instanceof Map<?, ?> authz
          && authz.get("cache_hit") instanceof Boolean hit) {
        bag.put("check.cache_hit", hit);
      }
    }
  }

  /** The filter name Envoy's ext_authz filter emits its dynamic metadata under. */
  static final String EXT_AUTHZ = "envoy.filters.http.ext_authz";

  private static SocketAddress socket(Address a) {
    return a.hasSocketAddress() ? a.getSocketAddress() : null;
  }

  private static void putPort(AttributeBag.Builder bag, String name, SocketAddress s) {
    if (s.getPortSpecifierCase() == SocketAddress.PortSpecifierCase.PORT_VALUE) {
      bag.put(name, (long) s.getPortValue());
    }
  }

  /** The first URI SAN, else the first DNS SAN, else "". */
  private static String san(TLSProperties.CertificateProperties cert) {
    String dns = "";
    for (TLSProperties.CertificateProperties.SubjectAltName san : cert.getSubjectAltNameList()) {
      if (san.hasUri() && !san.getUri().isEmpty()) {
        return san.getUri();
      }
      if (dns.isEmpty() && san.hasDns()) {
        dns = san.getDns();
      }
    }
    return dns;
  }

  private static Map<String, String> requestHeaders(HTTPRequestProperties rq) {
    return requestHeaders(
        rq.getRequestHeadersCount() == 0 ? Map.of() : rq.getRequestHeadersMap(),
        rq.getUserAgent(), rq.getReferer(), rq.getForwardedFor(), rq.getRequestId());
  }

  /** {@code request.headers}: the logged headers, names lowercased, and the four own fields. */
  static Map<String, String> requestHeaders(Map<String, String> headers, String userAgent,
      String referer, String forwardedFor, String requestId) {
    Map<String, String> logged = headers.isEmpty() ? Map.of() : Texts.lowerNames(headers);
    boolean extra = !userAgent.isEmpty() || !referer.isEmpty()
        || !forwardedFor.isEmpty() || !requestId.isEmpty();
    if (!extra) {
      return logged;
    }
    Map<String, String> out = new LinkedHashMap<>(logged);
    putIfAbsentNonEmpty(out, "user-agent", userAgent);
    putIfAbsentNonEmpty(out, "referer", referer);
    putIfAbsentNonEmpty(out, "x-forwarded-for", forwardedFor);
    putIfAbsentNonEmpty(out, "x-request-id", requestId);
    return Collections.unmodifiableMap(out);
  }

  private static void putIfAbsentNonEmpty(Map<String, String> m, String k, String v) {
    if (!v.isEmpty()) {
      m.putIfAbsent(k, v);
    }
  }

  static String header(Map<String, String> headers, String lowercaseName) {
    if (headers.isEmpty()) {
      return null;
    }
    String v = headers.get(lowercaseName);
    if (v != null) {
      return v;
    }
    for (Map.Entry<String, String> e : headers.entrySet()) {
      if (e.getKey().equalsIgnoreCase(lowercaseName)) {
        return e.getValue();
      }
    }
    return null;
  }

  static Long parseCode(String s) {
    try {
      return Long.parseLong(s.strip());
    } catch (NumberFormatException e) {
      return null;
    }
  }

  static boolean isGrpc(String contentType) {
    return contentType != null
        && contentType.regionMatches(true, 0, GRPC_CONTENT_TYPE, 0, GRPC_CONTENT_TYPE.length());
  }

  static String protocol(HTTPAccessLogEntry.HTTPVersion v) {
    return switch (v) {
      case HTTP10 -> "HTTP/1.0";
      case HTTP11 -> "HTTP/1.1";
      case HTTP2 -> "HTTP/2";
      case HTTP3 -> "HTTP/3";
      default -> "";
    };
  }
}
