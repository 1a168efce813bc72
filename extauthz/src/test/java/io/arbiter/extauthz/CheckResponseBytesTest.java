package io.arbiter.extauthz;

import static org.assertj.core.api.Assertions.assertThat;

import io.arbiter.engine.CheckDecision;
import io.arbiter.engine.PolicyEngine;
import io.arbiter.engine.spi.CheckResult;
import io.arbiter.engine.spi.Code;
import io.arbiter.engine.spi.HeaderValue;
import io.envoyproxy.envoy.service.auth.v3.AttributeContext;
import io.envoyproxy.envoy.service.auth.v3.CheckRequest;
import io.envoyproxy.envoy.service.auth.v3.CheckResponse;
import io.grpc.stub.StreamObserver;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CheckResponseBytesTest {
  private static final CheckResult ALLOW =
      new CheckResult(
          Code.OK, "", 0,
          List.of(new HeaderValue("x-user", "alice", false), new HeaderValue("x-trace", "t1", true)),
          List.of("authorization"),
          List.of(new HeaderValue("x-served-by", "arbiter", false)),
          Map.of("tenant", "acme"),
          List.of("token"),
          "",
          CheckResult.DEFAULT_VALID_DURATION, CheckResult.DEFAULT_VALID_USE_COUNT);

  private static CheckDecision reused(String id, CheckResult result, List<String> rules, String version) {
    return new CheckDecision(id, result, rules, version, List.of(), true);
  }

  @Test
  void aReusedAllowIsTheMappersSerializationByteForByte() {
    List<String> rules = List.of("r1", "r2");
    CheckDecision first = reused("00000000000000aa", ALLOW, rules, "v42");
    CheckDecision second = reused("00000000000000bb", ALLOW, rules, "v42");
    byte[] a = CheckResponseBytes.of(first);
    assertThat(CheckResponseBytes.holds(first)).as("parts kept after the first answer").isTrue();
    byte[] b = CheckResponseBytes.of(second);
    assertThat(a).isEqualTo(CheckResponseMapper.toResponse(first).toByteArray());
    assertThat(b).isEqualTo(CheckResponseMapper.toResponse(second).toByteArray());
    assertThat(b).isNotEqualTo(a);
  }

  @Test
  void aSlotReusedForAnotherVersionOrResultIsRebuilt() throws Exception {
    List<String> rules = List.of("r1");
    byte[] v1 = CheckResponseBytes.of(reused("0000000000000001", ALLOW, rules, "v1"));
    CheckDecision v2 = reused("0000000000000002", ALLOW, rules, "v2");
    assertThat(CheckResponseBytes.of(v2)).isEqualTo(CheckResponseMapper.toResponse(v2).toByteArray());
    assertThat(CheckResponse.parseFrom(v1).getDynamicMetadata().getFieldsOrThrow("config_version")
        .getStringValue()).isEqualTo("v1");
    CheckResult other = ALLOW.withResponseHeaders(List.of(new HeaderValue("x-other", "1", false)));
    CheckDecision d = reused("0000000000000003", other, rules, "v2");
    assertThat(CheckResponseBytes.of(d)).isEqualTo(CheckResponseMapper.toResponse(d).toByteArray());
  }

  @Test
  void denialsEvaluatedAndFailedDecisionsAreSerializedFromTheMessage() {
    CheckDecision denied = reused("00000000000000cc", CheckResult.deny(Code.PERMISSION_DENIED, "no"),
        List.of("r"), "v");
    CheckDecision evaluated = new CheckDecision("00000000000000dd",
        CheckResult.ok().withResponseHeaders(List.of(new HeaderValue("x-e", "1", false))),
        List.of("r"), "v", List.of());
    CheckDecision failed = new CheckDecision("00000000000000ee", CheckResult.ok(), List.of(), "v",
        List.of("handler h: deadline"), true);
    for (CheckDecision d : List.of(denied, evaluated, failed)) {
      assertThat(CheckResponseBytes.of(d)).isEqualTo(CheckResponseMapper.toResponse(d).toByteArray());
      assertThat(CheckResponseBytes.holds(d)).isFalse();
    }
  }

  /** Collects the serialized answer of a call. */
  private static final class Bytes implements StreamObserver<byte[]> {
    byte[] value;

    @Override
    public void onNext(byte[] v) {
      value = v;
    }

    @Override
    public void onError(Throwable t) {
      throw new AssertionError(t);
    }

    @Override
    public void onCompleted() {}
  }

  @Test
  void theServersBytePathAnswersCacheHitsWithTheirOwnIds() throws Exception {
    PolicyEngine engine = Engines.engine("""
        rules:
          - name: tag
            match: "request.path.startsWith('/a')"
            requestHeadersToAdd: {x-tag: "'yes'"}
        """);
    AuthorizationService service = new AuthorizationService(engine);
    byte[] wire = CheckRequest.newBuilder().setAttributes(AttributeContext.newBuilder()
        .setRequest(AttributeContext.Request.newBuilder().setHttp(
            AttributeContext.HttpRequest.newBuilder().setPath("/a/b").setMethod("GET"))))
        .build().toByteArray();
    Bytes out = new Bytes();
    service.check(wire, out);
    CheckResponse evaluated = CheckResponse.parseFrom(out.value);
    service.check(wire, out);
    CheckResponse hit1 = CheckResponse.parseFrom(out.value);
    service.check(wire, out);
    CheckResponse hit2 = CheckResponse.parseFrom(out.value);
    assertThat(evaluated.getDynamicMetadata().getFieldsOrThrow("cache_hit").getBoolValue()).isFalse();
    for (CheckResponse hit : List.of(hit1, hit2)) {
      assertThat(hit.getDynamicMetadata().getFieldsOrThrow("cache_hit").getBoolValue()).isTrue();
      assertThat(hit.getOkResponse()).isEqualTo(evaluated.getOkResponse());
      assertThat(hit.getOkResponse().getHeaders(0).getHeader().getKey()).isEqualTo("x-tag");
      assertThat(hit.getDynamicMetadata().getFieldsOrThrow("matched_rules"))
          .isEqualTo(evaluated.getDynamicMetadata().getFieldsOrThrow("matched_rules"));
    }
    String id1 = hit1.getDynamicMetadata().getFieldsOrThrow("decision_id").getStringValue();
    String id2 = hit2.getDynamicMetadata().getFieldsOrThrow("decision_id").getStringValue();
    assertThat(id1).hasSize(16).isNotEqualTo(id2)
        .isNotEqualTo(evaluated.getDynamicMetadata().getFieldsOrThrow("decision_id").getStringValue());
  }
}
