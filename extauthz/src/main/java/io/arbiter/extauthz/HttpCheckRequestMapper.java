package io.arbiter.extauthz;

import com.google.protobuf.Timestamp;
import com.google.protobuf.UnsafeByteOperations;
import io.arbiter.extauthz.internal.Addresses;
import io.arbiter.frontend.Texts;
import io.envoyproxy.envoy.config.core.v3.Address;
import io.envoyproxy.envoy.config.core.v3.HeaderMap;
import io.envoyproxy.envoy.config.core.v3.HeaderValue;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.envoyproxy.envoy.service.auth.v3.AttributeContext;
import io.envoyproxy.envoy.service.auth.v3.CheckRequest;
import java.net.InetSocketAddress;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Turns an HTTP-mode check into the {@code CheckRequest} Envoy's gRPC mode would have sent for the
 * same original request, so that both front ends share one mapping to attributes ({@link
 * CheckRequestMapper}: same vocabulary, same limits and rejections).
 *
 * <ul>
 *   <li>{@code request.method}: the check's method. {@code request.path}/{@code
 *       request.query_params}: from the target after the prefix. {@code request.host} and {@code
 *       destination.service.host}: the {@code host} header (the original {@code :authority} for
 *       Envoy; nginx must be told {@code proxy_set_header Host $host}). {@code request.scheme}: the
 *       first element of {@code x-forwarded-proto}, if forwarded.
 *   <li>{@code request.headers}: every forwarded header but the check request's own framing ({@code
 *       content-length}, {@code transfer-encoding}, {@code connection}, {@code keep-alive}, {@code
 *       proxy-connection}, {@code upgrade}, {@code expect}), names lowercased, repeated names joined
 *       with {@code ","}. They go to the {@code header_map} list, so the limits count each value
 *       before joining, as they do for Envoy's. There are no pseudo-headers ({@code :path}, …).
 *   <li>{@code source.ip}: the <em>last</em> non-empty element of {@code x-forwarded-for} (its lines joined)
 *       (the address the proxy in front of Arbiter appended or set), else the peer's address,
 *       with {@code source.port} the peer's port. Arbiter trusts that header as sent: the proxy
 *       must set or append it itself (nginx: {@code proxy_set_header X-Forwarded-For
 *       $remote_addr}), and the HTTP port must be reachable by that proxy only. The last element
 *       is used, not the first, because the first is whatever the client wrote whenever the proxy
 *       appends.
 *   <li>{@code request.body}: the body, when the proxy sends one. {@code request.size} is absent:
 *       the original request's length is not forwarded. {@code request.time}: when the check
 *       arrived.
 *   <li>{@code context.protocol}: {@code http} ({@code grpc} if a forwarded {@code content-type}
 *       says so); {@code context.reporter.kind}: {@code inbound}. Nothing about TLS, the
 *       destination peer, context extensions or metadata reaches an HTTP-mode check.
 * </ul>
 *
 * <p>Stateless and thread-safe.
 */
final class HttpCheckRequestMapper {
  private static final Set<String> FRAMING =
      Set.of(
          "content-length", "transfer-encoding", "connection", "keep-alive", "proxy-connection",
          "upgrade", "expect");

  private HttpCheckRequestMapper() {}

  static CheckRequest toCheckRequest(HttpCheckRequest request, Instant now) {
    AttributeContext.HttpRequest.Builder http =
        AttributeContext.HttpRequest.newBuilder()
            .setMethod(request.method())
            .setPath(request.path())
            .setSize(-1);
    HeaderMap.Builder headers = HeaderMap.newBuilder();
    String host = null;
    String proto = null;
    String forwardedFor = null;
    for (Map.Entry<String, List<String>> e : request.headers().entrySet()) {
      String name = Texts.lowerAscii(e.getKey());
      if (FRAMING.contains(name) || e.getValue().isEmpty()) {
        continue;
      }
      for (String value : e.getValue()) {
        headers.addHeaders(HeaderValue.newBuilder().setKey(name).setValue(value));
      }
      List<String> values = e.getValue();
      switch (name) {
        case "host" -> host = values.get(0);
        case "x-forwarded-proto" -> proto = values.get(0);
        case "x-forwarded-for" -> forwardedFor = String.join(",", values);
        default -> {}
      }
    }
    http.setHeaderMap(headers);
    if (host != null) {
      http.setHost(host.strip());
    }
    if (proto != null) {
      int comma = proto.indexOf(',');
      http.setScheme((comma < 0 ? proto : proto.substring(0, comma)).strip());
    }
    if (request.body().length > 0) {
      http.setRawBody(UnsafeByteOperations.unsafeWrap(request.body()));
    }
    AttributeContext.Builder attrs =
        AttributeContext.newBuilder()
            .setRequest(
                AttributeContext.Request.newBuilder()
                    .setTime(Timestamp.newBuilder()
                        .setSeconds(now.getEpochSecond())
                        .setNanos(now.getNano()))
                    .setHttp(http));
    SocketAddress source = source(forwardedFor, request.peer());
    if (source != null) {
      attrs.setSource(
          AttributeContext.Peer.newBuilder().setAddress(Address.newBuilder().setSocketAddress(source)));
    }
    return CheckRequest.newBuilder().setAttributes(attrs).build();
  }

  /**
   * The last element of {@code forwardedFor} (all the {@code x-forwarded-for} lines joined) if it
   * has one, else the peer; null if neither.
   */
  static SocketAddress source(String forwardedFor, InetSocketAddress peer) {
    if (forwardedFor != null) {
      String last = lastElement(forwardedFor);
      if (!last.isEmpty()) {
        return SocketAddress.newBuilder().setAddress(last).build();
      }
    }
    if (peer == null || peer.getAddress() == null) {
      return null;
    }
    return SocketAddress.newBuilder()
        .setAddress(Addresses.format(peer.getAddress()))
        .setPortValue(peer.getPort())
        .build();
  }

  /** The last non-empty comma-separated element, stripped, without IPv6 brackets. */
  private static String lastElement(String list) {
    int end = list.length();
    while (end > 0) {
      int comma = list.lastIndexOf(',', end - 1);
      String element = list.substring(comma + 1, end).strip();
      if (!element.isEmpty()) {
        if (element.length() > 2 && element.charAt(0) == '[' && element.endsWith("]")) {
          element = element.substring(1, element.length() - 1);
        }
        return element;
      }
      end = comma < 0 ? 0 : comma;
    }
    return "";
  }
}
