package io.arbiter.extauthz;

import com.google.protobuf.BoolValue;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import com.google.rpc.Status;
import io.arbiter.engine.CheckDecision;
import io.arbiter.engine.spi.CheckResult;
import io.arbiter.engine.spi.HeaderValue;
import io.arbiter.extauthz.internal.HttpStatuses;
import io.arbiter.frontend.Structs;
import io.envoyproxy.envoy.config.core.v3.HeaderValueOption;
import io.envoyproxy.envoy.config.core.v3.HeaderValueOption.HeaderAppendAction;
import io.envoyproxy.envoy.config.core.v3.QueryParameter;
import io.envoyproxy.envoy.service.auth.v3.CheckResponse;
import io.envoyproxy.envoy.service.auth.v3.DeniedHttpResponse;
import io.envoyproxy.envoy.service.auth.v3.OkHttpResponse;
import io.envoyproxy.envoy.type.v3.HttpStatus;
import java.util.List;
import java.util.Map;

/**
 * Turns the engine's {@link CheckDecision} into the {@code CheckResponse} Envoy applies.
 *
 * <ul>
 *   <li>Allow: {@code status} OK and an {@code ok_response} with the request headers to add
 *       ({@code headers}) and remove, the response headers to add, and the query parameters to set
 *       and remove.
 *   <li>Deny: {@code status} with the result's code number and message, and a {@code
 *       denied_response} with the HTTP status ({@link CheckResult#effectiveHttpStatus()}, so
 *       UNAUTHENTICATED becomes 401 — Envoy itself would send 403), the response headers plus
 *       {@value #DECISION_ID_HEADER}, and the body.
 *   <li>Every header option sets {@code append} explicitly (a {@code BoolValue}) and the matching
 *       {@code append_action}: append → {@code APPEND_IF_EXISTS_OR_ADD}, otherwise {@code
 *       OVERWRITE_IF_EXISTS_OR_ADD}. Envoy's defaults for an unset {@code append} differ between
 *       its APIs; nothing is left to them.
 *   <li>{@code dynamic_metadata} on every response, for access logs ({@code
 *       %DYNAMIC_METADATA(envoy.filters.http.ext_authz:decision_id)%}) and later filters: {@code
 *       decision_id}, {@code matched_rules} (a list), {@code config_version}, {@code cache_hit}
 *       (true when the decision came from the decision cache), {@code error} (the
 *       decision's errors joined by {@code "; "}) when the decision failed, and {@code rejected}
 *       (the reason) when the request was rejected over a limit.
 * </ul>
 *
 * <p>Stateless and thread-safe.
 */
public final class CheckResponseMapper {
  /** The response header a denial carries with its decision id. */
  public static final String DECISION_ID_HEADER = "x-arbiter-decision-id";

  private CheckResponseMapper() {}

  /** The response for {@code decision}. */
  public static CheckResponse toResponse(CheckDecision decision) {
    return toResponse(decision, null);
  }

  /** The response for {@code decision}; {@code rejectedReason}, when not null, goes to metadata. */
  static CheckResponse toResponse(CheckDecision decision, String rejectedReason) {
    CheckResult result = decision.result();
    CheckResponse.Builder out = CheckResponse.newBuilder();
    if (result.allowed()) {
      out.setStatus(Status.newBuilder().setCode(0));
      out.setOkResponse(okResponse(result));
    } else {
      out.setStatus(
          Status.newBuilder().setCode(result.code().number()).setMessage(result.message()));
      out.setDeniedResponse(deniedResponse(result, decision.id()));
    }
    out.setDynamicMetadata(metadata(decision, rejectedReason));
    return out.build();
  }

  private static OkHttpResponse okResponse(CheckResult result) {
    OkHttpResponse.Builder ok = OkHttpResponse.newBuilder();
    for (HeaderValue h : result.requestHeadersToAdd()) {
      ok.addHeaders(option(h.name(), h.value(), h.append()));
    }
    ok.addAllHeadersToRemove(result.requestHeadersToRemove());
    for (HeaderValue h : result.responseHeadersToAdd()) {
      ok.addResponseHeadersToAdd(option(h.name(), h.value(), h.append()));
    }
    for (Map.Entry<String, String> q : result.queryParametersToSet().entrySet()) {
      ok.addQueryParametersToSet(
          QueryParameter.newBuilder().setKey(q.getKey()).setValue(q.getValue()));
    }
    ok.addAllQueryParametersToRemove(result.queryParametersToRemove());
    return ok.build();
  }

  private static DeniedHttpResponse deniedResponse(CheckResult result, String decisionId) {
    DeniedHttpResponse.Builder denied =
        DeniedHttpResponse.newBuilder()
            .setStatus(
                HttpStatus.newBuilder()
                    .setCode(HttpStatuses.toEnvoy(result.effectiveHttpStatus())));
    for (HeaderValue h : result.responseHeadersToAdd()) {
      denied.addHeaders(option(h.name(), h.value(), h.append()));
    }
    denied.addHeaders(option(DECISION_ID_HEADER, decisionId, false));
    denied.setBody(result.body());
    return denied.build();
  }

  // append is deprecated in favour of append_action, but Envoy's ext_authz still reads it first
  // (has_append()) and defaults it differently per API: it is set on purpose, with a matching action.
  @SuppressWarnings("deprecation")
  private static HeaderValueOption option(String name, String value, boolean append) {
    return HeaderValueOption.newBuilder()
        .setHeader(io.envoyproxy.envoy.config.core.v3.HeaderValue.newBuilder()
            .setKey(name)
            .setValue(value))
        .setAppend(BoolValue.of(append))
        .setAppendAction(
            append
                ? HeaderAppendAction.APPEND_IF_EXISTS_OR_ADD
                : HeaderAppendAction.OVERWRITE_IF_EXISTS_OR_ADD)
        .build();
  }

  private static Struct metadata(CheckDecision decision, String rejectedReason) {
    Struct.Builder md =
        Struct.newBuilder()
            .putFields("decision_id", Structs.string(decision.id()))
            .putFields("matched_rules", Structs.strings(decision.matchedRules()))
            .putFields("config_version", Structs.string(decision.configVersion()))
            .putFields("cache_hit", Value.newBuilder().setBoolValue(decision.cached()).build());
    List<String> errors = decision.errors();
    if (!errors.isEmpty()) {
      md.putFields("error", Structs.string(String.join("; ", errors)));
    }
    if (rejectedReason != null) {
      md.putFields("rejected", Structs.string(rejectedReason));
    }
    return md.build();
  }
}
