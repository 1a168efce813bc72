package io.arbiter.bench;

import io.arbiter.engine.config.Settings;
import io.arbiter.engine.metrics.Metrics;
import io.arbiter.extauthz.CheckRequestMapper;
import io.envoyproxy.envoy.service.auth.v3.CheckRequest;
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
import org.openjdk.jmh.annotations.Warmup;

/**
 * Building the attribute bag from an Envoy CheckRequest: {@link CheckRequestMapper#map} on {@link
 * Requests#standard()} (peers with principals, 19 headers including {@code x-request-id} and {@code
 * user-agent}, a three-parameter query string, context extensions, filter metadata), under the
 * default limits.
 *
 * <ul>
 *   <li>{@code map}: a request whose string fields were already read once (protobuf caches the
 *       decoded {@code String}s), so this is the mapper alone.
 *   <li>{@code parseAndMap}: the request parsed from its wire bytes first, as gRPC hands it to the
 *       service; protobuf decodes each string field on first access, which the mapper then pays.
 *   <li>{@code wireMap}: {@link CheckRequestMapper#map(byte[], Settings)}, the server's path since
 *       {@code CheckWireDecoder}: the wire bytes straight to attributes, no generated message.
 *   <li>{@code parseOnly}: the parse alone, which gRPC does for any service (the bare baseline
 *       too). {@code parseAndMap - parseOnly} is what mapping costs Arbiter per call.
 * </ul>
 *
 * <p>Run: {@code java -jar benchmarks/target/benchmarks.jar AttributeBagBenchmark -prof gc}
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
public class AttributeBagBenchmark {
  private CheckRequestMapper mapper;
  private CheckRequest request;
  private byte[] wire;

  @Setup
  public void setup() {
    mapper = new CheckRequestMapper(new Metrics());
    request = Requests.standard();
    wire = request.toByteArray();
    if (mapper.map(request, Settings.DEFAULT).rejected()) {
      throw new IllegalStateException("the standard request is rejected");
    }
  }

  @Benchmark
  public CheckRequestMapper.Mapping map() {
    return mapper.map(request, Settings.DEFAULT);
  }

  @Benchmark
  public CheckRequestMapper.Mapping parseAndMap() throws Exception {
    return mapper.map(CheckRequest.parseFrom(wire), Settings.DEFAULT);
  }

  @Benchmark
  public CheckRequestMapper.Mapping wireMap() throws Exception {
    return mapper.map(wire, Settings.DEFAULT);
  }

  @Benchmark
  public CheckRequest parseOnly() throws Exception {
    return CheckRequest.parseFrom(wire);
  }
}
