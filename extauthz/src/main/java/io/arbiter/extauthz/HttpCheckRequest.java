package io.arbiter.extauthz;

import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * One check in Envoy's HTTP-mode ext_authz contract ({@code http_service}), or from nginx's {@code
 * auth_request}, as the HTTP layer received it: the proxy forwards the original request's method,
 * target and (some of its) headers to a path under a prefix.
 *
 * @param method the check request's method; Envoy sends the original request's
 * @param path the original request target: the check request's target with the listener's prefix
 *     stripped, query included, still percent-encoded as it arrived
 * @param headers names (in any case) to their values in arrival order, as the proxy forwarded them;
 *     values are text already decoded from the wire (UTF-8 is the HTTP layer's job)
 * @param body the check request's body (empty unless Envoy's {@code with_request_body}); not copied,
 *     so it must not change afterwards
 * @param peer the address the check came from (the proxy); null when unknown
 */
public record HttpCheckRequest(
    String method,
    String path,
    Map<String, List<String>> headers,
    byte[] body,
    InetSocketAddress peer) {

  private static final byte[] EMPTY = new byte[0];

  public HttpCheckRequest {
    Objects.requireNonNull(method, "method");
    Objects.requireNonNull(path, "path");
    Objects.requireNonNull(headers, "headers");
    body = body == null ? EMPTY : body;
  }
}
