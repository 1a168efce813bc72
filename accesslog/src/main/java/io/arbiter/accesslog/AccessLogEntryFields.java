package io.arbiter.accesslog;

import static io.arbiter.engine.AttributeNames.CHECK_CACHE_HIT;
import static io.arbiter.engine.AttributeNames.CONNECTION_MTLS;
import static io.arbiter.engine.AttributeNames.CONNECTION_RECEIVED_BYTES;
import static io.arbiter.engine.AttributeNames.CONNECTION_REQUESTED_SERVER_NAME;
import static io.arbiter.engine.AttributeNames.CONNECTION_SENT_BYTES;
import static io.arbiter.engine.AttributeNames.CONTEXT_METADATA;
import static io.arbiter.engine.AttributeNames.CONTEXT_PROTOCOL;
import static io.arbiter.engine.AttributeNames.DESTINATION_IP;
import static io.arbiter.engine.AttributeNames.DESTINATION_PORT;
import static io.arbiter.engine.AttributeNames.DESTINATION_PRINCIPAL;
import static io.arbiter.engine.AttributeNames.DESTINATION_SERVICE_HOST;
import static io.arbiter.engine.AttributeNames.REQUEST_HEADERS;
import static io.arbiter.engine.AttributeNames.REQUEST_HOST;
import static io.arbiter.engine.AttributeNames.REQUEST_ID;
import static io.arbiter.engine.AttributeNames.REQUEST_METHOD;
import static io.arbiter.engine.AttributeNames.REQUEST_PATH;
import static io.arbiter.engine.AttributeNames.REQUEST_PROTOCOL;
import static io.arbiter.engine.AttributeNames.REQUEST_QUERY_PARAMS;
import static io.arbiter.engine.AttributeNames.REQUEST_SCHEME;
import static io.arbiter.engine.AttributeNames.REQUEST_SIZE;
import static io.arbiter.engine.AttributeNames.REQUEST_TIME;
import static io.arbiter.engine.AttributeNames.REQUEST_USERAGENT;
import static io.arbiter.engine.AttributeNames.RESPONSE_CODE;
import static io.arbiter.engine.AttributeNames.RESPONSE_DURATION;
import static io.arbiter.engine.AttributeNames.RESPONSE_FLAGS;
import static io.arbiter.engine.AttributeNames.RESPONSE_GRPC_STATUS;
import static io.arbiter.engine.AttributeNames.RESPONSE_HEADERS;
import static io.arbiter.engine.AttributeNames.RESPONSE_SIZE;
import static io.arbiter.engine.AttributeNames.ROUTE_NAME;
import static io.arbiter.engine.AttributeNames.SOURCE_IP;
import static io.arbiter.engine.AttributeNames.SOURCE_PORT;
import static io.arbiter.engine.AttributeNames.SOURCE_PRINCIPAL;
import static io.arbiter.engine.AttributeNames.UPSTREAM_ADDRESS;
import static io.arbiter.engine.AttributeNames.UPSTREAM_CLUSTER;

import io.arbiter.accesslog.internal.ResponseFlagsText;
import io.arbiter.engine.AttributeBag;
import io.arbiter.frontend.QueryStrings;
import io.arbiter.frontend.Texts;
import io.envoyproxy.envoy.config.core.v3.RequestMethod;
import io.envoyproxy.envoy.data.accesslog.v3.HTTPAccessLogEntry;
import java.time.Duration;
import java.time.Instant;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What mapping reads from one access-log entry, however it was read: an {@code HTTPAccessLogEntry}
 * or {@code TCPAccessLogEntry} from the generated message ({@link AccessLogEntryMapper#map}), or an
 * HTTP entry straight off the wire ({@link AccessLogWireDecoder}). Turning these fields into
 * attributes happens once, in {@link #toBag}, so both readers give the same bag by construction;
 * what each reader must get right is only the fields. The common properties are shared by both
 * kinds of entry; the request and response parts are read for HTTP entries, the connection part
 * for TCP entries. Absent sub-messages are null. Mutable, one per entry.
 */
final class AccessLogEntryFields {
  private static final String GRPC_CONTENT_TYPE = "application/grpc";

  // Resolved once: every entry sets most of them.

  /** The filter name Envoy's ext_authz filter emits its dynamic metadata under. */
  static final String EXT_AUTHZ = "envoy.filters.http.ext_authz";

  /** An {@code Address}: which member of its oneof it holds, and the socket address's fields. */
  static final class Addr {
    int kase; // 1 socket_address, 2 pipe, 3 envoy_internal_address
    boolean socketSeen; // the wire reader's: socket_address was held once
    String address = "";
    boolean portValue; // port_specifier is port_value (not named_port, not unset)
    int port; // a uint32 as protobuf's Java API reads it
  }

  /** {@code tls_properties}: the SNI and the two certificates. */
  static final class Tls {
    String sni = "";
    Cert local;
    Cert peer;
  }

  /** A certificate's SAN count, first non-empty URI and DNS SANs, subject. */
  static final class Cert {
    int sans;
    String uri;
    String dns;
    String subject = "";

    /** One {@code SubjectAltName}: {@code kase} its oneof's member (1 uri, 2 dns, 0 none). */
    void add(int kase, String value) {
      sans++;
      if (value.isEmpty()) {
        return;
      }
      if (kase == 1 && uri == null) {
        uri = value;
      } else if (kase == 2 && dns == null) {
        dns = value;
      }
    }

    /** The first URI SAN, else the first DNS SAN, else "". */
    String san() {
      return uri != null ? uri : dns != null ? dns : "";
    }
  }

  /** A {@code Timestamp} or a {@code Duration}. */
  static final class Time {
    long seconds;
    int nanos;

    Time() {}

    Time(long seconds, int nanos) {
      this.seconds = seconds;
      this.nanos = nanos;
    }
  }

  /** A TCP entry (common properties and connection), not an HTTP one. */
  boolean tcp;

  // common_properties
  Map<String, String> tags; // custom_tags; null or non-empty
  Addr source; // downstream_remote_address
  Addr local; // downstream_local_address
  Addr upstream; // upstream_remote_address
  Tls tls;
  Time start;
  Time lastTx; // time_to_last_downstream_tx_byte
  Time duration;
  boolean hasFlags;
  int flags; // ResponseFlagsText's: bit n for field n of ResponseFlags
  String route = "";
  String cluster = "";
  Map<String, Object> filters; // metadata.filter_metadata as Structs.filterMetadata converts it; null or non-empty

  // HTTPAccessLogEntry
  int protocol; // protocol_version, the enum's number
  int method; // request_method, the enum's number
  String scheme = "";
  String authority = "";
  String path = "";
  String userAgent = "";
  String referer = "";
  String forwardedFor = "";
  String requestId = "";
  long requestBytes;
  Map<String, String> requestHeaders; // null or non-empty

  boolean hasCode;
  int code;
  long responseBytes;
  Map<String, String> responseHeaders; // null or non-empty
  Map<String, String> responseTrailers; // null or non-empty

  // TCPAccessLogEntry
  boolean hasConnection;
  long receivedBytes;
  long sentBytes;

  /**
   * The attributes, stamped with {@code reporter}; see {@link AccessLogEntryMapper} for the
   * vocabulary. Throws where the generated mapping always threw (a time out of {@link Instant}'s
   * range, …).
   */
  AttributeBag toBag(AttributeMapping customTags, Reporter reporter) {
    AttributeBag.Builder bag = AttributeBag.builder();
    common(customTags, reporter, bag);
    if (tcp) {
      if (hasConnection) {
        bag.put(CONNECTION_RECEIVED_BYTES, receivedBytes);
        bag.put(CONNECTION_SENT_BYTES, sentBytes);
      }
      bag.put(CONTEXT_PROTOCOL, "tcp");
    } else {
      http(bag);
    }
    return bag.build();
  }

  private void common(AttributeMapping customTags, Reporter reporter, AttributeBag.Builder bag) {
    if (tags != null) {
      AttributeMapping.Collector collector = customTags.collector();
      tags.forEach(collector::add);
      collector.into(bag);
    }
    reporter.putInto(bag);
    Addr src = socket(source);
    if (src != null) {
      bag.putNonEmpty(SOURCE_IP, src.address);
      putPort(bag, SOURCE_PORT, src);
    }
    Addr up = socket(upstream);
    Addr destination = up != null ? up : socket(local);
    if (destination != null) {
      bag.putNonEmpty(DESTINATION_IP, destination.address);
      putPort(bag, DESTINATION_PORT, destination);
    }
    if (up != null && !up.address.isEmpty()) {
      long port = up.portValue ? up.port : -1;
      bag.put(UPSTREAM_ADDRESS, Texts.hostPort(up.address, port));
    }
    boolean mtls = false;
    if (tls != null) {
      if (tls.peer != null) {
        mtls = tls.peer.sans > 0 || !tls.peer.subject.isEmpty();
        bag.putNonEmpty(SOURCE_PRINCIPAL, tls.peer.san());
      }
      if (tls.local != null) {
        bag.putNonEmpty(DESTINATION_PRINCIPAL, tls.local.san());
      }
      bag.putNonEmpty(CONNECTION_REQUESTED_SERVER_NAME, tls.sni);
    }
    bag.put(CONNECTION_MTLS, mtls);
    if (start != null) {
      bag.put(REQUEST_TIME, Instant.ofEpochSecond(start.seconds, start.nanos));
    }
    Time d = lastTx != null ? lastTx : duration;
    if (d != null) {
      bag.put(RESPONSE_DURATION, Duration.ofSeconds(d.seconds, d.nanos));
    }
    if (hasFlags) {
      bag.putNonEmpty(RESPONSE_FLAGS, ResponseFlagsText.format(flags));
    }
    bag.putNonEmpty(ROUTE_NAME, route);
    bag.putNonEmpty(UPSTREAM_CLUSTER, cluster);
    if (filters != null) {
      Map<String, Object> metadata = Collections.unmodifiableMap(filters);
      bag.put(CONTEXT_METADATA, metadata);
      if (metadata.get(EXT_AUTHZ) instanceof Map<?, ?> authz
          && authz.get("cache_hit") instanceof Boolean hit) {
        bag.put(CHECK_CACHE_HIT, hit);
      }
    }
  }

  private void http(AttributeBag.Builder bag) {
    RequestMethod m = RequestMethod.forNumber(method);
    if (m != null && m != RequestMethod.METHOD_UNSPECIFIED) {
      bag.put(REQUEST_METHOD, m.name());
    }
    bag.putNonEmpty(REQUEST_SCHEME, scheme);
    bag.putNonEmpty(REQUEST_HOST, authority);
    bag.putNonEmpty(DESTINATION_SERVICE_HOST, authority);
    if (!path.isEmpty()) {
      int end = QueryStrings.pathEnd(path);
      bag.put(REQUEST_PATH, end == path.length() ? path : path.substring(0, end));
      Map<String, String> query = QueryStrings.parameters(path);
      if (!query.isEmpty()) {
        bag.put(REQUEST_QUERY_PARAMS, query);
      }
    }
    bag.putNonEmpty(REQUEST_USERAGENT, userAgent);
    bag.putNonEmpty(REQUEST_ID, requestId);
    bag.put(REQUEST_SIZE, requestBytes);
    Map<String, String> requestHeaders = requestHeaders();
    if (!requestHeaders.isEmpty()) {
      bag.put(REQUEST_HEADERS, requestHeaders);
    }
    bag.putNonEmpty(REQUEST_PROTOCOL, protocol(protocol));

    if (hasCode) {
      bag.put(RESPONSE_CODE, (long) code);
    }
    bag.put(RESPONSE_SIZE, responseBytes);
    Map<String, String> headers = Map.of();
    if (responseHeaders != null) {
      headers = Texts.lowerNames(responseHeaders);
      bag.put(RESPONSE_HEADERS, headers);
    }
    String grpcStatus = header(responseTrailers, "grpc-status");
    if (grpcStatus == null) {
      grpcStatus = headers.get("grpc-status");
    }
    Long status = grpcStatus == null ? null : parseCode(grpcStatus);
    if (status != null) {
      bag.put(RESPONSE_GRPC_STATUS, status);
    }
    boolean grpc = grpcStatus != null
        || isGrpc(requestHeaders.get("content-type"))
        || isGrpc(headers.get("content-type"));
    bag.put(CONTEXT_PROTOCOL, grpc ? "grpc" : "http");
  }

  /** {@code request.headers}: the logged headers, names lowercased, and the four own fields. */
  private Map<String, String> requestHeaders() {
    Map<String, String> logged = requestHeaders == null || requestHeaders.isEmpty()
        ? Map.of() : Texts.lowerNames(requestHeaders);
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

  private static Addr socket(Addr a) {
    return a != null && a.kase == 1 ? a : null;
  }

  private static void putPort(AttributeBag.Builder bag, AttributeBag.Name name, Addr a) {
    if (a.portValue) {
      bag.put(name, (long) a.port);
    }
  }

  /** The value of a header whose name equals {@code lowercaseName} ignoring case, or null. */
  private static String header(Map<String, String> headers, String lowercaseName) {
    if (headers == null || headers.isEmpty()) {
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

  private static Long parseCode(String s) {
    try {
      return Long.parseLong(s.strip());
    } catch (NumberFormatException e) {
      return null;
    }
  }

  private static boolean isGrpc(String contentType) {
    return contentType != null
        && contentType.regionMatches(true, 0, GRPC_CONTENT_TYPE, 0, GRPC_CONTENT_TYPE.length());
  }

  /** {@code protocol_version} as {@code request.protocol}; "" when unset or unknown. */
  private static String protocol(int number) {
    HTTPAccessLogEntry.HTTPVersion v = HTTPAccessLogEntry.HTTPVersion.forNumber(number);
    if (v == null) {
      return "";
    }
    return switch (v) {
      case HTTP10 -> "HTTP/1.0";
      case HTTP11 -> "HTTP/1.1";
      case HTTP2 -> "HTTP/2";
      case HTTP3 -> "HTTP/3";
      default -> "";
    };
  }
}
