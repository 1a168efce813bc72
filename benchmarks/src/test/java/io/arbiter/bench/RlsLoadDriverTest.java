package io.arbiter.bench;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import io.envoyproxy.envoy.config.core.v3.HeaderValue;
import io.envoyproxy.envoy.service.ratelimit.v3.RateLimitResponse;
import org.junit.jupiter.api.Test;

class RlsLoadDriverTest {

  @Test
  void readsTheOverallCodeWithoutParsingTheRest() {
    RateLimitResponse ok = RateLimitResponse.newBuilder()
        .setOverallCode(RateLimitResponse.Code.OK)
        .addStatuses(RateLimitResponse.DescriptorStatus.newBuilder().setCode(RateLimitResponse.Code.OVER_LIMIT))
        .addResponseHeadersToAdd(HeaderValue.newBuilder().setKey("x-ratelimit-limit").setValue("10"))
        .setDynamicMetadata(Struct.newBuilder().putFields("k", Value.newBuilder().setNumberValue(1).build()))
        .build();
    assertThat(RlsLoadDriver.overallCode(ok.toByteArray())).isEqualTo(RateLimitResponse.Code.OK_VALUE);

    RateLimitResponse over = ok.toBuilder().setOverallCode(RateLimitResponse.Code.OVER_LIMIT).build();
    assertThat(RlsLoadDriver.overallCode(over.toByteArray())).isEqualTo(RateLimitResponse.Code.OVER_LIMIT_VALUE);
  }

  @Test
  void anAbsentOrUnreadableCodeIsUnknown() {
    RateLimitResponse none = RateLimitResponse.newBuilder()
        .addStatuses(RateLimitResponse.DescriptorStatus.newBuilder().setCode(RateLimitResponse.Code.OK))
        .build();
    assertThat(RlsLoadDriver.overallCode(none.toByteArray())).isZero();
    assertThat(RlsLoadDriver.overallCode(new byte[0])).isZero();
    assertThat(RlsLoadDriver.overallCode(null)).isZero();
    assertThat(RlsLoadDriver.overallCode(new byte[] {(byte) 0x12, (byte) 0x7f})).isZero(); // truncated field
  }

  @Test
  void sendsTheRequestsOfTheH2loadBodies() {
    // The driver's users are RateLimitBodyFiles' requests, so both clients load the same buckets.
    assertThat(RateLimitBodyFiles.request(3).getDomain()).isEqualTo("edge");
    assertThat(RateLimitBodyFiles.request(3).getDescriptorsCount()).isEqualTo(2);
    assertThat(RateLimitBodyFiles.request(3).getDescriptors(1).getEntries(1).getValue()).isEqualTo("user-3");
  }
}
