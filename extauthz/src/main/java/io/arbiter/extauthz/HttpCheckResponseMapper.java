package io.arbiter.extauthz;

import io.arbiter.engine.CheckDecision;
import io.arbiter.engine.spi.CheckResult;
import io.arbiter.engine.spi.HeaderValue;
import io.arbiter.extauthz.HttpCheckResponse.Header;
import io.arbiter.frontend.Texts;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Turns the engine's {@link CheckDecision} into the answer of Envoy's HTTP-mode contract.
 *
 * <ul>
 *   <li>Allow: 200, no body, and as response headers, in this order: the request headers to add
 *       (Envoy copies those named in {@code allowed_upstream_headers} onto the upstream request,
 *       replacing, and those in {@code allowed_upstream_headers_to_append}, appending), {@value
 *       #HEADERS_TO_REMOVE} with the request headers to remove joined by {@code ","} (Envoy removes
 *       them upstream; nginx ignores it), the response headers to add (Envoy copies those named in
 *       {@code allowed_client_headers_on_success} onto the client's response), {@value
 *       CheckResponseMapper#DECISION_ID_HEADER} and {@value #MATCHED_RULES_HEADER} (the matched
 *       rules joined by {@code ","}, when any matched). Query parameter directives cannot be
 *       expressed and are left out (see {@link HttpCheckService}).
 *   <li>Deny: the denial's HTTP status ({@link CheckResult#effectiveHttpStatus()}; one below 300,
 *       which every proxy would take for an allow, becomes 403), the response headers to add,
 *       {@value CheckResponseMapper#DECISION_ID_HEADER}, {@code content-type: text/plain;
 *       charset=utf-8} when there is a body and no rule set a content type, and the body. The
 *       matched rules are not sent: Envoy passes every header of a denial to the client unless
 *       {@code allowed_client_headers} narrows it.
 *   <li>Header names are lowercased. A name that is not an HTTP token or would redefine the
 *       check response's own framing ({@code content-length}, {@code transfer-encoding}, {@code
 *       connection}, …), and a value with a control character (CR, LF, NUL, …; a tab is fine),
 *       cannot be sent: {@link #toResponse} throws {@link IllegalArgumentException}, and the
 *       caller answers with the failure policy instead.
 * </ul>
 *
 * <p>Stateless and thread-safe.
 */
final class HttpCheckResponseMapper {
  /** The header whose comma-separated names Envoy removes from the upstream request. */
  static final String HEADERS_TO_REMOVE = "x-envoy-auth-headers-to-remove";

  /** The header listing the rules that matched an allowed check. */
  static final String MATCHED_RULES_HEADER = "x-arbiter-matched-rules";

  private static final byte[] EMPTY = new byte[0];
  private static final Set<String> FRAMING =
      Set.of(
          "content-length", "transfer-encoding", "connection", "keep-alive", "proxy-connection",
          "upgrade", "trailer", "te");

  private HttpCheckResponseMapper() {}

  static HttpCheckResponse toResponse(CheckDecision decision) {
    CheckResult result = decision.result();
    List<Header> headers = new ArrayList<>();
    if (result.allowed()) {
      for (HeaderValue h : result.requestHeadersToAdd()) {
        add(headers, h.name(), h.value());
      }
      if (!result.requestHeadersToRemove().isEmpty()) {
        List<String> names = new ArrayList<>(result.requestHeadersToRemove().size());
        for (String name : result.requestHeadersToRemove()) {
          names.add(checkName(name));
        }
        add(headers, HEADERS_TO_REMOVE, String.join(",", names));
      }
      for (HeaderValue h : result.responseHeadersToAdd()) {
        add(headers, h.name(), h.value());
      }
      add(headers, CheckResponseMapper.DECISION_ID_HEADER, decision.id());
      if (!decision.matchedRules().isEmpty()) {
        add(headers, MATCHED_RULES_HEADER, String.join(",", decision.matchedRules()));
      }
      return new HttpCheckResponse(200, headers, EMPTY);
    }
    boolean contentType = false;
    for (HeaderValue h : result.responseHeadersToAdd()) {
      contentType |= add(headers, h.name(), h.value()).equals("content-type");
    }
    add(headers, CheckResponseMapper.DECISION_ID_HEADER, decision.id());
    byte[] body = result.body().getBytes(StandardCharsets.UTF_8);
    if (body.length > 0 && !contentType) {
      add(headers, "content-type", "text/plain; charset=utf-8");
    }
    return new HttpCheckResponse(denialStatus(result.effectiveHttpStatus()), headers, body);
  }

  /** A denial's status as sent: below 300 it would read as an allow, so it becomes 403. */
  static int denialStatus(int httpStatus) {
    return httpStatus < 300 ? 403 : httpStatus;
  }

  /** Adds a checked header; returns its lowercased name. */
  private static String add(List<Header> headers, String name, String value) {
    String lower = checkName(name);
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if ((c < 0x20 && c != '\t') || c == 0x7f) {
        throw new IllegalArgumentException(
            "header '" + lower + "' has a value with control character 0x"
                + Integer.toHexString(c) + " at index " + i + ", which HTTP cannot carry");
      }
    }
    headers.add(new Header(lower, value));
    return lower;
  }

  private static String checkName(String name) {
    String lower = Texts.lowerAscii(name);
    if (lower.isEmpty()) {
      throw new IllegalArgumentException("empty header name");
    }
    for (int i = 0; i < lower.length(); i++) {
      if (!isTokenChar(lower.charAt(i))) {
        throw new IllegalArgumentException(
            "header name '" + lower + "' has '" + lower.charAt(i) + "', not an HTTP token character");
      }
    }
    if (FRAMING.contains(lower)) {
      throw new IllegalArgumentException(
          "header '" + lower + "' is the check response's own framing and cannot be set by a rule");
    }
    return lower;
  }

  private static boolean isTokenChar(char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z')
        || "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
  }
}
