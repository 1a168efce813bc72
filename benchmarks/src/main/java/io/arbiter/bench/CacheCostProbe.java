package io.arbiter.bench;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.openjdk.jmh.infra.Blackhole;

/**
 * {@link DecisionCacheBenchmark}'s operations timed in <em>CPU time of the measuring thread</em>
 * ({@code ThreadMXBean.getCurrentThreadCpuTime}) instead of wall time, for a machine shared with
 * other work: time the thread spends descheduled does not count, so other tenants inflate the
 * result only through caches and memory bandwidth, not through the scheduler. JMH
 * ({@code benchmarks/jmh.sh DecisionCacheBenchmark}) is the reference on a quiet machine.
 *
 * <p>Same setup, same checks (it calls the benchmark's own {@code setup}, operations and {@code
 * tearDown}, which verifies the hit and miss counts), results into a JMH {@link Blackhole}. Per
 * operation: warm up until it has used {@code warmupCpuMs} of CPU (default 4,000: the JIT must
 * finish first, and its compiler threads compete with the other tenants too), then {@code rounds}
 * (default 15) rounds of {@code roundMs} (default 400) wall milliseconds; per round CPU ns/op, wall
 * ns/op and bytes allocated per op ({@code getThreadAllocatedBytes}, what JMH's {@code -prof gc}
 * normalizes). Prints the median and the min/max over rounds, and {@code noop} (the loop and an
 * interface call) to subtract.
 *
 * <pre>
 * java -cp benchmarks/target/benchmarks.jar io.arbiter.bench.CacheCostProbe [CONFIG,...] [warmupCpuMs] [rounds] [roundMs] [OP,...]
 * </pre>
 */
public final class CacheCostProbe {
  private static final com.sun.management.ThreadMXBean THREADS =
      (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

  private CacheCostProbe() {}

  record Result(String op, double cpuMedian, double cpuMin, double cpuMax, double wallMedian,
      double allocMedian, long ops) {}

  public static void main(String[] args) throws Exception {
    String[] configs = (args.length > 0 ? args[0] : "10,10+headers").split(",");
    java.util.Set<String> only = args.length > 4 ? java.util.Set.of(args[4].split(",")) : null;
    long warmupCpuMs = args.length > 1 ? Long.parseLong(args[1]) : 4000;
    int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 15;
    long roundMs = args.length > 3 ? Long.parseLong(args[3]) : 400;
    Blackhole bh = new Blackhole(
        "Today's password is swordfish. I understand instantiating Blackholes directly is dangerous.");
    long tid = Thread.currentThread().getId();
    System.out.printf("CacheCostProbe: warm-up %d ms CPU per operation, %d rounds of %d ms; load average %s%n",
        warmupCpuMs, rounds, roundMs, loadavg());
    Map<String, List<Result>> all = new LinkedHashMap<>();
    for (String config : configs) {
      DecisionCacheBenchmark b = new DecisionCacheBenchmark();
      b.config = config;
      b.setup();
      Map<String, Callable<Object>> ops = new LinkedHashMap<>();
      ops.put("noop", () -> config);
      ops.put("key", b::key);
      ops.put("hashKeyStrings", b::hashKeyStrings);
      ops.put("hit", b::hit);
      ops.put("off", b::off);
      ops.put("empty", b::empty);
      ops.put("miss", b::miss);
      ops.put("offDistinct", b::offDistinct);
      ops.put("parseMapOnly", b::parseMapOnly);
      ops.put("parseMapKey", b::parseMapKey);
      ops.put("parseMapHit", b::parseMapHit);
      List<Result> results = new ArrayList<>();
      try {
        if (only != null) {
          ops.keySet().retainAll(only);
        }
        for (Map.Entry<String, Callable<Object>> op : ops.entrySet()) {
          Callable<Object> c = op.getValue();
          long cpuEnd = THREADS.getCurrentThreadCpuTime() + warmupCpuMs * 1_000_000L;
          while (THREADS.getCurrentThreadCpuTime() < cpuEnd) {
            for (int i = 0; i < 1024; i++) {
              bh.consume(c.call());
            }
          }
          double[] cpu = new double[rounds];
          double[] wall = new double[rounds];
          double[] alloc = new double[rounds];
          long total = 0;
          for (int r = 0; r < rounds; r++) {
            long n = 0;
            long a0 = THREADS.getThreadAllocatedBytes(tid);
            long c0 = THREADS.getCurrentThreadCpuTime();
            long w0 = System.nanoTime();
            long wEnd = w0 + roundMs * 1_000_000L;
            long w1;
            do {
              for (int i = 0; i < 256; i++) {
                bh.consume(c.call());
              }
              n += 256;
              w1 = System.nanoTime();
            } while (w1 < wEnd);
            long c1 = THREADS.getCurrentThreadCpuTime();
            long a1 = THREADS.getThreadAllocatedBytes(tid);
            cpu[r] = (c1 - c0) / (double) n;
            wall[r] = (w1 - w0) / (double) n;
            alloc[r] = (a1 - a0) / (double) n;
            total += n;
          }
          Result res = new Result(op.getKey(), median(cpu), Arrays.stream(cpu).min().orElse(0),
              Arrays.stream(cpu).max().orElse(0), median(wall), median(alloc), total);
          results.add(res);
          System.out.printf("[%s] %-13s cpu %,10.0f ns/op (min %,.0f, max %,.0f)  wall %,10.0f ns/op  alloc %,7.0f B/op  (%,d ops)%n",
              config, res.op, res.cpuMedian, res.cpuMin, res.cpuMax, res.wallMedian, res.allocMedian, res.ops);
        }
      } finally {
        b.tearDown();
      }
      all.put(config, results);
    }
    System.out.printf("%nload average at end: %s%n%n", loadavg());
    System.out.println("| config | operation | CPU ns/op (median) | min – max over rounds | wall ns/op (median) | alloc B/op |");
    System.out.println("| --- | --- | ---: | ---: | ---: | ---: |");
    all.forEach((config, rs) -> rs.forEach(r -> System.out.printf("| %s | %s | %,.0f | %,.0f – %,.0f | %,.0f | %,.0f |%n",
        config, r.op, r.cpuMedian, r.cpuMin, r.cpuMax, r.wallMedian, r.allocMedian)));
    System.out.println();
    System.out.println("| config | derived (CPU ns/op, medians) | value |");
    System.out.println("| --- | --- | ---: |");
    all.forEach((config, rs) -> {
      Map<String, Double> m = new LinkedHashMap<>();
      rs.forEach(r -> m.put(r.op, r.cpuMedian));
      Map<String, Double> a = new LinkedHashMap<>();
      rs.forEach(r -> a.put(r.op, r.allocMedian));
      derived(config, "key − noop (key on hashed strings)", m, a, "key", "noop");
      derived(config, "key + hashKeyStrings − 2 noop (key, every hash computed: upper bound)", m, a,
          "key", "noop", "hashKeyStrings", "noop");
      derived(config, "parseMapKey − parseMapOnly (key, every hash computed)", m, a, "parseMapKey", "parseMapOnly");
      derived(config, "hit − empty (a cached check beyond the engine's floor)", m, a, "hit", "empty");
      derived(config, "off − hit (what a hit saves)", m, a, "off", "hit");
      derived(config, "miss − offDistinct (what a miss adds)", m, a, "miss", "offDistinct");
      derived(config, "parseMapHit − parseMapOnly (cached check, fresh strings)", m, a, "parseMapHit", "parseMapOnly");
    });
  }

  /** Prints the sum of (plus − minus) pairs of CPU and allocation medians, when all ran. */
  private static void derived(String config, String what, Map<String, Double> cpu,
      Map<String, Double> alloc, String... plusMinus) {
    double ns = 0;
    double bytes = 0;
    for (int i = 0; i < plusMinus.length; i += 2) {
      if (!cpu.containsKey(plusMinus[i]) || !cpu.containsKey(plusMinus[i + 1])) {
        return;
      }
      ns += cpu.get(plusMinus[i]) - cpu.get(plusMinus[i + 1]);
      bytes += alloc.get(plusMinus[i]) - alloc.get(plusMinus[i + 1]);
    }
    System.out.printf("| %s | %s | %,.0f ns, %,.0f B |%n", config, what, ns, bytes);
  }

  private static double median(double[] v) {
    double[] s = v.clone();
    Arrays.sort(s);
    return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  }

  private static String loadavg() {
    try {
      return String.join(" ", Arrays.copyOf(
          java.nio.file.Files.readString(java.nio.file.Path.of("/proc/loadavg")).trim().split(" "), 3));
    } catch (java.io.IOException e) {
      return "?";
    }
  }
}
