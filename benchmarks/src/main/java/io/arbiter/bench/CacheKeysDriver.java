package io.arbiter.bench;

import io.envoyproxy.envoy.service.auth.v3.CheckResponse;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.StreamObserver;
import java.lang.management.ManagementFactory;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.LongAdder;

/**
 * A closed-loop gRPC load generator for the decision cache (what h2load cannot do: a different
 * body per request). Sends {@code envoy.service.auth.v3.Authorization/Check} with {@link
 * CacheRequests#withKey}{@code (k)}, {@code k} cycling through {@code --keys} distinct bearer
 * tokens ({@code --order cycle}: 0, 1, …, K−1, 0, …; {@code random}: uniform), keeping {@code
 * --connections × --streams} calls in flight, as h2load's {@code -c 4 -m 32} does.
 *
 * <p>Each request is the serialized template with seven digits rewritten (one 1.3 KB array copy;
 * the marshaller passes the bytes through), so the client's own cost does not depend on K. Every
 * answer is parsed and must be gRPC OK with {@code status.code == 0} (allowed); anything else is
 * counted and reported.
 *
 * <p>Runs {@code --warmup} seconds unmeasured, then {@code --duration} seconds measured. With
 * {@code --metrics URL} it fetches the server's Prometheus text right before and right after the
 * measured window into {@code OUT.metrics.before/after} (so the server's own counters cover the
 * same window). Writes {@code key=value} results to {@code --out} and stdout.
 *
 * <pre>
 * java -cp benchmarks.jar io.arbiter.bench.CacheKeysDriver --target 127.0.0.1:9191 --keys 100000 \
 *     --warmup 20 --duration 15 --metrics http://127.0.0.1:9901/metrics --out /tmp/k100000
 * </pre>
 */
public final class CacheKeysDriver {
  private static final MethodDescriptor<byte[], byte[]> CHECK =
      RawGrpc.unary("envoy.service.auth.v3.Authorization/Check");

  /** Latency buckets of 10 µs up to 2 s, then one overflow bucket. */
  private static final int BUCKET_US = 10;
  private static final int BUCKETS = 200_000;

  private final CacheRequests.Template template = CacheRequests.template();
  private final int keys;
  private final boolean random;
  private final AtomicLong sequence = new AtomicLong();
  private volatile boolean stop;
  private volatile boolean measuring;
  private final LongAdder ok = new LongAdder();
  private final LongAdder denied = new LongAdder();
  private final LongAdder errors = new LongAdder();
  private final LongAdder inflight = new LongAdder();
  private final AtomicLongArray latency = new AtomicLongArray(BUCKETS + 1);
  private volatile String firstProblem;

  private CacheKeysDriver(int keys, boolean random) {
    this.keys = keys;
    this.random = random;
  }

  private byte[] nextRequest() {
    int k = random ? ThreadLocalRandom.current().nextInt(keys) : (int) (sequence.getAndIncrement() % keys);
    byte[] out = template.base().clone();
    CacheRequests.Template.write(out, template.offset(), k);
    return out;
  }

  private void send(ManagedChannel channel) {
    if (stop) {
      return;
    }
    inflight.increment();
    long start = System.nanoTime();
    ClientCalls.asyncUnaryCall(channel.newCall(CHECK, CallOptions.DEFAULT), nextRequest(),
        new StreamObserver<>() {
          private byte[] answer;

          @Override
          public void onNext(byte[] value) {
            answer = value;
          }

          @Override
          public void onError(Throwable t) {
            inflight.decrement();
            if (measuring) {
              errors.increment();
            }
            problem(Status.fromThrowable(t).toString());
            send(channel);
          }

          @Override
          public void onCompleted() {
            long us = (System.nanoTime() - start) / 1000;
            inflight.decrement();
            boolean allowed;
            try {
              allowed = CheckResponse.parseFrom(answer).getStatus().getCode() == 0;
            } catch (Exception e) {
              allowed = false;
            }
            if (measuring) {
              if (allowed) {
                ok.increment();
                latency.incrementAndGet((int) Math.min(BUCKETS, us / BUCKET_US));
              } else {
                denied.increment();
              }
            }
            if (!allowed) {
              problem("an answer that is not an allow");
            }
            send(channel);
          }
        });
  }

  private void problem(String what) {
    if (firstProblem == null) {
      firstProblem = what;
    }
  }

  private double percentileMs(double q) {
    long total = 0;
    for (int i = 0; i <= BUCKETS; i++) {
      total += latency.get(i);
    }
    long rank = Math.max(1, (long) Math.ceil(q * total));
    long seen = 0;
    for (int i = 0; i <= BUCKETS; i++) {
      seen += latency.get(i);
      if (seen >= rank) {
        return (i + 1) * BUCKET_US / 1000.0; // upper edge of the bucket
      }
    }
    return Double.NaN;
  }

  public static void main(String[] args) throws Exception {
    Map<String, String> defaults = new LinkedHashMap<>();
    defaults.put("target", "127.0.0.1:9191");
    defaults.put("keys", "1000");
    defaults.put("order", "cycle");
    defaults.put("connections", "4");
    defaults.put("streams", "32");
    defaults.put("warmup", "20");
    defaults.put("duration", "15");
    defaults.put("metrics", "");
    defaults.put("out", "");
    defaults.put("server-pid", "");
    defaults.put("server-cpu", "");
    DriverOptions a = DriverOptions.parse("CacheKeysDriver", defaults, args);
    int keys = Integer.parseInt(a.get("keys"));
    if (keys < 1 || keys > CacheRequests.MAX_KEYS) {
      throw new IllegalArgumentException("--keys must be 1.." + CacheRequests.MAX_KEYS);
    }
    if (!a.get("order").equals("cycle") && !a.get("order").equals("random")) {
      throw new IllegalArgumentException("--order is cycle or random");
    }
    CacheKeysDriver d = new CacheKeysDriver(keys, a.get("order").equals("random"));
    String[] hostPort = a.get("target").split(":");
    int connections = Integer.parseInt(a.get("connections"));
    int streams = Integer.parseInt(a.get("streams"));
    List<ManagedChannel> channels = new ArrayList<>();
    for (int c = 0; c < connections; c++) {
      channels.add(NettyChannelBuilder.forAddress(hostPort[0], Integer.parseInt(hostPort[1]))
          .usePlaintext().directExecutor().build());
    }
    String out = a.get("out");
    HttpClient http = HttpClient.newHttpClient();

    for (ManagedChannel ch : channels) {
      for (int s = 0; s < streams; s++) {
        d.send(ch);
      }
    }
    Thread.sleep(Long.parseLong(a.get("warmup")) * 1000);
    long f0 = System.nanoTime();
    String before = ServerProbe.fetch(http, a.get("metrics"));
    long fetchNanos = System.nanoTime() - f0;
    var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    long cpu0 = os.getProcessCpuTime();
    long[] server0 = ServerProbe.serverTicks(a.get("server-pid"), a.get("server-cpu"));
    long t0 = System.nanoTime();
    d.measuring = true;
    Thread.sleep(Long.parseLong(a.get("duration")) * 1000);
    d.measuring = false;
    long t1 = System.nanoTime();
    long cpu1 = os.getProcessCpuTime();
    long[] server1 = ServerProbe.serverTicks(a.get("server-pid"), a.get("server-cpu"));
    long f1 = System.nanoTime();
    String after = ServerProbe.fetch(http, a.get("metrics"));
    fetchNanos += System.nanoTime() - f1;
    d.stop = true;
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (d.inflight.sum() > 0 && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    for (ManagedChannel ch : channels) {
      ch.shutdownNow();
    }

    double secs = (t1 - t0) / 1e9;
    Map<String, Object> r = new LinkedHashMap<>();
    r.put("keys", keys);
    r.put("order", a.get("order"));
    r.put("in_flight", connections * streams);
    r.put("seconds", String.format("%.3f", secs));
    r.put("allowed", d.ok.sum());
    r.put("not_allowed", d.denied.sum());
    r.put("errors", d.errors.sum());
    r.put("rps", String.format("%.1f", d.ok.sum() / secs));
    r.put("p50_ms", d.percentileMs(0.50));
    r.put("p99_ms", d.percentileMs(0.99));
    r.put("p999_ms", d.percentileMs(0.999));
    r.put("client_cores", String.format("%.3f", (cpu1 - cpu0) / 1e9 / secs));
    if (server0 != null) {
      // The server's own CPU (utime + stime), and its CPU's busy (user+nice+system) and steal
      // time from /proc/stat, in clock ticks over the measured window, as run.sh records them.
      r.put("cpu_ticks", server1[0] - server0[0]);
      r.put("server_cpu_busy_ticks", server1[1] - server0[1]);
      r.put("server_cpu_steal_ticks", server1[2] - server0[2]);
      r.put("wall_seconds", String.format("%.3f", secs));
    }
    r.put("metrics_fetch_seconds", String.format("%.3f", fetchNanos / 1e9));
    r.put("first_problem", d.firstProblem == null ? "" : d.firstProblem);
    StringBuilder text = new StringBuilder();
    r.forEach((k, v) -> text.append(k).append('=').append(v).append('\n'));
    System.out.print(text);
    if (!out.isEmpty()) {
      Files.writeString(Path.of(out + ".driver.env"), text, StandardCharsets.UTF_8);
      if (before != null) {
        Files.writeString(Path.of(out + ".metrics.before"), before, StandardCharsets.UTF_8);
        Files.writeString(Path.of(out + ".metrics.after"), after, StandardCharsets.UTF_8);
      }
    }
    System.exit(d.errors.sum() == 0 && d.denied.sum() == 0 ? 0 : 1);
  }
}
