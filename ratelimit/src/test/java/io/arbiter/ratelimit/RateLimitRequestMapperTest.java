package io.arbiter.ratelimit;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.UInt64Value;
import io.arbiter.engine.spi.QuotaRequest;
import io.arbiter.ratelimit.RateLimitRequestMapper.DescriptorCall;
import io.envoyproxy.envoy.extensions.common.ratelimit.v3.RateLimitDescriptor;
import io.envoyproxy.envoy.extensions.common.ratelimit.v3.RateLimitDescriptor.RateLimitOverride;
import io.envoyproxy.envoy.service.ratelimit.v3.RateLimitRequest;
import io.envoyproxy.envoy.type.v3.RateLimitUnit;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RateLimitRequestMapperTest {
  static RateLimitDescriptor.Builder descriptor(String... keyValues) {
    RateLimitDescriptor.Builder d = RateLimitDescriptor.newBuilder();
    for (int i = 0; i < keyValues.length; i += 2) {
      d.addEntries(
          RateLimitDescriptor.Entry.newBuilder().setKey(keyValues[i]).setValue(keyValues[i + 1]));
    }
    return d;
  }

  @Test
  void domainEntriesAndAmountBecomeTheThreeAttributes() {
    DescriptorCall call =
        RateLimitRequestMapper.map(
            "edge", 0, descriptor("generic_key", "api", "user", "alice").build());

    assertThat(call.attributes().asMap())
        .containsOnlyKeys("ratelimit.domain", "ratelimit.descriptor", "ratelimit.hits_addend")
        .containsEntry("ratelimit.domain", "edge")
        .containsEntry("ratelimit.descriptor", Map.of("generic_key", "api", "user", "alice"))
        .containsEntry("ratelimit.hits_addend", 1L);
    assertThat(call.request()).isEqualTo(new QuotaRequest(1, false, null));
    assertThat(call.note()).isEmpty();
  }

  @Test
  void theFirstOfARepeatedKeyWinsAndEmptyValuesStay() {
    DescriptorCall call = RateLimitRequestMapper.map("edge", 0,
        descriptor("user", "alice", "path", "", "user", "mallory").build());

    assertThat(call.attributes().get("ratelimit.descriptor"))
        .isEqualTo(Map.of("user", "alice", "path", ""));
  }

  @Test
  void anEmptyDomainIsAbsentAndNoEntriesIsAnEmptyMap() {
    DescriptorCall call =
        RateLimitRequestMapper.map("", 0, RateLimitDescriptor.getDefaultInstance());

    assertThat(call.attributes().has("ratelimit.domain")).isFalse();
    assertThat(call.attributes().get("ratelimit.descriptor")).isEqualTo(Map.of());
  }

  @Test
  void hitsAddendZeroMeansOneAndTheDescriptorsOwnOverridesTheRequests() {
    assertThat(amount(0, null)).isEqualTo(1);
    assertThat(amount(5, null)).isEqualTo(5);
    assertThat(amount(5, 2L)).isEqualTo(2);
    assertThat(amount(5, 0L)).as("an explicit descriptor-level 0 still consumes 1").isEqualTo(1);
    assertThat(amount(-1, null)).as("uint32 max").isEqualTo(4_294_967_295L);
    assertThat(amount(0, -1L)).as("uint64 max, capped").isEqualTo(Long.MAX_VALUE);
  }

  private static long amount(int requestHits, Long descriptorHits) {
    RateLimitDescriptor.Builder d = descriptor("user", "alice");
    if (descriptorHits != null) {
      d.setHitsAddend(UInt64Value.of(descriptorHits));
    }
    DescriptorCall call = RateLimitRequestMapper.map("edge", requestHits, d.build());
    assertThat(call.attributes().get("ratelimit.hits_addend")).isEqualTo(call.request().amount());
    return call.request().amount();
  }

  @Test
  void aLimitOverrideBecomesRequestsPerUnitSeconds() {
    assertThat(override(100, RateLimitUnit.SECOND)).isEqualTo(new QuotaRequest.Limit(100, 1));
    assertThat(override(7, RateLimitUnit.MINUTE)).isEqualTo(new QuotaRequest.Limit(7, 60));
    assertThat(override(7, RateLimitUnit.HOUR)).isEqualTo(new QuotaRequest.Limit(7, 3600));
    assertThat(override(7, RateLimitUnit.DAY)).isEqualTo(new QuotaRequest.Limit(7, 86_400));
    assertThat(override(7, RateLimitUnit.MONTH)).isEqualTo(new QuotaRequest.Limit(7, 2_592_000));
    assertThat(override(7, RateLimitUnit.YEAR)).isEqualTo(new QuotaRequest.Limit(7, 31_536_000));
    assertThat(override(0, RateLimitUnit.MINUTE)).isEqualTo(new QuotaRequest.Limit(0, 60));
    assertThat(override(-1, RateLimitUnit.SECOND))
        .isEqualTo(new QuotaRequest.Limit(4_294_967_295L, 1));
  }

  private static QuotaRequest.Limit override(int requests, RateLimitUnit unit) {
    RateLimitDescriptor d = descriptor("user", "vip")
        .setLimit(RateLimitOverride.newBuilder().setRequestsPerUnit(requests).setUnit(unit))
        .build();
    DescriptorCall call = RateLimitRequestMapper.map("edge", 0, d);
    assertThat(call.note()).isEmpty();
    assertThat(call.request().bestEffort()).isFalse();
    return call.request().limitOverride();
  }

  @Test
  void aLimitOverrideWithoutAUnitIsIgnoredAndNoted() {
    RateLimitDescriptor d = descriptor("user", "vip")
        .setLimit(RateLimitOverride.newBuilder().setRequestsPerUnit(5)).build();

    DescriptorCall call = RateLimitRequestMapper.map("edge", 0, d);

    assertThat(call.request().limitOverride()).isNull();
    assertThat(call.note()).isEqualTo("limit override ignored: unit UNKNOWN is not a time unit");
  }

  @Test
  void mapByIndexReadsTheRequestsDomainAndHits() {
    RateLimitRequest request = RateLimitRequest.newBuilder().setDomain("edge").setHitsAddend(3)
        .addDescriptors(descriptor("a", "1")).addDescriptors(descriptor("b", "2")).build();

    DescriptorCall second = RateLimitRequestMapper.map(request, 1);

    assertThat(second.attributes().get("ratelimit.descriptor")).isEqualTo(Map.of("b", "2"));
    assertThat(second.request().amount()).isEqualTo(3);
  }

  @Test
  void requestsOverTheLimitsAreRejectedWithTheReason() {
    RateLimitRequest.Builder many = RateLimitRequest.newBuilder().setDomain("edge");
    for (int i = 0; i < RateLimitRequestMapper.MAX_DESCRIPTORS; i++) {
      many.addDescriptors(descriptor("user", "u" + i));
    }
    assertThat(RateLimitRequestMapper.check(many.build())).isNull();
    many.addDescriptors(descriptor("user", "one-too-many"));
    assertThat(RateLimitRequestMapper.check(many.build()))
        .isEqualTo(new RateLimitRequestMapper.Rejection("too_many_descriptors",
            "1001 descriptors, more than the limit of 1000"));

    RateLimitDescriptor.Builder wide = RateLimitDescriptor.newBuilder();
    for (int i = 0; i <= RateLimitRequestMapper.MAX_ENTRIES; i++) {
      wide.addEntries(RateLimitDescriptor.Entry.newBuilder().setKey("k" + i).setValue("v"));
    }
    assertThat(RateLimitRequestMapper.check(
            RateLimitRequest.newBuilder().addDescriptors(wide).build()))
        .isEqualTo(new RateLimitRequestMapper.Rejection("too_many_entries",
            "10001 descriptor entries, more than the limit of 10000"));
    assertThat(RateLimitRequestMapper.check(RateLimitRequest.getDefaultInstance())).isNull();
  }
}
