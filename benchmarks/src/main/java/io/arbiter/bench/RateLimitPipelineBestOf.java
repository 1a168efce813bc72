package io.arbiter.bench;

/**
 * The fastest of many batches of {@link RateLimitPipelineBenchmark}'s operations in one warmed JVM:
 * a lower bound of their cost that other processes on a shared machine disturb less than JMH's
 * average (a batch that was not interrupted is as fast as it gets). Not a replacement for JMH on a
 * quiet machine; its allocation figures come from JMH's {@code -prof gc}.
 *
 * <p>Run: {@code java -Xms1g -Xmx1g -cp benchmarks/target/benchmarks.jar
 * io.arbiter.bench.RateLimitPipelineBestOf [batches=300] [size=1000]}
 */
public final class RateLimitPipelineBestOf {
  private RateLimitPipelineBestOf() {}

  public static void main(String[] args) throws Exception {
    int batches = args.length > 0 ? Integer.parseInt(args[0]) : 300;
    int size = args.length > 1 ? Integer.parseInt(args[1]) : 1000;
    RateLimitPipelineBenchmark b = new RateLimitPipelineBenchmark();
    b.setup();
    try {
      // Twice over: the first pass also warms up the JIT.
      for (int pass = 0; pass < 2; pass++) {
        for (String op : new String[] {"bareServerPath", "engineQuota", "serverPath"}) {
          long best = Long.MAX_VALUE;
          for (int round = 0; round < batches; round++) {
            long t0 = System.nanoTime();
            for (int i = 0; i < size; i++) {
              switch (op) {
                case "engineQuota" -> b.engineQuota();
                case "serverPath" -> b.serverPath();
                default -> b.bareServerPath();
              }
            }
            best = Math.min(best, System.nanoTime() - t0);
          }
          if (pass == 1) {
            System.out.println(op + ": " + best / size + " ns/op (best of " + batches + " batches of "
                + size + ")");
          }
        }
      }
    } finally {
      b.tearDown();
    }
  }
}
