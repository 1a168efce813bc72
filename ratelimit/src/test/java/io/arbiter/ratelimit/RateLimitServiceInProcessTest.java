package io.arbiter.ratelimit;

import static io.arbiter.ratelimit.RateLimitRequestMapperTest.descriptor;
import static io.arbiter.ratelimit.RateLimitResponseMapperTest.descriptors;
import static io.arbiter.ratelimit.RateLimitResponseMapperTest.header;
import static io.arbiter.ratelimit.RateLimitResponseMapperTest.strings;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.UInt64Value;
import io.arbiter.engine.PolicyEngine;
import io.arbiter.engine.spi.QuotaRequest;
import io.arbiter.engine.spi.QuotaResult;
import io.arbiter.engine.testing.CountingQuotaAdapter;
import io.envoyproxy.envoy.extensions.common.ratelimit.v3.RateLimitDescriptor;
import io.envoyproxy.envoy.extensions.common.ratelimit.v3.RateLimitDescriptor.RateLimitOverride;
import io.envoyproxy.envoy.service.ratelimit.v3.RateLimitRequest;
import io.envoyproxy.envoy.service.ratelimit.v3.RateLimitResponse;
import io.envoyproxy.envoy.service.ratelimit.v3.RateLimitResponse.Code;
import io.envoyproxy.envoy.service.ratelimit.v3.RateLimitResponse.DescriptorStatus;
import io.envoyproxy.envoy.service.ratelimit.v3.RateLimitResponse.RateLimit.Unit;
import io.envoyproxy.envoy.service.ratelimit.v3.RateLimitServiceGrpc;
import io.envoyproxy.envoy.type.v3.RateLimitUnit;
import io.grpc.Context;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@code ShouldRateLimit} over the in-process transport against a real engine: the mapping of
 * every field, the per-descriptor decisions and their order, the failure policy, asynchronous
 * answers and cancellation, and the counters.
 */
class RateLimitServiceInProcessTest {
  /** A user's bucket holds 3 a minute; a second rule limits each path to 100 an hour. */
  private static final String POLICY =
      """
      handlers:
      - {name: per-user, adapter: window, params: {limit: 3, window: 1m, reset: 41500ms}}
      - {name: per-path, adapter: window, params: {limit: 100, window: 1h, label: path}}
      instances:
      - {name: user, template: quota, params: {dimensions: {user: "ratelimit.descriptor['user']"}}}
      - {name: path, template: quota, params: {dimensions: {path: "ratelimit.descriptor['path']"}}}
      rules:
      - name: limit-users
        match: "ratelimit.domain == 'edge' && 'user' in ratelimit.descriptor"
        actions: [{handler: per-user, instances: [user]}]
      - name: limit-paths
        match: "ratelimit.domain == 'edge' && 'path' in ratelimit.descriptor"
        actions: [{handler: per-path, instances: [path]}]
      """;

  private final WindowQuotaAdapter window = new WindowQuotaAdapter();
  private PolicyEngine engine;
  private Server server;
  private ManagedChannel channel;

  private RateLimitServiceGrpc.RateLimitServiceBlockingStub start(String yaml) throws IOException {
    engine = Engines.engine(yaml, window, new CountingQuotaAdapter());
    String name = InProcessServerBuilder.generateName();
    server =
        InProcessServerBuilder.forName(name)
            .directExecutor()
            .addService(new RateLimitService(engine))
            .build()
            .start();
    channel = InProcessChannelBuilder.forName(name).directExecutor().build();
    return RateLimitServiceGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
  }

  @AfterEach
  void stop() throws InterruptedException {
    if (channel != null) {
      channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
      server.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
      engine.close();
      engine.services().close();
    }
  }

  private static RateLimitRequest edge(RateLimitDescriptor.Builder... descriptors) {
    RateLimitRequest.Builder r = RateLimitRequest.newBuilder().setDomain("edge");
    for (RateLimitDescriptor.Builder d : descriptors) {
      r.addDescriptors(d);
    }
    return r.build();
  }

  private long descriptorsCounted(String result) {
    return Engines.counter(engine, "arbiter_ratelimit_descriptors_total", "result", result);
  }

  @Test
  void aUserGetsThreeAMinuteWithDecreasingRemainderThenIsOverTheLimit() throws IOException {
    var stub = start(POLICY);

    for (int expectedRemaining = 2; expectedRemaining >= 0; expectedRemaining--) {
      RateLimitResponse r = stub.shouldRateLimit(edge(descriptor("user", "alice")));
      assertThat(r.getOverallCode()).isEqualTo(Code.OK);
      assertThat(r.getStatusesList()).singleElement().satisfies(s -> {
        assertThat(s.getCode()).isEqualTo(Code.OK);
        assertThat(s.getCurrentLimit().getRequestsPerUnit()).isEqualTo(3);
        assertThat(s.getCurrentLimit().getUnit()).isEqualTo(Unit.MINUTE);
        assertThat(s.getDurationUntilReset().getSeconds()).isEqualTo(41);
      });
      assertThat(r.getStatuses(0).getLimitRemaining()).isEqualTo(expectedRemaining);
      assertThat(r.getResponseHeadersToAddList()).containsExactly(
          header("ratelimit-limit", "3"),
          header("ratelimit-remaining", Integer.toString(expectedRemaining)),
          header("ratelimit-reset", "42"));
    }
    RateLimitResponse fourth = stub.shouldRateLimit(edge(descriptor("user", "alice")));

    assertThat(fourth.getOverallCode()).isEqualTo(Code.OVER_LIMIT);
    assertThat(fourth.getStatuses(0).getCode()).isEqualTo(Code.OVER_LIMIT);
    assertThat(fourth.getStatuses(0).getLimitRemaining()).isZero();
    assertThat(fourth.getStatuses(0).getDurationUntilReset().getSeconds()).isPositive();
    assertThat(strings(fourth.getDynamicMetadata().getFieldsOrThrow("matched_rules")))
        .containsExactly("limit-users");
    assertThat(descriptorsCounted("ok")).isEqualTo(3);
    assertThat(descriptorsCounted("over_limit")).isEqualTo(1);
  }

  @Test
  void eachDescriptorIsDecidedOnItsOwnAndAnsweredInOrder() throws IOException {
    var stub = start(POLICY);
    stub.shouldRateLimit(edge(descriptor("user", "bob").setHitsAddend(UInt64Value.of(3))));

    RateLimitResponse r = stub.shouldRateLimit(edge(
        descriptor("path", "/a"),
        descriptor("user", "bob"),
        descriptor("other", "x"),
        descriptor("user", "carol")));

    assertThat(r.getOverallCode()).isEqualTo(Code.OVER_LIMIT);
    assertThat(r.getStatusesList()).extracting(DescriptorStatus::getCode)
        .containsExactly(Code.OK, Code.OVER_LIMIT, Code.OK, Code.OK);
    assertThat(r.getStatuses(0).getCurrentLimit().getUnit()).isEqualTo(Unit.HOUR);
    assertThat(r.getStatuses(0).getLimitRemaining()).isEqualTo(99);
    assertThat(r.getStatuses(2).hasCurrentLimit()).as("no rule matched").isFalse();
    assertThat(r.getStatuses(3).getLimitRemaining()).isEqualTo(2);
    // bob, over the limit, gives the headers.
    assertThat(r.getResponseHeadersToAddList()).first().isEqualTo(header("ratelimit-limit", "3"));
    assertThat(r.getResponseHeadersToAdd(1)).isEqualTo(header("ratelimit-remaining", "0"));
    assertThat(strings(r.getDynamicMetadata().getFieldsOrThrow("decision_ids")))
        .hasSize(4).doesNotHaveDuplicates().allMatch(id -> id.matches("[0-9a-f]{16}"));
    assertThat(strings(r.getDynamicMetadata().getFieldsOrThrow("matched_rules")))
        .containsExactly("limit-paths", "limit-users");
    assertThat(strings(descriptors(r).get(2).getStructValue().getFieldsOrThrow("matched_rules")))
        .isEmpty();
    assertThat(descriptorsCounted("unmatched")).isEqualTo(1);
    assertThat(descriptorsCounted("over_limit")).isEqualTo(1);
    assertThat(descriptorsCounted("ok")).isEqualTo(3); // bob's first call, /a, carol
  }

  @Test
  void allDescriptorsOfARequestReachEachHandlerInOneBatch() throws IOException {
    var stub = start(POLICY);

    stub.shouldRateLimit(edge(
        descriptor("user", "a"), descriptor("path", "/a"), descriptor("user", "b"),
        descriptor("other", "x"), descriptor("user", "c"), descriptor("path", "/b")));
    stub.shouldRateLimit(edge(descriptor("user", "a")));

    assertThat(window.batches).containsExactly(":3", "path:2", ":1");
    assertThat(window.calls).extracting(c -> c.dimensions().values().iterator().next())
        .containsExactly("a", "b", "c", "/a", "/b", "a");
  }

  @Test
  void hitsAddendZeroIsOneAndFiveIsFiveAndTheRulesSeeIt() throws IOException {
    var stub = start(POLICY.replace("limit: 3,", "limit: 10,"));

    RateLimitResponse zero = stub.shouldRateLimit(edge(descriptor("user", "dave")));
    RateLimitResponse five =
        stub.shouldRateLimit(edge(descriptor("user", "dave")).toBuilder().setHitsAddend(5).build());
    RateLimitResponse tooMany =
        stub.shouldRateLimit(edge(descriptor("user", "dave")).toBuilder().setHitsAddend(5).build());

    assertThat(zero.getStatuses(0).getLimitRemaining()).isEqualTo(9);
    assertThat(five.getStatuses(0).getLimitRemaining()).isEqualTo(4);
    assertThat(tooMany.getOverallCode()).isEqualTo(Code.OVER_LIMIT);
    assertThat(tooMany.getStatuses(0).getLimitRemaining()).as("4 left, 5 asked").isEqualTo(4);
    assertThat(window.calls).extracting(c -> c.request().amount()).containsExactly(1L, 5L, 5L);
  }

  @Test
  void aDescriptorsLimitOverrideReachesTheHandler() throws IOException {
    var stub = start(POLICY);

    RateLimitResponse r = stub.shouldRateLimit(edge(
        descriptor("user", "vip").setLimit(
            RateLimitOverride.newBuilder().setRequestsPerUnit(1000).setUnit(RateLimitUnit.HOUR)),
        descriptor("user", "erin")));

    assertThat(window.calls).extracting(c -> c.request().limitOverride())
        .containsExactly(new QuotaRequest.Limit(1000, 3600), null);
    assertThat(r.getStatuses(0).getCurrentLimit().getRequestsPerUnit()).isEqualTo(1000);
    assertThat(r.getStatuses(0).getCurrentLimit().getUnit()).isEqualTo(Unit.HOUR);
    assertThat(r.getStatuses(0).getLimitRemaining()).isEqualTo(999);
    assertThat(r.getStatuses(1).getCurrentLimit().getRequestsPerUnit()).isEqualTo(3);
  }

  @Test
  void anUnknownDomainAndNoDescriptorsAreOk() throws IOException {
    var stub = start(POLICY);

    RateLimitResponse unknown = stub.shouldRateLimit(RateLimitRequest.newBuilder()
        .setDomain("nobody").addDescriptors(descriptor("user", "alice")).build());
    RateLimitResponse none =
        stub.shouldRateLimit(RateLimitRequest.newBuilder().setDomain("edge").build());

    assertThat(unknown.getOverallCode()).isEqualTo(Code.OK);
    assertThat(unknown.getStatusesList())
        .containsExactly(DescriptorStatus.newBuilder().setCode(Code.OK).build());
    assertThat(unknown.getResponseHeadersToAddList()).isEmpty();
    assertThat(none.getOverallCode()).isEqualTo(Code.OK);
    assertThat(none.getStatusesList()).isEmpty();
    assertThat(descriptorsCounted("unmatched")).isEqualTo(1);
    assertThat(window.calls).isEmpty();
  }

  @Test
  void aFailingHandlerResolvesByTheFailurePolicy() throws Exception {
    String failing = """
        handlers: [{name: q, adapter: window, params: {behavior: throw}}]
        instances: [{name: i, template: quota, params: {dimensions: {user: "ratelimit.descriptor['user']"}}}]
        rules: [{name: r, actions: [{handler: q, instances: [i]}]}]
        """;
    var stub = start(failing);
    RateLimitResponse closed = stub.shouldRateLimit(edge(descriptor("user", "alice")));
    assertThat(closed.getOverallCode()).isEqualTo(Code.OVER_LIMIT);
    assertThat(closed.getStatuses(0).hasCurrentLimit()).isFalse();
    assertThat(closed.getDynamicMetadata().getFieldsOrThrow("error").getStringValue())
        .contains("allocate blew up");
    stop();

    stub = start("settings: {failurePolicy: FAIL_OPEN}\n" + failing);
    RateLimitResponse open = stub.shouldRateLimit(edge(descriptor("user", "alice")));
    assertThat(open.getOverallCode()).isEqualTo(Code.OK);
    assertThat(open.getStatusesList())
        .containsExactly(DescriptorStatus.newBuilder().setCode(Code.OK).build());
  }

  @Test
  void anUnexpectedErrorOfTheFrontEndIsAnsweredByTheFailurePolicyNeverAGrpcError()
      throws Exception {
    String buggy = """
        handlers: [{name: q, adapter: window, params: {behavior: null-window}}]
        instances: [{name: i, template: quota, params: {dimensions: {user: "ratelimit.descriptor['user']"}}}]
        rules: [{name: r, actions: [{handler: q, instances: [i]}]}]
        """;
    var stub = start(buggy);
    RateLimitResponse closed =
        stub.shouldRateLimit(edge(descriptor("user", "a"), descriptor("user", "b")));
    assertThat(closed.getOverallCode()).isEqualTo(Code.OVER_LIMIT);
    assertThat(closed.getStatusesList()).extracting(DescriptorStatus::getCode)
        .containsExactly(Code.OVER_LIMIT, Code.OVER_LIMIT);
    assertThat(closed.getDynamicMetadata().getFieldsOrThrow("error").getStringValue())
        .startsWith("ratelimit internal error: java.lang.NullPointerException");
    assertThat(Engines.counter(engine, "arbiter_ratelimit_internal_errors_total")).isEqualTo(1);
    stop();

    stub = start("settings: {failurePolicy: FAIL_OPEN}\n" + buggy);
    assertThat(stub.shouldRateLimit(edge(descriptor("user", "a"))).getOverallCode())
        .isEqualTo(Code.OK);
  }

  @Test
  void requestsOverTheLimitsAreAnsweredByTheFailurePolicyWithOneStatusEach() throws Exception {
    var stub = start(POLICY);
    RateLimitRequest.Builder huge = RateLimitRequest.newBuilder().setDomain("edge");
    for (int i = 0; i < 10_000; i++) {
      huge.addDescriptors(descriptor("user", "u" + i));
    }

    RateLimitResponse closed = stub.shouldRateLimit(huge.build());

    assertThat(closed.getOverallCode()).isEqualTo(Code.OVER_LIMIT);
    assertThat(closed.getStatusesCount()).isEqualTo(10_000);
    assertThat(closed.getDynamicMetadata().getFieldsOrThrow("rejected").getStringValue())
        .isEqualTo("too_many_descriptors");
    assertThat(closed.getDynamicMetadata().getFieldsOrThrow("error").getStringValue())
        .isEqualTo("request not evaluated: 10000 descriptors, more than the limit of 1000");
    assertThat(window.calls).as("nothing consumed").isEmpty();
    assertThat(Engines.counter(engine, "arbiter_ratelimit_rejected_total",
        "reason", "too_many_descriptors")).isEqualTo(1);
    stop();

    stub = start("settings: {failurePolicy: FAIL_OPEN}\n" + POLICY);
    RateLimitResponse open = stub.shouldRateLimit(huge.build());
    assertThat(open.getOverallCode()).isEqualTo(Code.OK);
    assertThat(open.getStatusesList()).hasSize(10_000)
        .allMatch(s -> s.getCode() == Code.OK && !s.hasCurrentLimit());
  }

  @Test
  void theCountingTestAdapterWorksThroughTheFrontEndToo() throws IOException {
    var stub = start("""
        handlers: [{name: q, adapter: counter, params: {limit: 1}}]
        instances: [{name: i, template: quota, params: {dimensions: {ip: "ratelimit.descriptor['remote_address']"}}}]
        rules: [{name: per-ip, match: "'remote_address' in ratelimit.descriptor", actions: [{handler: q, instances: [i]}]}]
        """);

    RateLimitRequest r = edge(descriptor("remote_address", "10.0.0.1"));
    assertThat(stub.shouldRateLimit(r).getOverallCode()).isEqualTo(Code.OK);
    assertThat(stub.shouldRateLimit(r).getOverallCode()).isEqualTo(Code.OVER_LIMIT);
  }

  // --- asynchronous answers and cancellation ----------------------------------------------------

  private static final String PENDING = """
      settings: {handlerTimeout: 1m}
      handlers: [{name: q, adapter: window, params: {behavior: pending}}]
      instances: [{name: i, template: quota, params: {dimensions: {user: "ratelimit.descriptor['user']"}}}]
      rules: [{name: gated, actions: [{handler: q, instances: [i]}]}]
      """;

  private static final class Recorder implements StreamObserver<RateLimitResponse> {
    final CompletableFuture<RateLimitResponse> response = new CompletableFuture<>();

    @Override
    public void onNext(RateLimitResponse value) {
      response.complete(value);
    }

    @Override
    public void onError(Throwable t) {
      response.completeExceptionally(t);
    }

    @Override
    public void onCompleted() {}
  }

  @Test
  void answersWhenTheLastDescriptorIsDecided() throws Exception {
    start(PENDING);
    Recorder recorder = new Recorder();

    RateLimitServiceGrpc.newStub(channel)
        .shouldRateLimit(edge(descriptor("user", "a"), descriptor("user", "b")), recorder);
    WindowQuotaAdapter.Pending first = window.pending.poll(10, TimeUnit.SECONDS);
    WindowQuotaAdapter.Pending second = window.pending.poll(10, TimeUnit.SECONDS);
    assertThat(second).as("both descriptors dispatched at once").isNotNull();
    second.result().complete(
        new QuotaResult(0, 5, 0, Duration.ofSeconds(4), Duration.ofSeconds(5)));
    assertThat(recorder.response).isNotDone();
    first.result().complete(
        new QuotaResult(1, 5, 4, Duration.ofSeconds(9), Duration.ofSeconds(10)));

    RateLimitResponse r = recorder.response.get(10, TimeUnit.SECONDS);
    assertThat(r.getStatusesList()).extracting(DescriptorStatus::getCode)
        .containsExactly(Code.OK, Code.OVER_LIMIT);
    assertThat(r.getStatuses(1).getCurrentLimit().getUnit()).isEqualTo(Unit.SECOND);
  }

  @Test
  void aCallCancelledBeforeItsAnswerIsCountedNotAnswered() throws Exception {
    start(PENDING);
    Recorder recorder = new Recorder();
    Context.CancellableContext client = Context.current().withCancellation();

    client.run(() -> RateLimitServiceGrpc.newStub(channel)
        .shouldRateLimit(edge(descriptor("user", "a")), recorder));
    WindowQuotaAdapter.Pending pending = window.pending.poll(10, TimeUnit.SECONDS);
    assertThat(pending).isNotNull();
    CountDownLatch serverSawCancel = new CountDownLatch(1);
    pending.context().addListener(c -> serverSawCancel.countDown(), Runnable::run);
    client.cancel(null);
    assertThat(serverSawCancel.await(10, TimeUnit.SECONDS)).isTrue();

    // The answer is now computed on this thread and must be dropped quietly.
    pending.result().complete(
        new QuotaResult(1, 5, 4, Duration.ofSeconds(9), Duration.ofSeconds(10)));

    assertThat(Engines.counter(engine, "arbiter_ratelimit_cancelled_total")).isEqualTo(1);
    assertThat(recorder.response).isCompletedExceptionally();
    assertThat(Status.fromThrowable(recorder.response.handle((r, t) -> t).join()).getCode())
        .isEqualTo(Status.Code.CANCELLED);
    assertThat(Engines.counter(engine, "arbiter_ratelimit_internal_errors_total")).isZero();
  }

  @Test
  void theAttributesReachTheRules() throws IOException {
    var stub = start("""
        handlers: [{name: q, adapter: window, params: {limit: 100}}]
        instances:
        - name: i
          template: quota
          params:
            dimensions:
              domain: ratelimit.domain
              user: "ratelimit.descriptor['user']"
              hits: "string(ratelimit.hits_addend)"
        rules: [{name: r, match: "ratelimit.hits_addend >= 2", actions: [{handler: q, instances: [i]}]}]
        """);

    stub.shouldRateLimit(edge(descriptor("user", "a")));
    stub.shouldRateLimit(
        edge(descriptor("user", "a", "user", "b")).toBuilder().setHitsAddend(2).build());

    assertThat(window.calls).singleElement().satisfies(c -> assertThat(c.dimensions())
        .isEqualTo(Map.of("domain", "edge", "user", "a", "hits", "2")));
  }
}
