package io.arbiter.bench;

import com.google.protobuf.Struct;
import com.google.protobuf.Timestamp;
import com.google.protobuf.Value;
import io.envoyproxy.envoy.config.core.v3.Address;
import io.envoyproxy.envoy.config.core.v3.Metadata;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.envoyproxy.envoy.service.auth.v3.AttributeContext;
import io.envoyproxy.envoy.service.auth.v3.CheckRequest;

/**
 * The CheckRequest every benchmark and the load harness send: what a sidecar Envoy's HTTP ext_authz
 * filter (gRPC mode, {@code include_peer_certificate: true}, per-route {@code check_settings})
 * sends for an authenticated browser-ish call to service {@code svc-0}. Peers with SPIFFE
 * principals, a TLS session, 19 request headers (pseudo-headers, {@code x-request-id}, {@code
 * user-agent}, a bearer token, B3 tracing, a tenant, a user), a query string, two context
 * extensions and filter metadata: 1,300 bytes serialized.
 *
 * <p>Against a {@link RuleSets} config it matches exactly {@link RuleSets#expectedMatches} rules
 * and is allowed.
 */
public final class Requests {
  private Requests() {}

  /** The standard request: {@code GET https://svc-0.example.com/svc-0/api/v1/items/42?...}. */
  public static CheckRequest standard() {
    return request("svc-0.example.com", "/svc-0/api/v1/items/42?page=2&sort=desc&q=red%20shoes", true);
  }

  /**
   * A request like {@link #standard()} for another host and path (with its query string, if any).
   *
   * @param withUser whether it carries the {@code x-user} header
   */
  public static CheckRequest request(String host, String pathAndQuery, boolean withUser) {
    AttributeContext.HttpRequest.Builder http =
        AttributeContext.HttpRequest.newBuilder()
            .setId("14178545498302845551")
            .setMethod("GET")
            .setPath(pathAndQuery)
            .setHost(host)
            .setScheme("https")
            .setProtocol("HTTP/2")
            .setSize(0)
            .putHeaders(":authority", host)
            .putHeaders(":method", "GET")
            .putHeaders(":path", pathAndQuery)
            .putHeaders(":scheme", "https")
            .putHeaders("accept", "application/json, text/plain, */*")
            .putHeaders("accept-encoding", "gzip, deflate, br")
            .putHeaders("accept-language", "en-US,en;q=0.9")
            .putHeaders(
                "user-agent",
                "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko)"
                    + " Chrome/124.0.0.0 Safari/537.36")
            .putHeaders("x-request-id", "4b1f9a3e-7c2d-4a5e-9f10-3c2b1a0d9e8f")
            .putHeaders("x-forwarded-for", "203.0.113.7")
            .putHeaders("x-forwarded-proto", "https")
            .putHeaders("x-envoy-attempt-count", "1")
            .putHeaders("x-b3-traceid", "80f198ee56343ba864fe8b2a57d3eff7")
            .putHeaders("x-b3-spanid", "e457b5a2e4d86bd1")
            .putHeaders("x-b3-sampled", "1")
            .putHeaders(
                "authorization",
                "Bearer eyJhbGciOiJSUzI1NiIsImtpZCI6ImJlbmNoIn0.eyJzdWIiOiJ1c2VyLTQyIiwiaXNzIjoi"
                    + "aHR0cHM6Ly9pZHAuZXhhbXBsZS5jb20iLCJleHAiOjE3OTk5OTk5OTl9.c2lnbmF0dXJl")
            .putHeaders("x-tenant", "tenant-0")
            .putHeaders("cookie", "session=9f86d081884c7d65; theme=dark");
    if (withUser) {
      http.putHeaders("x-user", "user-42");
    }
    return CheckRequest.newBuilder()
        .setAttributes(
            AttributeContext.newBuilder()
                .setSource(
                    peer("10.1.2.3", 53211, "spiffe://cluster.local/ns/web/sa/frontend"))
                .setDestination(
                    peer("10.1.2.4", 8080, "spiffe://cluster.local/ns/shop/sa/svc-0"))
                .setRequest(
                    AttributeContext.Request.newBuilder()
                        .setTime(Timestamp.newBuilder().setSeconds(1_790_000_000L).setNanos(123_000_000))
                        .setHttp(http))
                .putContextExtensions("virtual_host", "svc-0")
                .putContextExtensions("route", "items-read")
                .setMetadataContext(
                    Metadata.newBuilder()
                        .putFilterMetadata(
                            "envoy.filters.http.jwt_authn",
                            Struct.newBuilder()
                                .putFields("sub", string("user-42"))
                                .putFields("iss", string("https://idp.example.com"))
                                .putFields("exp", Value.newBuilder().setNumberValue(1.799999999e9).build())
                                .build()))
                .setTlsSession(AttributeContext.TLSSession.newBuilder().setSni(host)))
        .build();
  }

  private static AttributeContext.Peer peer(String ip, int port, String principal) {
    return AttributeContext.Peer.newBuilder()
        .setAddress(
            Address.newBuilder()
                .setSocketAddress(SocketAddress.newBuilder().setAddress(ip).setPortValue(port)))
        .setPrincipal(principal)
        .build();
  }

  private static Value string(String s) {
    return Value.newBuilder().setStringValue(s).build();
  }
}
