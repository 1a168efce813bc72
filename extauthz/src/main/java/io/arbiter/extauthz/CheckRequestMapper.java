package io.arbiter.extauthz;

import com.codahale.metrics.Counter;
import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Timestamp;
import io.arbiter.engine.AttributeBag;
import io.arbiter.engine.config.Settings;
import io.arbiter.engine.metrics.Metrics;
import io.arbiter.engine.spi.CheckResult;
import io.arbiter.engine.spi.Code;
import io.arbiter.frontend.Structs;
import io.arbiter.frontend.Texts;
import io.envoyproxy.envoy.config.core.v3.Address;
import io.envoyproxy.envoy.config.core.v3.HeaderValue;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.envoyproxy.envoy.service.auth.v3.AttributeContext;
import io.envoyproxy.envoy.service.auth.v3.CheckRequest;
import java.time.Duration;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Turns an Envoy {@code CheckRequest} into the attribute vocabulary, or rejects it when it carries
 * more than the serving config's limits allow.
 *
 * <h2>Attributes</h2>
 *
 * <ul>
 *   <li>{@code source.ip}/{@code .port}, {@code destination.ip}/{@code .port}: the peers' {@code
 *       socket_address} ({@code address}, {@code port_value}); pipe and internal addresses and named
 *       ports are ignored. {@code source.principal}, {@code destination.principal}, {@code
 *       source.labels} and {@code destination.labels} from the peers.
 *   <li>{@code connection.mtls}: true when the source has a principal or a certificate. {@code
 *       connection.peer_certificate}: {@code source.certificate} as Envoy sends it (URL-encoded
 *       PEM). {@code connection.requested_server_name}: {@code tls_session.sni}, or for the network
 *       filter (no HTTP request) {@code destination.service}, where Envoy puts the SNI.
 *   <li>{@code request.time} from {@code request.time}.
 *   <li>From {@code request.http}: {@code request.method}, {@code request.scheme}, {@code
 *       request.protocol}; {@code request.host} and {@code destination.service.host} (both the
 *       {@code host} field verbatim); {@code request.path} is {@code path} up to the first {@code ?}
 *       or {@code #}, still percent-encoded; {@code request.query_params} the decoded query
 *       parameters (%XX and + decoded), the first value winning for a repeated key; {@code
 *       request.size} when {@code size >= 0} (Envoy sends -1 for unknown); {@code request.body}
 *       from {@code raw_body} (UTF-8, malformed bytes replaced by U+FFFD) or {@code body}.
 *   <li>{@code request.headers}: the union of the {@code headers} map and the {@code header_map}
 *       list (which Envoy sends instead with {@code encode_raw_headers}, as grpc-java's client
 *       does), names lowercased. A {@code header_map} entry's value is its {@code raw_value} decoded
 *       as UTF-8 with replacement, else its {@code value}. Repeated names are joined with {@code ","}
 *       (no space), in order, exactly as Envoy joins them in the {@code headers} map. Pseudo-headers
 *       ({@code :path}, {@code :authority}, …) stay in the map as Envoy sends them. {@code
 *       request.id} is the {@code x-request-id} header (not {@code http.id}, Envoy's stream
 *       number), {@code request.useragent} the {@code user-agent} header.
 *   <li>{@code context.protocol}: {@code tcp} without an HTTP request (the network filter), {@code
 *       grpc} when {@code content-type} starts with {@code application/grpc}, else {@code http}.
 *       {@code context.reporter.kind}: {@code inbound}. {@code context.extensions}: {@code
 *       context_extensions}. {@code context.metadata}/{@code context.route_metadata}: the {@code
 *       filter_metadata} of {@code metadata_context}/{@code route_metadata_context}, by filter name,
 *       as JSON-like values (maps, lists, strings, doubles, booleans; JSON nulls dropped).
 * </ul>
 *
 * <h2>Limits</h2>
 *
 * Before anything is evaluated, a request is rejected when it carries more than {@link
 * Settings#maxHeaders} header entries (map entries plus list entries, before joining), more than
 * {@link Settings#maxHeaderBytes} UTF-8 bytes of header names and values, or more than {@link
 * Settings#maxBodyBytes} body bytes. A rejection denies with {@code INVALID_ARGUMENT}; its HTTP
 * status is {@link Settings#overLimitHttpStatus} (431 by default), except that a body over its limit
 * gets 413 while that setting is left at 431, which names headers. Each rejection is counted in
 * {@code arbiter_check_rejected_total{reason}}, with reason {@code too_many_headers}, {@code
 * headers_too_large} or {@code body_too_large}.
 *
 * <h2>Two readers, one mapping</h2>
 *
 * {@link #map(CheckRequest, Settings)} reads a parsed request; {@link #map(byte[], Settings)}, what
 * the gRPC server calls, reads the serialized one with {@link CheckWireDecoder}, building no
 * generated message. Both fill {@link CheckFields}, which alone turns fields into attributes, and
 * they agree on every input ({@code CheckWireDecoderTest}).
 *
 * <p>Thread-safe; one instance serves every call.
 */
public final class CheckRequestMapper {
  /** Reasons a request is rejected before evaluation, as the metric labels them. */
  public static final String TOO_MANY_HEADERS = "too_many_headers";

  public static final String HEADERS_TOO_LARGE = "headers_too_large";
  public static final String BODY_TOO_LARGE = "body_too_large";

  private final Counter tooManyHeaders;
  private final Counter headersTooLarge;
  private final Counter bodyTooLarge;
  private final Counter wireFallbacks;

  /** Registers the rejection counters in {@code metrics} (the engine's: {@code services().metrics()}). */
  public CheckRequestMapper(Metrics metrics) {
    Objects.requireNonNull(metrics, "metrics");
    String name = "arbiter_check_rejected_total";
    String help = "Checks rejected before evaluation for exceeding a request limit, by reason.";
    tooManyHeaders = metrics.counter(name, help, "reason", TOO_MANY_HEADERS);
    headersTooLarge = metrics.counter(name, help, "reason", HEADERS_TOO_LARGE);
    bodyTooLarge = metrics.counter(name, help, "reason", BODY_TOO_LARGE);
    wireFallbacks = metrics.counter("arbiter_extauthz_generated_parses_total",
        "Serialized CheckRequests read by the generated parser because their encoding is one the"
            + " wire reader leaves to it (repeated message fields, groups, header names equal but"
            + " for case); Envoy's requests never are.");
  }

  /**
   * The result of mapping: either the attributes to evaluate, or the rejection to send instead.
   * Exactly one of the two is non-null.
   */
  public record Mapping(AttributeBag attributes, Rejection rejection) {
    public Mapping {
      if ((attributes == null) == (rejection == null)) {
        throw new IllegalArgumentException("exactly one of attributes and rejection must be set");
      }
    }

    public boolean rejected() {
      return rejection != null;
    }
  }

  /**
   * Why a request was not evaluated.
   *
   * @param reason {@link #TOO_MANY_HEADERS}, {@link #HEADERS_TOO_LARGE} or {@link #BODY_TOO_LARGE}
   * @param message what was over which limit, for the client and the log
   * @param httpStatus the status of the denial
   */
  public record Rejection(String reason, String message, int httpStatus) {
    /**
     * The denial to send: {@code INVALID_ARGUMENT} with the message as body, never cached
     * (zero validity), since it says nothing about policy.
     */
    public CheckResult toResult() {
      return CheckResult.deny(Code.INVALID_ARGUMENT, message, httpStatus)
          .withBody(message + "\n")
          .withValidity(Duration.ZERO, 0);
    }
  }

  /**
   * Maps {@code request} under {@code limits} (the serving snapshot's settings, or {@link
   * Settings#DEFAULT}). Never throws for any content of the request.
   */
  public Mapping map(CheckRequest request, Settings limits) {
    AttributeContext attrs = request.getAttributes();
    AttributeContext.HttpRequest http =
        attrs.getRequest().hasHttp() ? attrs.getRequest().getHttp() : null;
    CheckFields f = new CheckFields();
    if (http != null) {
      int bodyBytes = http.getRawBody().isEmpty() ? http.getBodyBytes().size() : http.getRawBody().size();
      Rejection r = checkCounts(http.getHeadersCount() + http.getHeaderMap().getHeadersCount(), bodyBytes, limits);
      if (r != null) {
        return new Mapping(null, r);
      }
      f.headers = headers(http, limits.maxHeaderBytes());
      if (f.headers == null) {
        return headersTooLarge(limits);
      }
      f.http = true;
      f.method = http.getMethod();
      f.path = http.getPath();
      f.host = http.getHost();
      f.scheme = http.getScheme();
      f.protocol = http.getProtocol();
      f.size = http.getSize();
      f.body = http.getBody();
      f.rawBody = http.getRawBody();
    }
    peer(attrs.getSource(), f.source);
    peer(attrs.getDestination(), f.destination);
    f.sni = attrs.hasTlsSession() ? attrs.getTlsSession().getSni() : "";
    if (attrs.getRequest().hasTime()) {
      Timestamp t = attrs.getRequest().getTime();
      f.hasTime = true;
      f.timeSeconds = t.getSeconds();
      f.timeNanos = t.getNanos();
    }
    f.contextExtensions = attrs.getContextExtensionsMap();
    if (attrs.hasMetadataContext()) {
      f.metadataContext = Structs.filterMetadata(attrs.getMetadataContext());
    }
    if (attrs.hasRouteMetadataContext()) {
      f.routeMetadataContext = Structs.filterMetadata(attrs.getRouteMetadataContext());
    }
    return new Mapping(f.toBag(), null);
  }

  /**
   * Maps a serialized {@code CheckRequest} as {@link #map} maps the parsed one, with the same
   * result for every input, but reading the wire straight into the fields mapping needs ({@link
   * CheckWireDecoder}) instead of building the generated message first: what the gRPC server does
   * per call. Never throws for any content of a well-formed request.
   *
   * @throws InvalidProtocolBufferException when {@code wire} is not a well-formed {@code
   *     CheckRequest} (exactly when {@code CheckRequest.parseFrom} would throw)
   */
  public Mapping map(byte[] wire, Settings limits) throws InvalidProtocolBufferException {
    CheckFields f = CheckWireDecoder.decode(wire);
    if (f == null) {
      wireFallbacks.inc();
      return map(CheckRequest.parseFrom(wire), limits); // an unusual encoding: the generated parser
    }
    if (f.http) {
      Rejection r = checkCounts(f.headerCount, f.bodyBytes(), limits);
      if (r != null) {
        return new Mapping(null, r);
      }
      if (f.headerBytes > limits.maxHeaderBytes()) {
        return headersTooLarge(limits);
      }
    }
    return new Mapping(f.toBag(), null);
  }

  private Mapping headersTooLarge(Settings limits) {
    headersTooLarge.inc();
    return new Mapping(
        null,
        new Rejection(
            HEADERS_TOO_LARGE,
            "request headers are larger than the limit of " + limits.maxHeaderBytes() + " bytes",
            limits.overLimitHttpStatus()));
  }

  /** The cheap limits, checked before any header is read: entry count and body size. */
  private Rejection checkCounts(int count, int bodyBytes, Settings limits) {
    if (count > limits.maxHeaders()) {
      tooManyHeaders.inc();
      return new Rejection(
          TOO_MANY_HEADERS,
          "request has " + count + " headers, more than the limit of " + limits.maxHeaders(),
          limits.overLimitHttpStatus());
    }
    if (bodyBytes > limits.maxBodyBytes()) {
      bodyTooLarge.inc();
      int status = limits.overLimitHttpStatus() == 431 ? 413 : limits.overLimitHttpStatus();
      return new Rejection(
          BODY_TOO_LARGE,
          "request body has " + bodyBytes + " bytes, more than the limit of "
              + limits.maxBodyBytes(),
          status);
    }
    return null;
  }

  /**
   * The lowercased, joined headers of both fields; null as soon as their names and values exceed
   * {@code maxBytes}.
   */
  private static Map<String, String> headers(AttributeContext.HttpRequest http, long maxBytes) {
    Map<String, String> fromMap = http.getHeadersMap();
    List<HeaderValue> fromList = http.getHeaderMap().getHeadersList();
    int count = fromMap.size() + fromList.size();
    if (count == 0) {
      return Map.of();
    }
    Map<String, String> out = Structs.newMap(count);
    long bytes = 0;
    for (Map.Entry<String, String> e : fromMap.entrySet()) {
      String value = e.getValue();
      bytes += Texts.utf8Length(e.getKey()) + Texts.utf8Length(value);
      if (bytes > maxBytes) {
        return null;
      }
      add(out, Texts.lowerAscii(e.getKey()), value);
    }
    for (HeaderValue h : fromList) {
      ByteString raw = h.getRawValue();
      String value;
      if (raw.isEmpty()) {
        value = h.getValue();
        bytes += Texts.utf8Length(value);
      } else {
        bytes += raw.size();
        if (bytes > maxBytes) {
          return null; // before decoding a value that is too large anyway
        }
        value = Texts.decodeUtf8(raw);
      }
      bytes += Texts.utf8Length(h.getKey());
      if (bytes > maxBytes) {
        return null;
      }
      add(out, Texts.lowerAscii(h.getKey()), value);
    }
    return Collections.unmodifiableMap(out);
  }

  static void add(Map<String, String> headers, String name, String value) {
    String previous = headers.putIfAbsent(name, value);
    if (previous != null) {
      headers.put(name, previous + "," + value);
    }
  }

  private static void peer(AttributeContext.Peer peer, CheckFields.Peer out) {
    Address address = peer.getAddress();
    if (address.hasSocketAddress()) {
      SocketAddress socket = address.getSocketAddress();
      out.ip = socket.getAddress();
      if (socket.getPortSpecifierCase() == SocketAddress.PortSpecifierCase.PORT_VALUE) {
        out.hasPort = true;
        out.port = socket.getPortValue();
      }
    }
    out.service = peer.getService();
    out.principal = peer.getPrincipal();
    out.certificate = peer.getCertificate();
    out.labels = peer.getLabelsMap();
  }
}
