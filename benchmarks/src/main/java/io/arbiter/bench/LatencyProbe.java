package io.arbiter.bench;

import io.envoyproxy.envoy.service.auth.v3.AuthorizationGrpc;
import io.envoyproxy.envoy.service.auth.v3.CheckRequest;
import io.envoyproxy.envoy.service.auth.v3.CheckResponse;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An open-loop latency probe for the overload test ({@code benchmarks/load/overload.sh}): sends
 * {@code rate} ext_authz Checks a second for {@code seconds} on its own connection, while h2load
 * offers the real load, and sorts every answer into admitted (decided: allowed or denied by
 * policy), shed (answered by the failure policy with {@code overloaded} in the decision's error)
 * and failed (a gRPC error, or no answer within the deadline). Prints one {@code key=value} line per
 * figure: counts, and p50/p99/max latency of the admitted and of the shed answers.
 *
 * <pre>
 * java -cp benchmarks.jar io.arbiter.bench.LatencyProbe HOST PORT RATE SECONDS [DEADLINE_MS]
 * </pre>
 *
 * Before measuring, 300 unmeasured calls one at a time warm the probe's own connection and JIT.
 * Each probe is a different request path, so the decision cache cannot answer it (the overload
 * config turns the cache off as well): every admitted probe was evaluated.
 */
public final class LatencyProbe {
  private LatencyProbe() {}

  public static void main(String[] args) throws Exception {
    if (args.length < 4) {
      System.err.println("usage: LatencyProbe HOST PORT RATE SECONDS [DEADLINE_MS]");
      System.exit(2);
    }
    String host = args[0];
    int port = Integer.parseInt(args[1]);
    int rate = Integer.parseInt(args[2]);
    int seconds = Integer.parseInt(args[3]);
    long deadlineMs = args.length > 4 ? Long.parseLong(args[4]) : 5000;
    int total = rate * seconds;
    long[] admitted = new long[total];
    long[] shed = new long[total];
    AtomicInteger nAdmitted = new AtomicInteger();
    AtomicInteger nShed = new AtomicInteger();
    AtomicInteger nFailed = new AtomicInteger();
    AtomicInteger nDenied = new AtomicInteger();
    CountDownLatch done = new CountDownLatch(total);
    ManagedChannel channel = NettyChannelBuilder.forAddress(host, port).usePlaintext().build();
    AuthorizationGrpc.AuthorizationStub stub = AuthorizationGrpc.newStub(channel);
    CheckRequest template = Requests.standard();
    // Unmeasured: connect, and let the probe's own JIT warm up, one call at a time.
    AuthorizationGrpc.AuthorizationBlockingStub warm = AuthorizationGrpc.newBlockingStub(channel);
    for (int i = 0; i < 300; i++) {
      try {
        warm.withDeadlineAfter(deadlineMs, TimeUnit.MILLISECONDS).check(withPath(template, "/warm-up/" + i));
      } catch (RuntimeException e) {
        // counted by the measured part if it persists
      }
    }
    ScheduledExecutorService ticker = Executors.newSingleThreadScheduledExecutor();
    long periodNanos = 1_000_000_000L / rate;
    AtomicInteger sent = new AtomicInteger();
    long t0 = System.nanoTime();
    ticker.scheduleAtFixedRate(() -> {
      // catch up on ticks a busy machine delayed: open loop means the schedule, not the answers, sets the pace
      long due = Math.min(total, (System.nanoTime() - t0) / periodNanos + 1);
      while (sent.get() < due) {
        int i = sent.getAndIncrement();
        CheckRequest request = withPath(template, "/probe/" + i);
        long start = System.nanoTime();
        stub.withDeadlineAfter(deadlineMs, TimeUnit.MILLISECONDS).check(request, new StreamObserver<>() {
          @Override
          public void onNext(CheckResponse r) {
            long took = System.nanoTime() - start;
            boolean overloaded = r.getDynamicMetadata().containsFields("error")
                && r.getDynamicMetadata().getFieldsOrThrow("error").getStringValue().contains("overloaded");
            if (overloaded) {
              shed[nShed.getAndIncrement()] = took;
            } else {
              admitted[nAdmitted.getAndIncrement()] = took;
              if (r.getStatus().getCode() != 0) {
                nDenied.incrementAndGet();
              }
            }
          }

          @Override
          public void onError(Throwable t) {
            nFailed.incrementAndGet();
            done.countDown();
          }

          @Override
          public void onCompleted() {
            done.countDown();
          }
        });
      }
    }, 0, Math.max(1, periodNanos / 2), TimeUnit.NANOSECONDS);
    boolean all = done.await(seconds + deadlineMs / 1000 + 30, TimeUnit.SECONDS);
    ticker.shutdownNow();
    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    System.out.println("probe_rate=" + rate);
    System.out.println("probe_sent=" + sent.get());
    System.out.println("probe_all_answered=" + all);
    System.out.println("probe_admitted=" + nAdmitted.get());
    System.out.println("probe_admitted_denied_by_policy=" + nDenied.get());
    System.out.println("probe_shed=" + nShed.get());
    System.out.println("probe_failed=" + nFailed.get());
    print("admitted", admitted, nAdmitted.get());
    print("shed", shed, nShed.get());
  }

  private static CheckRequest withPath(CheckRequest template, String path) {
    CheckRequest.Builder b = template.toBuilder();
    b.getAttributesBuilder().getRequestBuilder().getHttpBuilder().setPath(path);
    return b.build();
  }

  private static void print(String what, long[] nanos, int n) {
    long[] sorted = Arrays.copyOf(nanos, n);
    Arrays.sort(sorted);
    System.out.println(what + "_p50_ms=" + ms(percentile(sorted, 0.50)));
    System.out.println(what + "_p99_ms=" + ms(percentile(sorted, 0.99)));
    System.out.println(what + "_max_ms=" + ms(n == 0 ? -1 : sorted[n - 1]));
  }

  private static long percentile(long[] sorted, double p) {
    if (sorted.length == 0) {
      return -1;
    }
    return sorted[(int) Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)];
  }

  private static String ms(long nanos) {
    return nanos < 0 ? "none" : String.format(Locale.ROOT, "%.2f", nanos / 1e6);
  }
}
