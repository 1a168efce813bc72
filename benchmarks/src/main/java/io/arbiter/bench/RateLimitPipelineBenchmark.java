package io.arbiter.bench;

import io.arbiter.engine.PolicyEngine;
import io.arbiter.engine.QuotaCall;
import io.arbiter.engine.QuotaDecision;
import io.arbiter.ratelimit.RateLimitRequestMapper;
import io.arbiter.ratelimit.RateLimitService;
import io.envoyproxy.envoy.service.ratelimit.v3.RateLimitRequest;
import io.envoyproxy.envoy.service.ratelimit.v3.RateLimitResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One {@code ShouldRateLimit} from request to response with memquota, the request and config of
 * {@code load/quota.sh} ({@link RateLimitBodyFiles}): domain {@code edge}, two descriptors
 * ({@code remote_address}, and {@code remote_address} + {@code user}), each matched by one rule and
 * taking one unit from its own fixed-window bucket (limits of 10<sup>9</sup>, so every answer is
 * OK with both buckets' limits, remainders and resets, the {@code RateLimit-*} headers and the
 * dynamic metadata).
 *
 * <ul>
 *   <li>{@code serverPath}: what the server does per call beyond HTTP/2: parse the request from
 *       its wire bytes, run {@link RateLimitService#shouldRateLimit} (one service instance, as
 *       bound to the gRPC server; memquota answers synchronously) and serialize the response.
 *   <li>{@code bareServerPath}: what the bare baseline ({@link BareAuthorizationServer} {@code
 *       --ratelimit}) does per call: parse, answer OK with one OK status per descriptor,
 *       serialize. {@code serverPath - bareServerPath} (time and {@code gc.alloc.rate.norm}) is
 *       Arbiter's cost beyond gRPC's own for a rate-limit call.
 *   <li>{@code engineQuota}: the engine alone: {@link PolicyEngine#quota(List)} for the two
 *       descriptors already mapped (rule matches, instance dimensions, two memquota allocations,
 *       the decisions), without the request mapping and the response.
 * </ul>
 *
 * <p>Run: {@code java -jar benchmarks/target/benchmarks.jar RateLimitPipelineBenchmark -prof gc}
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
@Warmup(iterations = 8, time = 1)
@Measurement(iterations = 5, time = 1)
public class RateLimitPipelineBenchmark {
  private PolicyEngine engine;
  private RateLimitService service;
  private byte[] wire;
  private List<QuotaCall> calls;
  private final Capture<RateLimitResponse> capture = new Capture<>();

  @Setup
  public void setup() throws Exception {
    engine = Engines.serving(RateLimitBodyFiles.config("memquota", null));
    service = new RateLimitService(engine);
    RateLimitRequest request = RateLimitBodyFiles.request(0);
    wire = request.toByteArray();
    calls = new ArrayList<>();
    for (int i = 0; i < request.getDescriptorsCount(); i++) {
      RateLimitRequestMapper.DescriptorCall c = RateLimitRequestMapper.map(request, i);
      calls.add(new QuotaCall(c.attributes(), c.request()));
    }
    for (QuotaDecision d : engineQuota()) {
      if (d.overLimit() || d.matchedRules().size() != 1 || d.outcomes().size() != 1
          || !d.errors().isEmpty()) {
        throw new IllegalStateException("unexpected decision: " + d);
      }
    }
    serverPath();
    RateLimitResponse r = capture.response;
    if (r == null || r.getOverallCode() != RateLimitResponse.Code.OK || r.getStatusesCount() != 2
        || !r.getStatuses(0).hasCurrentLimit() || !r.getStatuses(1).hasCurrentLimit()
        || r.getResponseHeadersToAddCount() != 3
        || r.getDynamicMetadata().containsFields("error")) {
      throw new IllegalStateException("unexpected server answer: " + r);
    }
  }

  @TearDown
  public void tearDown() {
    Engines.close(engine);
  }

  @Benchmark
  public byte[] serverPath() throws Exception {
    capture.response = null;
    service.shouldRateLimit(RateLimitRequest.parseFrom(wire), capture);
    return capture.response.toByteArray();
  }

  @Benchmark
  public byte[] bareServerPath() throws Exception {
    RateLimitRequest parsed = RateLimitRequest.parseFrom(wire);
    capture.onNext(BareAuthorizationServer.RateLimit.answer(parsed));
    return capture.response.toByteArray();
  }

  @Benchmark
  public List<QuotaDecision> engineQuota() {
    return engine.quota(calls).toCompletableFuture().join();
  }
}
