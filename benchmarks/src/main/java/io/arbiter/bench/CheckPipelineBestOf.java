package io.arbiter.bench;

import io.arbiter.engine.PolicyEngine;
import io.arbiter.engine.config.Settings;
import io.arbiter.engine.metrics.Metrics;
import io.arbiter.extauthz.AuthorizationService;
import io.arbiter.extauthz.CheckRequestMapper;
import io.envoyproxy.envoy.service.auth.v3.CheckRequest;
import io.envoyproxy.envoy.service.auth.v3.CheckResponse;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Arrays;

/**
 * The CPU cost per call of the ext_authz server path in one thread and one warmed JVM, against the
 * bare baseline's: the part of {@code load/cache.sh} that is Arbiter's own, without HTTP/2.
 *
 * <ul>
 *   <li>{@code bare}: what {@link BareAuthorizationServer} does per call (parse, answer OK,
 *       serialize);
 *   <li>{@code wireMap}: {@link CheckRequestMapper#map(byte[], Settings)}, the server's reading of
 *       the request straight off the wire;
 *   <li>{@code parseMap}: the generated parse, then {@link CheckRequestMapper#map(CheckRequest,
 *       Settings)} (what the server did before it read the wire itself);
 *   <li>{@code cached}: {@link CheckPipelineBenchmark}'s {@code serverPath} (the wire bytes to the
 *       serialized answer) with the decision cache
 *       on (every call after the first is a hit), the {@code RuleSets.yaml(10)} config of {@code
 *       cache.sh};
 *   <li>{@code uncached}: the same with the cache off.
 * </ul>
 *
 * Each figure is the best of many batches of thread CPU time, so on a shared machine it is a lower
 * bound that moves less than wall time. {@code bare / cached} is the in-process counterpart of
 * {@code cache.sh}'s "× bare" for {@code cache-10}.
 *
 * <p>Run: {@code java -Xms1g -Xmx1g -cp benchmarks/target/benchmarks.jar
 * io.arbiter.bench.CheckPipelineBestOf [batches=300] [calls-per-batch=500] [only=op|all] [rules=10]}
 */
public final class CheckPipelineBestOf {
  private CheckPipelineBestOf() {}

  public static void main(String[] args) throws Exception {
    int batches = args.length > 0 ? Integer.parseInt(args[0]) : 300;
    int perBatch = args.length > 1 ? Integer.parseInt(args[1]) : 500;
    String only = args.length > 2 && !args[2].equals("all") ? args[2] : null;
    int rules = args.length > 3 ? Integer.parseInt(args[3]) : CheckPipelineBenchmark.RULES;
    byte[] wire = Requests.standard().toByteArray();
    PolicyEngine cachedEngine = Engines.serving(RuleSets.yaml(rules));
    PolicyEngine uncachedEngine = Engines.serving(RuleSets.yaml(rules) + RuleSets.NO_CACHE);
    AuthorizationService cached = new AuthorizationService(cachedEngine);
    AuthorizationService uncached = new AuthorizationService(uncachedEngine);
    CheckRequestMapper mapper = new CheckRequestMapper(new Metrics());
    Capture<CheckResponse> capture = new Capture<>();
    Capture<byte[]> wireCapture = new Capture<>();
    ThreadMXBean cpu = ManagementFactory.getThreadMXBean();
    long checksum = 0;
    String[] ops = {"bare", "wireMap", "parseMap", "cached", "uncached"};
    double[] best = new double[ops.length];
    try {
      for (int pass = 0; pass < 2; pass++) { // the first pass warms the JIT up
        Arrays.fill(best, Double.MAX_VALUE);
        for (int round = 0; round < batches; round++) {
          for (int o = 0; o < ops.length; o++) {
            if (only != null && !ops[o].equals(only)) {
              continue;
            }
            long t0 = cpu.getCurrentThreadCpuTime();
            for (int i = 0; i < perBatch; i++) {
              switch (o) {
                case 0 -> {
                  capture.onNext(BareAuthorizationServer.answer(CheckRequest.parseFrom(wire)));
                  checksum += capture.response.toByteArray().length;
                }
                case 1 -> checksum += mapper.map(wire, Settings.DEFAULT).attributes().size();
                case 2 -> checksum +=
                    mapper.map(CheckRequest.parseFrom(wire), Settings.DEFAULT).attributes().size();
                default -> {
                  wireCapture.response = null;
                  (o == 3 ? cached : uncached).check(wire, wireCapture);
                  checksum += wireCapture.response.length;
                }
              }
            }
            best[o] = Math.min(best[o], (double) (cpu.getCurrentThreadCpuTime() - t0) / perBatch);
            if (o >= 3 && CheckPipelineBenchmark.parsed(wireCapture.response).getOkResponse()
                .getHeadersCount() != 1) {
              throw new IllegalStateException(
                  "unexpected answer: " + CheckPipelineBenchmark.parsed(wireCapture.response));
            }
          }
        }
      }
      for (int o = 0; o < ops.length; o++) {
        if (only == null || ops[o].equals(only)) {
          System.out.printf("%-9s %7.0f ns/call%n", ops[o], best[o]);
        }
      }
      if (only == null) {
        System.out.printf("bare/cached %.2f  bare/uncached %.2f  (checksum %d)%n",
            best[0] / best[3], best[0] / best[4], checksum);
      }
    } finally {
      Engines.close(cachedEngine);
      Engines.close(uncachedEngine);
    }
  }
}
