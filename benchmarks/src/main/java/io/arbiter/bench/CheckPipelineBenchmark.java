package io.arbiter.bench;

import io.arbiter.engine.PolicyEngine;
import io.arbiter.extauthz.AuthorizationService;
import io.arbiter.extauthz.CheckResponses;
import io.envoyproxy.envoy.service.auth.v3.CheckRequest;
import io.envoyproxy.envoy.service.auth.v3.CheckResponse;
import io.grpc.stub.StreamObserver;
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
 * One ext_authz check from request to response with the 10-rule {@link RuleSets} config and {@link
 * Requests#standard()} (allowed, two rules matched, one request header added).
 *
 * <ul>
 *   <li>{@code checkResponses}: {@link CheckResponses#check} (map, decide, build the {@code
 *       CheckResponse}) on an already-built request. It builds a fresh pipeline per call (the
 *       CLI's use), which the server does not.
 *   <li>{@code serverPath}: what the server does per call beyond HTTP/2: {@link
 *       AuthorizationService#check(byte[], StreamObserver)} on the request's wire bytes (one service
 *       instance, as bound to the gRPC server, which reads the bytes without building the generated
 *       message; the answer completes synchronously, already serialized).
 *   <li>{@code bareServerPath}: what the bare baseline ({@link BareAuthorizationServer}) does per
 *       call: parse, answer an empty OK response, serialize it. {@code serverPath - bareServerPath}
 *       (time and {@code gc.alloc.rate.norm}) is Arbiter's cost beyond gRPC's own.
 * </ul>
 *
 * <p>Its warm-up is longer than the other benchmarks': gRPC, protobuf and CEL code all get compiled,
 * and on 2 cores the first 3 to 5 seconds run 10 to 100 times slower than the steady state.
 *
 * <p>Run: {@code java -jar benchmarks/target/benchmarks.jar CheckPipelineBenchmark -prof gc}
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
@Warmup(iterations = 8, time = 1)
@Measurement(iterations = 5, time = 1)
public class CheckPipelineBenchmark {
  static final int RULES = 10;

  private PolicyEngine engine;
  private AuthorizationService service;
  private CheckRequest request;
  private byte[] wire;

  private final Capture<CheckResponse> capture = new Capture<>();
  private final Capture<byte[]> wireCapture = new Capture<>();

  /** {@code bytes} parsed (for checks outside the measured code). */
  static CheckResponse parsed(byte[] bytes) {
    try {
      return CheckResponse.parseFrom(bytes);
    } catch (com.google.protobuf.InvalidProtocolBufferException e) {
      throw new IllegalStateException(e);
    }
  }

  @Setup
  public void setup() throws Exception {
    engine = Engines.serving(RuleSets.yaml(RULES) + RuleSets.NO_CACHE);
    service = new AuthorizationService(engine);
    request = Requests.standard();
    wire = request.toByteArray();
    CheckResponses.Outcome outcome = CheckResponses.check(engine, request);
    Engines.expect(outcome.decision(), true, RuleSets.expectedMatches(RULES));
    serverPath();
    CheckResponse answer = parsed(wireCapture.response);
    if (answer.getStatus().getCode() != 0 || answer.getOkResponse().getHeadersCount() != 1) {
      throw new IllegalStateException("unexpected server answer: " + answer);
    }
  }

  @TearDown
  public void tearDown() {
    Engines.close(engine);
  }

  @Benchmark
  public CheckResponses.Outcome checkResponses() {
    return CheckResponses.check(engine, request);
  }

  @Benchmark
  public byte[] serverPath() throws Exception {
    wireCapture.response = null;
    service.check(wire, wireCapture); // the answer comes serialized
    return wireCapture.response;
  }

  @Benchmark
  public byte[] bareServerPath() throws Exception {
    CheckRequest parsed = CheckRequest.parseFrom(wire);
    capture.onNext(BareAuthorizationServer.answer(parsed));
    return capture.response.toByteArray();
  }
}
