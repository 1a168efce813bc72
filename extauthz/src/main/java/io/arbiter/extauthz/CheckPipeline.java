package io.arbiter.extauthz;

import com.codahale.metrics.Counter;
import io.arbiter.engine.CheckDecision;
import io.arbiter.engine.PolicyEngine;
import io.arbiter.engine.config.ConfigSnapshot;
import io.arbiter.engine.config.Settings;
import io.arbiter.engine.spi.LogLimiter;
import io.arbiter.extauthz.CheckResponses.Outcome;
import com.google.protobuf.InvalidProtocolBufferException;
import io.envoyproxy.envoy.service.auth.v3.CheckRequest;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;

/**
 * One check from request to response: map (or reject over a limit), decide, answer. Its stage never
 * completes exceptionally: an unexpected exception anywhere becomes the serving config's failure
 * outcome (fail-open allows; fail-closed denies with UNAVAILABLE and {@code failureHttpStatus}),
 * counted in {@code arbiter_extauthz_internal_errors_total} and logged (throttled) with the
 * decision id it answers with. Thread-safe.
 */
final class CheckPipeline {
  private static final System.Logger LOG = System.getLogger("arbiter.extauthz");

  private final PolicyEngine engine;
  private final CheckRequestMapper mapper;
  private final Counter internalErrors;
  private final LogLimiter logLimiter = new LogLimiter(1);

  CheckPipeline(PolicyEngine engine) {
    this.engine = engine;
    this.mapper = new CheckRequestMapper(engine.services().metrics());
    this.internalErrors =
        engine.services().metrics().counter(
            "arbiter_extauthz_internal_errors_total",
            "Checks the ext_authz front end answered with the failure policy after an unexpected"
                + " error of its own.");
  }

  /**
   * Runs a representative request through everything a check does except the handlers (parse,
   * map, every rule's expressions, answer, serialize), without effects; see {@link
   * PolicyEngine#warmUp}.
   */
  void warmUp() {
    try {
      CheckRequest sample = CheckRequest.parseFrom(SAMPLE.toByteArray());
      Settings settings = engine.current().map(ConfigSnapshot::settings).orElse(Settings.DEFAULT);
      CheckRequestMapper.Mapping mapping = mapper.map(sample, settings);
      if (!mapping.rejected()) {
        engine.warmUp(mapping.attributes());
      }
      for (io.arbiter.engine.spi.CheckResult r : List.of(
          io.arbiter.engine.spi.CheckResult.ok().withResponseHeaders(
              List.of(new io.arbiter.engine.spi.HeaderValue("x-warm-up", "1", false))),
          io.arbiter.engine.spi.CheckResult.deny(io.arbiter.engine.spi.Code.PERMISSION_DENIED, "warm-up"))) {
        CheckResponseMapper.toResponse(new CheckDecision(PolicyEngine.newDecisionId(), r, List.of("warm-up"),
            "", List.of())).toByteArray();
      }
    } catch (com.google.protobuf.InvalidProtocolBufferException | RuntimeException e) {
      LOG.log(System.Logger.Level.DEBUG, "warm-up failed; the first checks will be slower", e);
    }
  }

  /** An HTTP request as Envoy describes it, with peers, TLS, headers and a query. */
  private static final CheckRequest SAMPLE = sample();

  private static CheckRequest sample() {
    var peer = io.envoyproxy.envoy.config.core.v3.Address.newBuilder()
        .setSocketAddress(io.envoyproxy.envoy.config.core.v3.SocketAddress.newBuilder()
            .setAddress("10.0.0.1").setPortValue(43210));
    var http = io.envoyproxy.envoy.service.auth.v3.AttributeContext.HttpRequest.newBuilder()
        .setId("1").setMethod("GET").setPath("/warm-up?x=1").setHost("arbiter.local").setScheme("https")
        .setProtocol("HTTP/2").setSize(0)
        .putHeaders(":authority", "arbiter.local").putHeaders(":path", "/warm-up?x=1")
        .putHeaders("user-agent", "arbiter-warm-up").putHeaders("x-request-id", "1")
        .putHeaders("content-type", "application/grpc");
    return CheckRequest.newBuilder()
        .setAttributes(io.envoyproxy.envoy.service.auth.v3.AttributeContext.newBuilder()
            .setSource(io.envoyproxy.envoy.service.auth.v3.AttributeContext.Peer.newBuilder()
                .setAddress(peer).setPrincipal("spiffe://cluster.local/ns/default/sa/warm-up"))
            .setDestination(io.envoyproxy.envoy.service.auth.v3.AttributeContext.Peer.newBuilder()
                .setAddress(peer))
            .setRequest(io.envoyproxy.envoy.service.auth.v3.AttributeContext.Request.newBuilder()
                .setTime(com.google.protobuf.Timestamp.newBuilder().setSeconds(1))
                .setHttp(http))
            .putContextExtensions("warm-up", "1"))
        .build();
  }

  /** How a decision becomes what is sent: a response message, or its serialized bytes. */
  private interface Answer<T> {
    T of(CheckDecision decision);

    T rejected(CheckDecision decision, String reason);
  }

  private static final Answer<Outcome> OUTCOME = new Answer<>() {
    @Override
    public Outcome of(CheckDecision decision) {
      return new Outcome(decision, CheckResponseMapper.toResponse(decision));
    }

    @Override
    public Outcome rejected(CheckDecision decision, String reason) {
      return new Outcome(decision, CheckResponseMapper.toResponse(decision, reason));
    }
  };

  private static final Answer<byte[]> BYTES = new Answer<>() {
    @Override
    public byte[] of(CheckDecision decision) {
      return CheckResponseBytes.of(decision);
    }

    @Override
    public byte[] rejected(CheckDecision decision, String reason) {
      return CheckResponseMapper.toResponse(decision, reason).toByteArray();
    }
  };

  CompletionStage<Outcome> check(CheckRequest request) {
    return check(request, 0);
  }

  /** @param queuedNanos how long the call waited for a thread, for load shedding */
  CompletionStage<Outcome> check(CheckRequest request, long queuedNanos) {
    try {
      Optional<ConfigSnapshot> snapshot = engine.current();
      return decide(snapshot, mapper.map(request, settings(snapshot)), queuedNanos, OUTCOME);
    } catch (RuntimeException e) {
      return CompletableFuture.completedFuture(failure(e));
    }
  }

  /**
   * The same for a serialized request, read straight off the wire ({@link
   * CheckRequestMapper#map(byte[], Settings)}), answered with the serialized {@code CheckResponse}
   * ({@link CheckResponseBytes}): what the gRPC server binds.
   *
   * @throws InvalidProtocolBufferException when {@code wire} is not a well-formed {@code
   *     CheckRequest}; there is nothing to decide then
   */
  CompletionStage<byte[]> check(byte[] wire, long queuedNanos) throws InvalidProtocolBufferException {
    try {
      Optional<ConfigSnapshot> snapshot = engine.current();
      return decide(snapshot, mapper.map(wire, settings(snapshot)), queuedNanos, BYTES);
    } catch (RuntimeException e) {
      return CompletableFuture.completedFuture(BYTES.of(failureDecision(e)));
    }
  }

  private static Settings settings(Optional<ConfigSnapshot> snapshot) {
    return snapshot.map(ConfigSnapshot::settings).orElse(Settings.DEFAULT);
  }

  private <T> CompletionStage<T> decide(Optional<ConfigSnapshot> snapshot,
      CheckRequestMapper.Mapping mapping, long queuedNanos, Answer<T> answer) {
    if (mapping.rejected()) {
      CheckRequestMapper.Rejection rejection = mapping.rejection();
      CheckDecision decision =
          new CheckDecision(
              PolicyEngine.newDecisionId(), rejection.toResult(), List.of(),
              snapshot.map(ConfigSnapshot::version).orElse(""), List.of());
      return CompletableFuture.completedFuture(answer.rejected(decision, rejection.reason()));
    }
    return engine.check(mapping.attributes(), queuedNanos)
        .handle((decision, error) -> answer(decision, error, answer));
  }

  private <T> T answer(CheckDecision decision, Throwable error, Answer<T> answer) {
    if (error != null) {
      return answer.of(failureDecision(error));
    }
    try {
      return answer.of(decision);
    } catch (RuntimeException e) {
      return answer.of(failureDecision(e));
    }
  }

  /** The failure outcome for {@code error}, counted and logged. */
  Outcome failure(Throwable error) {
    return OUTCOME.of(failureDecision(error));
  }

  /** The failure decision for {@code error}, counted and logged. */
  private CheckDecision failureDecision(Throwable error) {
    Throwable cause =
        error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
    CheckDecision decision = engine.failureDecision("ext_authz internal error: " + cause);
    String id = decision.id();
    boolean open = decision.result().allowed();
    internalErrors.inc();
    long suppressed = logLimiter.tryAcquire(System.currentTimeMillis());
    if (suppressed >= 0) {
      LOG.log(
          System.Logger.Level.ERROR,
          () ->
              "decision " + id + ": ext_authz check failed, resolved by fail-"
                  + (open ? "open" : "closed")
                  + (suppressed > 0 ? " (" + suppressed + " similar messages suppressed)" : ""),
          cause);
    }
    return decision;
  }
}
