package io.arbiter.ratelimit;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import io.arbiter.engine.QuotaDecision;
import io.arbiter.engine.QuotaDecision.Outcome;
import io.arbiter.engine.spi.QuotaResult;
import io.arbiter.ratelimit.RateLimitResponseMapper.DescriptorDecision;
import io.envoyproxy.envoy.config.core.v3.HeaderValue;
import io.envoyproxy.envoy.service.ratelimit.v3.RateLimitResponse;
import io.envoyproxy.envoy.service.ratelimit.v3.RateLimitResponse.Code;
import io.envoyproxy.envoy.service.ratelimit.v3.RateLimitResponse.DescriptorStatus;
import io.envoyproxy.envoy.service.ratelimit.v3.RateLimitResponse.RateLimit;
import io.envoyproxy.envoy.service.ratelimit.v3.RateLimitResponse.RateLimit.Unit;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class RateLimitResponseMapperTest {
  private static final Duration MINUTE = Duration.ofMinutes(1);

  static DescriptorDecision decision(String id, List<String> rules, Outcome... outcomes) {
    return new DescriptorDecision(
        new QuotaDecision(id, List.of(outcomes), rules, "v1", List.of()), "");
  }

  static Outcome outcome(String rule, long granted, long limit, long remaining, Duration reset,
      Duration window) {
    return new Outcome(
        rule, "h", "per-user", new QuotaResult(granted, limit, remaining, reset, window), false);
  }

  static com.google.protobuf.Duration seconds(long s, int nanos) {
    return com.google.protobuf.Duration.newBuilder().setSeconds(s).setNanos(nanos).build();
  }

  static HeaderValue header(String k, String v) {
    return HeaderValue.newBuilder().setKey(k).setValue(v).build();
  }

  @Test
  void oneStatusPerDescriptorInOrderWithTheBucketsFields() {
    RateLimitResponse r = RateLimitResponseMapper.toResponse(List.of(
        decision("d1", List.of("limit-users"),
            outcome("limit-users", 1, 3, 2, Duration.ofMillis(41_500), MINUTE)),
        decision("d2", List.of()),
        decision("d3", List.of("limit-ips"),
            outcome("limit-ips", 1, 100, 99, Duration.ofSeconds(3000), Duration.ofHours(1)))));

    assertThat(r.getOverallCode()).isEqualTo(Code.OK);
    assertThat(r.getStatusesList()).containsExactly(
        DescriptorStatus.newBuilder().setCode(Code.OK)
            .setCurrentLimit(RateLimit.newBuilder().setRequestsPerUnit(3).setUnit(Unit.MINUTE))
            .setLimitRemaining(2).setDurationUntilReset(seconds(41, 500_000_000)).build(),
        DescriptorStatus.newBuilder().setCode(Code.OK).build(),
        DescriptorStatus.newBuilder().setCode(Code.OK)
            .setCurrentLimit(RateLimit.newBuilder().setRequestsPerUnit(100).setUnit(Unit.HOUR))
            .setLimitRemaining(99).setDurationUntilReset(seconds(3000, 0)).build());
    // The tightest bucket (least remaining) gives the headers; the reset rounds up.
    assertThat(r.getResponseHeadersToAddList()).containsExactly(
        header("ratelimit-limit", "3"), header("ratelimit-remaining", "2"),
        header("ratelimit-reset", "42"));
    assertThat(r.getRequestHeadersToAddList()).isEmpty();
    assertThat(r.getRawBody().isEmpty()).isTrue();
    assertThat(r.hasQuota()).isFalse();
  }

  @Test
  void anyDescriptorOverItsLimitMakesTheWholeOverAndGivesTheHeaders() {
    RateLimitResponse r = RateLimitResponseMapper.toResponse(List.of(
        decision("d1", List.of("a"), outcome("a", 1, 10, 0, Duration.ofSeconds(5), MINUTE)),
        decision("d2", List.of("b"), outcome("b", 0, 50, 4, Duration.ofSeconds(20), MINUTE))));

    assertThat(r.getOverallCode()).isEqualTo(Code.OVER_LIMIT);
    assertThat(r.getStatusesList()).extracting(DescriptorStatus::getCode)
        .containsExactly(Code.OK, Code.OVER_LIMIT);
    assertThat(r.getStatuses(1).getLimitRemaining()).as("what is left, though 5 were asked")
        .isEqualTo(4);
    // Over the limit is tighter than 0 remaining.
    assertThat(r.getResponseHeadersToAddList()).containsExactly(
        header("ratelimit-limit", "50"), header("ratelimit-remaining", "4"),
        header("ratelimit-reset", "20"));
  }

  @Test
  void onEqualRemaindersTheFirstDescriptorGivesTheHeaders() {
    RateLimitResponse r = RateLimitResponseMapper.toResponse(List.of(
        decision("d1", List.of("a"), outcome("a", 1, 10, 3, Duration.ofSeconds(5), MINUTE)),
        decision("d2", List.of("b"), outcome("b", 1, 20, 3, Duration.ofSeconds(9), MINUTE))));

    assertThat(r.getResponseHeadersToAddList()).first().isEqualTo(header("ratelimit-limit", "10"));
  }

  @Test
  void aWindowThatIsNoEnvoyUnitKeepsItsLimitAndGetsTheNearestUnit() {
    RateLimitResponse r = RateLimitResponseMapper.toResponse(List.of(
        decision("d1", List.of("a"),
            outcome("a", 1, 10, 9, Duration.ofSeconds(90), Duration.ofSeconds(90)))));

    assertThat(r.getStatuses(0).getCurrentLimit())
        .isEqualTo(RateLimit.newBuilder().setRequestsPerUnit(10).setUnit(Unit.MINUTE).build());
    Struct d = descriptors(r).get(0).getStructValue();
    assertThat(d.getFieldsOrThrow("window").getStringValue()).isEqualTo("90s");
  }

  @Test
  void theTightestAllocationOfADescriptorDescribesIt() {
    RateLimitResponse r = RateLimitResponseMapper.toResponse(List.of(
        decision("d1", List.of("per-user", "per-ip"),
            outcome("per-user", 1, 10, 7, Duration.ofSeconds(5), MINUTE),
            outcome("per-ip", 1, 100, 2, Duration.ofSeconds(600), Duration.ofHours(1)))));

    assertThat(r.getStatuses(0).getCurrentLimit().getRequestsPerUnit()).isEqualTo(100);
    assertThat(r.getStatuses(0).getLimitRemaining()).isEqualTo(2);
    Struct d = descriptors(r).get(0).getStructValue();
    assertThat(d.getFieldsOrThrow("rule").getStringValue()).isEqualTo("per-ip");
    assertThat(d.getFieldsOrThrow("limit").getNumberValue()).isEqualTo(100);
    assertThat(d.getFieldsOrThrow("remaining").getNumberValue()).isEqualTo(2);
  }

  @Test
  void shadowFailedAndUnlimitedAllocationsCarryTheCodeAlone() {
    Outcome shadowOver = new Outcome("s", "h", "i",
        new QuotaResult(0, 1, 0, Duration.ofSeconds(5), MINUTE), true);
    Outcome failedClosed = new Outcome("f", "h", "i",
        new QuotaResult(0, 0, 0, Duration.ZERO, Duration.ZERO), false);
    Outcome unlimited = new Outcome("u", "h", "i", QuotaResult.UNLIMITED, false);
    RateLimitResponse r = RateLimitResponseMapper.toResponse(List.of(
        decision("d1", List.of("s"), shadowOver),
        new DescriptorDecision(new QuotaDecision("d2", List.of(failedClosed), List.of("f"), "v1",
            List.of("rule 'f': handler 'h': store down")), ""),
        decision("d3", List.of("u"), unlimited)));

    assertThat(r.getOverallCode()).isEqualTo(Code.OVER_LIMIT);
    assertThat(r.getStatusesList()).containsExactly(
        DescriptorStatus.newBuilder().setCode(Code.OK).build(),
        DescriptorStatus.newBuilder().setCode(Code.OVER_LIMIT).build(),
        DescriptorStatus.newBuilder().setCode(Code.OK).build());
    assertThat(r.getResponseHeadersToAddList()).isEmpty();
    Struct md = r.getDynamicMetadata();
    assertThat(md.getFieldsOrThrow("error").getStringValue())
        .isEqualTo("rule 'f': handler 'h': store down");
    assertThat(descriptors(r).get(1).getStructValue().getFieldsOrThrow("error").getStringValue())
        .isEqualTo("rule 'f': handler 'h': store down");
  }

  @Test
  void metadataCarriesDecisionIdsAndMatchedRulesPerDescriptor() {
    RateLimitResponse r = RateLimitResponseMapper.toResponse(List.of(
        decision("d1", List.of("a", "b"), outcome("a", 1, 10, 3, Duration.ofSeconds(5), MINUTE)),
        new DescriptorDecision(
            new QuotaDecision("d2", List.of(), List.of("b"), "v1", List.of()), "a note")));

    Struct md = r.getDynamicMetadata();
    assertThat(strings(md.getFieldsOrThrow("decision_ids"))).containsExactly("d1", "d2");
    assertThat(strings(md.getFieldsOrThrow("matched_rules"))).containsExactly("a", "b");
    assertThat(md.getFieldsOrThrow("config_version").getStringValue()).isEqualTo("v1");
    assertThat(md.containsFields("error")).isFalse();
    Struct first = descriptors(r).get(0).getStructValue();
    assertThat(first.getFieldsOrThrow("decision_id").getStringValue()).isEqualTo("d1");
    assertThat(first.getFieldsOrThrow("code").getStringValue()).isEqualTo("OK");
    assertThat(strings(first.getFieldsOrThrow("matched_rules"))).containsExactly("a", "b");
    assertThat(first.getFieldsOrThrow("instance").getStringValue()).isEqualTo("per-user");
    assertThat(first.getFieldsOrThrow("window").getStringValue()).isEqualTo("1m");
    Struct second = descriptors(r).get(1).getStructValue();
    assertThat(second.getFieldsOrThrow("note").getStringValue()).isEqualTo("a note");
    assertThat(second.containsFields("limit")).isFalse();
  }

  @Test
  void metadataFieldsComeInTheirDocumentedOrder() {
    RateLimitResponse r = RateLimitResponseMapper.toResponse(List.of(
        new DescriptorDecision(new QuotaDecision("d1",
            List.of(outcome("a", 1, 10, 3, Duration.ofSeconds(5), MINUTE)), List.of("a"), "v1",
            List.of("rule 'a': boom")), "a note")));

    // Envoy and log pipelines see the fields in this order on the wire.
    assertThat(List.copyOf(r.getDynamicMetadata().getFieldsMap().keySet())).containsExactly(
        "decision_ids", "matched_rules", "config_version", "descriptors", "error");
    assertThat(List.copyOf(descriptors(r).get(0).getStructValue().getFieldsMap().keySet()))
        .containsExactly("decision_id", "code", "matched_rules", "rule", "instance", "limit",
            "remaining", "window", "error", "note");
  }

  @Test
  void matchedRulesListsEveryRuleOnceInFirstMatchedOrderOverManyDescriptors() {
    List<DescriptorDecision> decisions = new java.util.ArrayList<>();
    for (int i = 0; i < 30; i++) {
      decisions.add(decision("d" + i, List.of("r" + (i % 12), "common")));
    }

    RateLimitResponse r = RateLimitResponseMapper.toResponse(decisions);

    List<String> expected = new java.util.ArrayList<>(List.of("r0", "common"));
    for (int i = 1; i < 12; i++) {
      expected.add("r" + i);
    }
    assertThat(strings(r.getDynamicMetadata().getFieldsOrThrow("matched_rules")))
        .containsExactlyElementsOf(expected);
    assertThat(strings(descriptors(r).get(13).getStructValue().getFieldsOrThrow("matched_rules")))
        .containsExactly("r1", "common");
  }

  @Test
  void noDescriptorsIsOkWithNoStatuses() {
    RateLimitResponse r = RateLimitResponseMapper.toResponse(List.of());

    assertThat(r.getOverallCode()).isEqualTo(Code.OK);
    assertThat(r.getStatusesCount()).isZero();
    assertThat(r.getResponseHeadersToAddCount()).isZero();
  }

  @Test
  void hugeLimitsAndRemaindersAreCappedToUint32() {
    RateLimitResponse r = RateLimitResponseMapper.toResponse(List.of(
        decision("d1", List.of("a"),
            outcome("a", 1, 10_000_000_000L, 9_999_999_999L, Duration.ofSeconds(1), MINUTE))));

    assertThat(Integer.toUnsignedLong(r.getStatuses(0).getCurrentLimit().getRequestsPerUnit()))
        .isEqualTo(4_294_967_295L);
    assertThat(Integer.toUnsignedLong(r.getStatuses(0).getLimitRemaining()))
        .isEqualTo(4_294_967_295L);
    assertThat(r.getResponseHeadersToAdd(0)).isEqualTo(header("ratelimit-limit", "10000000000"));
  }

  @Test
  void theFailureAnswerGivesEveryDescriptorTheSameCode() {
    RateLimitResponse closed =
        RateLimitResponseMapper.failure(3, false, "abc", "v1", "boom", "too_many_descriptors");
    RateLimitResponse open = RateLimitResponseMapper.failure(2, true, "abd", "v1", "boom", null);

    assertThat(closed.getOverallCode()).isEqualTo(Code.OVER_LIMIT);
    assertThat(closed.getStatusesList()).hasSize(3)
        .allSatisfy(s -> assertThat(s).isEqualTo(
            DescriptorStatus.newBuilder().setCode(Code.OVER_LIMIT).build()));
    assertThat(closed.getDynamicMetadata().getFieldsOrThrow("rejected").getStringValue())
        .isEqualTo("too_many_descriptors");
    assertThat(strings(closed.getDynamicMetadata().getFieldsOrThrow("decision_ids")))
        .containsExactly("abc");
    assertThat(open.getOverallCode()).isEqualTo(Code.OK);
    assertThat(open.getStatusesList()).extracting(DescriptorStatus::getCode)
        .containsExactly(Code.OK, Code.OK);
    assertThat(open.getDynamicMetadata().containsFields("rejected")).isFalse();
    assertThat(open.getDynamicMetadata().getFieldsOrThrow("error").getStringValue())
        .isEqualTo("boom");
  }

  static List<Value> descriptors(RateLimitResponse r) {
    return r.getDynamicMetadata().getFieldsOrThrow("descriptors").getListValue().getValuesList();
  }

  static List<String> strings(Value list) {
    return list.getListValue().getValuesList().stream().map(Value::getStringValue).toList();
  }
}
