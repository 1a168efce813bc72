package io.arbiter.accesslog;

import io.arbiter.accesslog.internal.ResponseFlagsText;
import io.arbiter.engine.AttributeBag;
import io.arbiter.frontend.Structs;
import io.envoyproxy.envoy.config.core.v3.Address;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.envoyproxy.envoy.data.accesslog.v3.AccessLogCommon;
import io.envoyproxy.envoy.data.accesslog.v3.HTTPAccessLogEntry;
import io.envoyproxy.envoy.data.accesslog.v3.HTTPRequestProperties;
import io.envoyproxy.envoy.data.accesslog.v3.HTTPResponseProperties;
import io.envoyproxy.envoy.data.accesslog.v3.TCPAccessLogEntry;
import io.envoyproxy.envoy.data.accesslog.v3.TLSProperties;
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
 * <h2>Two readers, one mapping</h2>
 *
 * These methods read generated entries; {@link AccessLogWireDecoder}, what the gRPC sink uses,
 * reads HTTP entries off the wire without building them. Both fill {@link AccessLogEntryFields},
 * which alone turns fields into attributes, and they agree on every input ({@code
 * AccessLogWireDecoderTest}).
 *
 * <p>Thread-safe; never throws for any content of an entry.
 */
public final class AccessLogEntryMapper {
  final AttributeMapping customTags; // AccessLogWireDecoder maps custom tags with it too

  /** @param customTags how {@code custom_tags} map to attributes */
  public AccessLogEntryMapper(AttributeMapping customTags) {
    this.customTags = Objects.requireNonNull(customTags, "customTags");
  }

  public AttributeBag map(HTTPAccessLogEntry entry, Reporter reporter) {
    AccessLogEntryFields f = new AccessLogEntryFields();
    common(entry.getCommonProperties(), f);
    f.protocol = entry.getProtocolVersionValue();
    HTTPRequestProperties rq = entry.getRequest();
    f.method = rq.getRequestMethodValue();
    f.scheme = rq.getScheme();
    f.authority = rq.getAuthority();
    f.path = rq.getPath();
    f.userAgent = rq.getUserAgent();
    f.referer = rq.getReferer();
    f.forwardedFor = rq.getForwardedFor();
    f.requestId = rq.getRequestId();
    f.requestBytes = rq.getRequestBodyBytes();
    if (rq.getRequestHeadersCount() > 0) {
      f.requestHeaders = rq.getRequestHeadersMap();
    }
    HTTPResponseProperties rs = entry.getResponse();
    if (rs.hasResponseCode()) {
      f.hasCode = true;
      f.code = rs.getResponseCode().getValue();
    }
    f.responseBytes = rs.getResponseBodyBytes();
    if (rs.getResponseHeadersCount() > 0) {
      f.responseHeaders = rs.getResponseHeadersMap();
    }
    if (rs.getResponseTrailersCount() > 0) {
      f.responseTrailers = rs.getResponseTrailersMap();
    }
    return f.toBag(customTags, reporter);
  }

  public AttributeBag map(TCPAccessLogEntry entry, Reporter reporter) {
    AccessLogEntryFields f = new AccessLogEntryFields();
    f.tcp = true;
    common(entry.getCommonProperties(), f);
    if (entry.hasConnectionProperties()) {
      f.hasConnection = true;
      f.receivedBytes = entry.getConnectionProperties().getReceivedBytes();
      f.sentBytes = entry.getConnectionProperties().getSentBytes();
    }
    return f.toBag(customTags, reporter);
  }

  private static void common(AccessLogCommon c, AccessLogEntryFields f) {
    if (c.getCustomTagsCount() > 0) {
      f.tags = c.getCustomTagsMap();
    }
    f.source = address(c.getDownstreamRemoteAddress());
    f.local = address(c.getDownstreamLocalAddress());
    f.upstream = address(c.getUpstreamRemoteAddress());
    if (c.hasTlsProperties()) {
      TLSProperties tls = c.getTlsProperties();
      f.tls = new AccessLogEntryFields.Tls();
      f.tls.sni = tls.getTlsSniHostname();
      if (tls.hasPeerCertificateProperties()) {
        f.tls.peer = certificate(tls.getPeerCertificateProperties());
      }
      if (tls.hasLocalCertificateProperties()) {
        f.tls.local = certificate(tls.getLocalCertificateProperties());
      }
    }
    if (c.hasStartTime()) {
      f.start = new AccessLogEntryFields.Time(c.getStartTime().getSeconds(), c.getStartTime().getNanos());
    }
    if (c.hasTimeToLastDownstreamTxByte()) {
      com.google.protobuf.Duration d = c.getTimeToLastDownstreamTxByte();
      f.lastTx = new AccessLogEntryFields.Time(d.getSeconds(), d.getNanos());
    }
    if (c.hasDuration()) {
      f.duration = new AccessLogEntryFields.Time(c.getDuration().getSeconds(), c.getDuration().getNanos());
    }
    if (c.hasResponseFlags()) {
      f.hasFlags = true;
      f.flags = ResponseFlagsText.fields(c.getResponseFlags());
    }
    f.route = c.getRouteName();
    f.cluster = c.getUpstreamCluster();
    if (c.hasMetadata() && c.getMetadata().getFilterMetadataCount() > 0) {
      f.filters = Structs.filterMetadata(c.getMetadata());
    }
  }

  /** A socket address's fields; null for another kind of address (pipe, internal) or none. */
  private static AccessLogEntryFields.Addr address(Address a) {
    if (!a.hasSocketAddress()) {
      return null;
    }
    SocketAddress s = a.getSocketAddress();
    AccessLogEntryFields.Addr out = new AccessLogEntryFields.Addr();
    out.kase = 1;
    out.address = s.getAddress();
    out.portValue = s.getPortSpecifierCase() == SocketAddress.PortSpecifierCase.PORT_VALUE;
    out.port = s.getPortValue();
    return out;
  }

  private static AccessLogEntryFields.Cert certificate(TLSProperties.CertificateProperties c) {
    AccessLogEntryFields.Cert out = new AccessLogEntryFields.Cert();
    for (TLSProperties.CertificateProperties.SubjectAltName san : c.getSubjectAltNameList()) {
      out.add(san.getSanCase().getNumber(), san.hasUri() ? san.getUri() : san.getDns());
    }
    out.subject = c.getSubject();
    return out;
  }
}
