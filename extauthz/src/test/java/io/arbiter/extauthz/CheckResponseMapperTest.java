package io.arbiter.extauthz;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.BoolValue;
import com.google.protobuf.ListValue;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import com.google.rpc.Status;
import io.arbiter.engine.CheckDecision;
import io.arbiter.engine.spi.CheckResult;
import io.arbiter.engine.spi.Code;
import io.arbiter.engine.spi.HeaderValue;
import io.envoyproxy.envoy.config.core.v3.HeaderValueOption;
import io.envoyproxy.envoy.config.core.v3.HeaderValueOption.HeaderAppendAction;
import io.envoyproxy.envoy.config.core.v3.QueryParameter;
import io.envoyproxy.envoy.service.auth.v3.CheckResponse;
import io.envoyproxy.envoy.service.auth.v3.DeniedHttpResponse;
import io.envoyproxy.envoy.service.auth.v3.OkHttpResponse;
import io.envoyproxy.envoy.type.v3.HttpStatus;
import io.envoyproxy.envoy.type.v3.StatusCode;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class CheckResponseMapperTest {

  @SuppressWarnings("deprecation") // append is set on purpose; see CheckResponseMapper
  static HeaderValueOption option(String name, String value, boolean append) {
    return HeaderValueOption.newBuilder()
        .setHeader(
            io.envoyproxy.envoy.config.core.v3.HeaderValue.newBuilder().setKey(name).setValue(value))
        .setAppend(BoolValue.of(append))
        .setAppendAction(
            append
                ? HeaderAppendAction.APPEND_IF_EXISTS_OR_ADD
                : HeaderAppendAction.OVERWRITE_IF_EXISTS_OR_ADD)
        .build();
  }

  static Struct metadata(String id, List<String> rules, String version) {
    return metadata(id, rules, version, false);
  }

  static Struct metadata(String id, List<String> rules, String version, boolean cached) {
    ListValue.Builder list = ListValue.newBuilder();
    rules.forEach(r -> list.addValues(Value.newBuilder().setStringValue(r)));
    return Struct.newBuilder()
        .putFields("decision_id", Value.newBuilder().setStringValue(id).build())
        .putFields("matched_rules", Value.newBuilder().setListValue(list).build())
        .putFields("config_version", Value.newBuilder().setStringValue(version).build())
        .putFields("cache_hit", Value.newBuilder().setBoolValue(cached).build())
        .build();
  }

  @Test
  @SuppressWarnings("deprecation") // hasAppend
  void allowCarriesEveryDirectiveWithAppendExplicit() {
    CheckResult result =
        new CheckResult(
            Code.OK, "", 0,
            List.of(new HeaderValue("x-user", "alice", false), new HeaderValue("x-trace", "t1", true)),
            List.of("authorization"),
            List.of(new HeaderValue("x-served-by", "arbiter", false), new HeaderValue("set-cookie", "a=1", true)),
            Map.of("tenant", "acme"),
            List.of("token"),
            "",
            CheckResult.DEFAULT_VALID_DURATION, CheckResult.DEFAULT_VALID_USE_COUNT);

    CheckResponse response =
        CheckResponseMapper.toResponse(
            new CheckDecision("00000000000000aa", result, List.of("r1", "r2"), "v42", List.of()));

    assertThat(response)
        .isEqualTo(
            CheckResponse.newBuilder()
                .setStatus(Status.newBuilder().setCode(0))
                .setOkResponse(
                    OkHttpResponse.newBuilder()
                        .addHeaders(option("x-user", "alice", false))
                        .addHeaders(option("x-trace", "t1", true))
                        .addHeadersToRemove("authorization")
                        .addResponseHeadersToAdd(option("x-served-by", "arbiter", false))
                        .addResponseHeadersToAdd(option("set-cookie", "a=1", true))
                        .addQueryParametersToSet(QueryParameter.newBuilder().setKey("tenant").setValue("acme"))
                        .addQueryParametersToRemove("token"))
                .setDynamicMetadata(metadata("00000000000000aa", List.of("r1", "r2"), "v42"))
                .build());
    // Explicit presence, not only an equal default: Envoy reads has_append().
    assertThat(response.getOkResponse().getHeadersList()).allMatch(HeaderValueOption::hasAppend);
    assertThat(response.getOkResponse().getResponseHeadersToAddList()).allMatch(HeaderValueOption::hasAppend);
  }

  @Test
  void plainAllowHasAnEmptyOkResponse() {
    CheckResponse response =
        CheckResponseMapper.toResponse(
            new CheckDecision("id", CheckResult.ok(), List.of(), "v1", List.of()));

    assertThat(response.getStatus().getCode()).isZero();
    assertThat(response.hasOkResponse()).isTrue();
    assertThat(response.getOkResponse()).isEqualTo(OkHttpResponse.getDefaultInstance());
    assertThat(response.getDynamicMetadata()).isEqualTo(metadata("id", List.of(), "v1"));
  }

  @Test
  void denyCarriesStatusHeadersBodyAndDecisionId() {
    CheckResult result =
        CheckResult.deny(Code.PERMISSION_DENIED, "admins only", 0)
            .withBody("{\"error\":\"forbidden\"}")
            .withResponseHeaders(
                List.of(new HeaderValue("content-type", "application/json", false),
                    new HeaderValue("x-why", "rule", true)));

    CheckResponse response =
        CheckResponseMapper.toResponse(
            new CheckDecision("0123456789abcdef", result, List.of("admin"), "v7", List.of()));

    assertThat(response)
        .isEqualTo(
            CheckResponse.newBuilder()
                .setStatus(Status.newBuilder().setCode(7).setMessage("admins only"))
                .setDeniedResponse(
                    DeniedHttpResponse.newBuilder()
                        .setStatus(HttpStatus.newBuilder().setCode(StatusCode.Forbidden))
                        .addHeaders(option("content-type", "application/json", false))
                        .addHeaders(option("x-why", "rule", true))
                        .addHeaders(option("x-arbiter-decision-id", "0123456789abcdef", false))
                        .setBody("{\"error\":\"forbidden\"}"))
                .setDynamicMetadata(metadata("0123456789abcdef", List.of("admin"), "v7"))
                .build());
  }

  @ParameterizedTest
  @CsvSource({
    "UNAUTHENTICATED, 0, 16, Unauthorized",
    "RESOURCE_EXHAUSTED, 0, 8, TooManyRequests",
    "PERMISSION_DENIED, 302, 7, Found",
    "INVALID_ARGUMENT, 431, 3, RequestHeaderFieldsTooLarge",
    "UNAVAILABLE, 503, 14, ServiceUnavailable",
    "PERMISSION_DENIED, 418, 7, Forbidden",
    "UNAVAILABLE, 599, 14, InternalServerError",
  })
  void mapsCodesAndHttpStatuses(Code code, int httpStatus, int grpcCode, StatusCode expected) {
    CheckResponse response =
        CheckResponseMapper.toResponse(
            new CheckDecision("id", CheckResult.deny(code, "no", httpStatus), List.of(), "v", List.of()));

    assertThat(response.getStatus().getCode()).isEqualTo(grpcCode);
    assertThat(response.getDeniedResponse().getStatus().getCode()).isEqualTo(expected);
  }

  @Test
  void failedDecisionsReportTheirErrorsInMetadata() {
    CheckResponse response =
        CheckResponseMapper.toResponse(
            new CheckDecision(
                "id", CheckResult.ok(), List.of("r"), "v",
                List.of("rule 'a': match: no such key", "rule 'b': handler 'h': timeout")));

    assertThat(response.getDynamicMetadata().getFieldsOrThrow("error").getStringValue())
        .isEqualTo("rule 'a': match: no such key; rule 'b': handler 'h': timeout");
  }

  @Test
  void rejectionsNameTheirReasonInMetadata() {
    CheckDecision decision =
        new CheckDecision(
            "id", new CheckRequestMapper.Rejection("body_too_large", "too big", 413).toResult(),
            List.of(), "v", List.of());

    CheckResponse response = CheckResponseMapper.toResponse(decision, "body_too_large");

    assertThat(response.getStatus()).isEqualTo(Status.newBuilder().setCode(3).setMessage("too big").build());
    assertThat(response.getDeniedResponse().getStatus().getCode()).isEqualTo(StatusCode.PayloadTooLarge);
    assertThat(response.getDeniedResponse().getBody()).isEqualTo("too big\n");
    assertThat(response.getDynamicMetadata().getFieldsOrThrow("rejected").getStringValue())
        .isEqualTo("body_too_large");
    assertThat(response.getDynamicMetadata().containsFields("error")).isFalse();
  }
}
