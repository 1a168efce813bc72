package io.arbiter.bench;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.WireFormat;
import io.envoyproxy.envoy.service.ratelimit.v3.RateLimitResponse;
import io.envoyproxy.envoy.service.ratelimit.v3.RateLimitServiceGrpc;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.ConnectivityState;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.channel.Channel;
import io.grpc.netty.shaded.io.netty.channel.EventLoop;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.Epoll;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.nio.NioEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.socket.nio.NioSocketChannel;
import io.grpc.netty.shaded.io.netty.util.concurrent.DefaultThreadFactory;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Function;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * An open-loop, paced {@code ShouldRateLimit} client for {@code load/quota.sh}'s half-rate phase:
 * the latency of a server that is not saturated, which h2load's {@code --rps} cannot measure here
 * (its timer ticks every 10 ms and sends what is due in a burst; one process per 100 req/s instead
 * took the CPU that redis-server needed).
 *
 * <p>Requests go out at a fixed total {@code --rate}, evenly spaced (request {@code i} is due at
 * {@code start + i / rate}), round-robin over {@code --connections} connections, whatever the
 * answers do: the schedule, not the server, sets the pace. Each latency runs from the request's
 * <em>scheduled</em> time to the end of its call (trailers received), so a server or client that
 * falls behind shows in the percentiles instead of pausing the load (no coordinated omission). How
 * late the client itself sent is reported apart ({@code send_lag_*}): that part is the client's.
 *
 * <p>The requests are {@link RateLimitBodyFiles#request}{@code (k)} for {@code k} in {@code 0..
 * --users − 1} (domain {@code edge}, descriptors {@code {remote_address}} and {@code
 * {remote_address, user}}), request {@code i} being user {@code i mod users} on connection {@code
 * i mod connections}: with as many users as connections (the default), each connection carries one
 * user, as each of quota.sh's h2load processes does. They are serialized once; an answer is read
 * only as far as its {@code overall_code}.
 *
 * <p>Little CPU, so it can share a core with redis-server: one Netty event loop thread (epoll when
 * available) for all connections, which also paces (a scheduled task that sends what is due and
 * schedules itself for the next due time; no hand-off between a pacing thread and the loop), the
 * calls' callbacks run on that loop ({@code directExecutor}), no per-call deadline timers, latencies
 * in an HdrHistogram {@link Recorder} (no sample array). The main thread only reads the server's
 * CPU ({@code --server-pid}, {@code --server-cpu}, {@code --redis-pid}, {@code --client-cpu}, from
 * {@code /proc}) at the edges of the measured window, and Prometheus text ({@code --metrics URL},
 * into {@code OUT.window.before/after}) one second before the window and after its last answer:
 * fetched at the edges, it cost the window's first calls milliseconds (the server renders its
 * metrics on the CPU that answers them). The warm-up's calls are recorded like the window's, into
 * histograms that are never read, so the window does not start with the recording code cold.
 *
 * <p>{@code --spin-us N} (default 0) trades a core for punctuality: instead of sleeping until a
 * call is due, the loop wakes {@code N} µs early and then spins until the due time, in slices of
 * 20 µs between which it polls its sockets without blocking (answers are read at most a slice
 * late, not after the spin). A sleeping thread is
 * woken late by the scheduler, the more so on a VM whose idle vCPU must be woken first; a spinning
 * one is already running. With {@code N} at least the interval between calls the loop never
 * sleeps and uses its whole core: only for a driver with a CPU of its own ({@code REDIS_CPUS=0}
 * in quota.sh), never beside Redis or the server.
 *
 * <p>Runs {@code --warmup} s (unmeasured: the driver's JIT, the connections) then {@code
 * --duration} s measured, at the same rate throughout; then waits up to {@code --drain} s for the
 * calls still open (counted {@code unanswered} after that). A request whose turn comes while
 * {@code --max-in-flight} calls are open is not sent and counted {@code skipped}. Prints {@code
 * key=value} lines (also to {@code OUT.driver.env}; the latency distribution to {@code OUT.hgrm}):
 * counts of the measured window ({@code sent}, {@code answered} = {@code ok} + {@code over_limit} +
 * {@code unknown_code}, {@code errors} (gRPC status not OK), {@code unanswered}, {@code skipped}),
 * the same over the whole run ({@code total_*}, what the server's own counters can be checked
 * against exactly), the rates, latency p50/p90/p99/p99.9/max in ms, and the CPU figures. Exit 1 if
 * any request failed, went unanswered or was skipped. Measured calls slower than {@code --slow-ms}
 * (default 2, the p99 budget) are listed in {@code OUT.slow.tsv} with the wall-clock time
 * they were due, to line stalls up with the server's GC and JIT logs.
 *
 * <pre>
 * java -cp benchmarks.jar io.arbiter.bench.RlsLoadDriver --target 127.0.0.1:8081 --rate 8000 \
 *     [--connections 16] [--users 16] [--warmup 5] [--duration 15] [--drain 5] \
 *     [--max-in-flight 10000] [--metrics URL] [--server-pid PID] [--server-cpu N] [--redis-pid PID] \
 *     [--client-cpu N] [--spin-us 0] [--out BASE]
 * </pre>
 */
public final class RlsLoadDriver {
  private static final MethodDescriptor<byte[], byte[]> SHOULD_RATE_LIMIT =
      RawGrpc.unary(RateLimitServiceGrpc.getShouldRateLimitMethod().getFullMethodName());
  private static final Metadata NO_HEADERS = new Metadata();

  private final byte[][] requests;
  private final EventLoop loop;
  private final ManagedChannel[] channels;
  private final int maxInFlight;
  private final long start;
  private final double intervalNanos;
  private final long warmupCalls;
  private final long totalCalls;
  /** How long before a call is due the loop stops sleeping and spins; 0: it sleeps until due. */
  private final long spinNanos;
  /** The longest busy-wait in one tick; answers wait at most this long to be read. */
  static final long SPIN_SLICE_NANOS = 20_000;
  private final Runnable tickTask = this::tick;

  /** Latency from the scheduled time, ns, of measured calls that got an answer (OK or not). */
  private final Recorder latency = new Recorder(3);
  /** Sent − scheduled, ns, of measured calls; written on the event loop only. */
  private final Histogram sendLag = new Histogram(3);
  /**
   * The warm-up's calls are recorded the same way into these, never read: by the measured window
   * the recording code is compiled, so the window's first seconds do not pay for this JVM's JIT.
   */
  private final Recorder warmupLatency = new Recorder(3);
  private final Histogram warmupSendLag = new Histogram(3);
  private final AtomicInteger inFlight = new AtomicInteger();
  private final CountDownLatch paced = new CountDownLatch(1);
  /** The next call to send; event loop only. */
  private long next;
  private volatile int maxSeenInFlight;
  private final Counts measured = new Counts();
  private final Counts total = new Counts();
  private final AtomicReference<String> firstError = new AtomicReference<>();
  /** Measured calls slower than this, ns, go into the slow-call timeline; event loop only. */
  private final long slowNanos;
  /** Slow calls: due time (ns, this JVM's clock), latency (ns), send lag (ns); event loop only. */
  private long[] slow = new long[3 * 1024];
  private int slowCount;

  /** Outcomes of calls: of the measured window's, or of all (warm-up and measured). */
  private static final class Counts {
    final LongAdder sent = new LongAdder();
    final LongAdder skipped = new LongAdder();
    final LongAdder ok = new LongAdder();
    final LongAdder overLimit = new LongAdder();
    final LongAdder unknownCode = new LongAdder();
    final LongAdder errors = new LongAdder();

    long answered() {
      return ok.sum() + overLimit.sum() + unknownCode.sum();
    }

    long unanswered() {
      return sent.sum() - answered() - errors.sum();
    }
  }

  private RlsLoadDriver(byte[][] requests, EventLoop loop, ManagedChannel[] channels, int maxInFlight,
      long start, double rate, double warmupSeconds, double durationSeconds, long spinNanos,
      long slowNanos) {
    this.spinNanos = spinNanos;
    this.slowNanos = slowNanos;
    this.requests = requests;
    this.loop = loop;
    this.channels = channels;
    this.maxInFlight = maxInFlight;
    this.start = start;
    this.intervalNanos = 1e9 / rate;
    this.warmupCalls = (long) Math.ceil(warmupSeconds * rate);
    this.totalCalls = warmupCalls + (long) Math.floor(durationSeconds * rate);
  }

  private long due(long i) {
    return start + (long) (i * intervalNanos);
  }

  /**
   * One tick of the schedule, on the event loop: sends every call that is due, then schedules the
   * next tick for when the next call is due (less {@code spinNanos}). Pacing on the event loop
   * itself, rather than on a thread of its own, saves a cross-thread hand-off (a wake-up of the
   * loop) per request: the call's frames are written by the thread that created them, at the end
   * of the tick.
   *
   * <p>Within {@code spinNanos} of the next due time the tick spins instead of sleeping, in slices
   * of at most {@link #SPIN_SLICE_NANOS}: it busy-waits for the due time or the slice's end, sends
   * if due, and otherwise schedules itself again at once. A due scheduled task keeps the loop from
   * blocking, and Netty polls the sockets before running it, so answers are read between slices
   * (at most a slice late), where re-queuing the tick as a plain task would run it back to back for
   * Netty's whole task quantum without reading any answer.
   */
  private void tick() {
    long now = System.nanoTime();
    if (spinNanos > 0 && next < totalCalls) {
      long until = Math.min(due(next), now + SPIN_SLICE_NANOS);
      while (now < until) {
        Thread.onSpinWait();
        now = System.nanoTime();
      }
    }
    while (next < totalCalls && due(next) <= now) {
      send(next, due(next));
      next++;
    }
    if (next < totalCalls) {
      long wait = due(next) - System.nanoTime();
      loop.schedule(tickTask, wait <= spinNanos ? 0 : wait - spinNanos, TimeUnit.NANOSECONDS);
    } else {
      paced.countDown();
    }
  }

  private void send(long i, long due) {
    boolean isMeasured = i >= warmupCalls;
    int open = inFlight.incrementAndGet();
    if (open > maxInFlight) {
      inFlight.decrementAndGet();
      count(isMeasured, c -> c.skipped);
      return;
    }
    if (open > maxSeenInFlight) {
      maxSeenInFlight = open;
    }
    count(isMeasured, c -> c.sent);
    (isMeasured ? sendLag : warmupSendLag).recordValue(Math.max(0, System.nanoTime() - due));
    ClientCall<byte[], byte[]> call =
        channels[(int) (i % channels.length)].newCall(SHOULD_RATE_LIMIT, CallOptions.DEFAULT);
    call.start(new Answer(due, isMeasured, System.nanoTime() - due), NO_HEADERS);
    call.sendMessage(requests[(int) (i % requests.length)]);
    call.halfClose();
    call.request(1);
  }

  /** Counts an outcome in the totals (every call) and, for a measured call, in the window's counts. */
  private void count(boolean isMeasured, Function<Counts, LongAdder> outcome) {
    outcome.apply(total).increment();
    if (isMeasured) {
      outcome.apply(measured).increment();
    }
  }

  /** The end of one call, on the event loop. */
  private final class Answer extends ClientCall.Listener<byte[]> {
    private final long due;
    private final boolean isMeasured;
    private final long lag;
    private byte[] body;

    Answer(long due, boolean isMeasured, long lag) {
      this.due = due;
      this.isMeasured = isMeasured;
      this.lag = lag;
    }

    @Override
    public void onMessage(byte[] message) {
      body = message;
    }

    @Override
    public void onClose(Status status, Metadata trailers) {
      long took = System.nanoTime() - due;
      inFlight.decrementAndGet();
      if (!status.isOk()) {
        count(isMeasured, c -> c.errors);
        firstError.compareAndSet(null, status.toString());
        return;
      }
      int code = overallCode(body);
      if (code == RateLimitResponse.Code.OK_VALUE) {
        count(isMeasured, c -> c.ok);
      } else if (code == RateLimitResponse.Code.OVER_LIMIT_VALUE) {
        count(isMeasured, c -> c.overLimit);
      } else {
        count(isMeasured, c -> c.unknownCode);
        firstError.compareAndSet(null, "overall_code " + code);
      }
      (isMeasured ? latency : warmupLatency).recordValue(took);
      if (isMeasured && took > slowNanos) {
        recordSlow(due, took, lag);
      }
    }
  }

  private void recordSlow(long due, long took, long lag) {
    if (3 * slowCount + 3 > slow.length) {
      slow = Arrays.copyOf(slow, 2 * slow.length);
    }
    slow[3 * slowCount] = due;
    slow[3 * slowCount + 1] = took;
    slow[3 * slowCount + 2] = lag;
    slowCount++;
  }

  /**
   * The slow calls as tab-separated lines: wall-clock time the call was due (UTC, ms), latency and
   * send lag (ms), so stalls can be lined up with the server's GC and JIT logs.
   */
  private String slowTimeline(long epochNanosAtZero) {
    StringBuilder b = new StringBuilder("due_utc\tlatency_ms\tsend_lag_ms\n");
    DateTimeFormatter f =
        DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);
    for (int k = 0; k < slowCount; k++) {
      long epochNanos = epochNanosAtZero + slow[3 * k];
      b.append(f.format(Instant.ofEpochSecond(0, epochNanos))).append('\t')
          .append(ms((double) slow[3 * k + 1])).append('\t')
          .append(ms((double) slow[3 * k + 2])).append('\n');
    }
    return b.toString();
  }

  /** {@code overall_code} (field 1) of a serialized RateLimitResponse; 0 (UNKNOWN) if absent or unreadable. */
  static int overallCode(byte[] body) {
    if (body == null) {
      return 0;
    }
    try {
      CodedInputStream in = CodedInputStream.newInstance(body);
      int tag;
      while ((tag = in.readTag()) != 0) {
        if (WireFormat.getTagFieldNumber(tag) == RateLimitResponse.OVERALL_CODE_FIELD_NUMBER
            && WireFormat.getTagWireType(tag) == WireFormat.WIRETYPE_VARINT) {
          return in.readEnum();
        }
        in.skipField(tag);
      }
    } catch (IOException e) {
      return 0;
    }
    return 0;
  }

  public static void main(String[] args) throws Exception {
    Map<String, String> defaults = new LinkedHashMap<>();
    defaults.put("target", "127.0.0.1:8081");
    defaults.put("rate", "1000");
    defaults.put("connections", "16");
    defaults.put("users", "16");
    defaults.put("warmup", "5");
    defaults.put("duration", "15");
    defaults.put("drain", "5");
    defaults.put("max-in-flight", "10000");
    defaults.put("metrics", "");
    defaults.put("server-pid", "");
    defaults.put("server-cpu", "");
    defaults.put("redis-pid", "");
    defaults.put("client-cpu", "");
    defaults.put("spin-us", "0");
    defaults.put("out", "");
    defaults.put("slow-ms", "2");
    DriverOptions a = DriverOptions.parse("RlsLoadDriver", defaults, args);
    double rate = a.number("rate");
    int connections = a.integer("connections");
    int users = a.integer("users");
    double warmup = a.number("warmup");
    double duration = a.number("duration");
    double spinUs = a.number("spin-us");
    if (rate <= 0 || connections < 1 || users < 1 || duration <= 0 || warmup < 0) {
      throw new IllegalArgumentException("--rate, --connections, --users, --duration must be positive");
    }
    if (!(spinUs >= 0 && spinUs <= 1e6)) {
      throw new IllegalArgumentException("--spin-us must be 0 to 1000000, got " + a.get("spin-us"));
    }
    byte[][] requests = new byte[users][];
    for (int k = 0; k < users; k++) {
      requests[k] = RateLimitBodyFiles.request(k).toByteArray();
    }

    int colon = a.get("target").lastIndexOf(':');
    String host = a.get("target").substring(0, colon);
    int port = Integer.parseInt(a.get("target").substring(colon + 1));
    DefaultThreadFactory loopThreads = new DefaultThreadFactory("rls-driver-loop", true);
    boolean epoll = Epoll.isAvailable();
    EventLoopGroup group = epoll ? new EpollEventLoopGroup(1, loopThreads) : new NioEventLoopGroup(1, loopThreads);
    Class<? extends Channel> channelType = epoll ? EpollSocketChannel.class : NioSocketChannel.class;
    ManagedChannel[] channels = new ManagedChannel[connections];
    for (int c = 0; c < connections; c++) {
      channels[c] = NettyChannelBuilder.forAddress(host, port)
          .eventLoopGroup(group)
          .channelType(channelType)
          .directExecutor()
          .usePlaintext()
          .disableRetry()
          .build();
    }
    long connectBy = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    for (ManagedChannel ch : channels) {
      while (ch.getState(true) != ConnectivityState.READY) {
        if (System.nanoTime() > connectBy) {
          throw new IllegalStateException("not connected to " + a.get("target") + " within 30 s");
        }
        Thread.sleep(5);
      }
    }

    HttpClient http = a.get("metrics").isEmpty() ? null : HttpClient.newHttpClient();
    ServerProbe.fetch(http, a.get("metrics")); // once before, so the fetches at the edges are quick
    var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    long start = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(20);
    RlsLoadDriver d = new RlsLoadDriver(requests, group.next(), channels, a.integer("max-in-flight"),
        start, rate, warmup, duration, (long) (spinUs * 1e3), (long) (a.number("slow-ms") * 1e6));
    long epochNanosAtZero = System.currentTimeMillis() * 1_000_000L - System.nanoTime();
    d.loop.schedule(d.tickTask, start - System.nanoTime(), TimeUnit.NANOSECONDS);

    // The measured window's edges are the schedule's: calls due in [w0, w1) are measured.
    long w0 = d.due(d.warmupCalls);
    long w1 = d.due(d.totalCalls);
    Edge.read(a, os); // once before, so the reads at the edges are quick
    // The server's metrics are fetched a second before the window and after its last answer, not at
    // its edges: a fetch costs the server (and this JVM) milliseconds of work that would otherwise
    // fall on the window's first and last calls. The window's metrics cover that second too.
    sleepUntil(w0 - TimeUnit.SECONDS.toNanos(1));
    String before = ServerProbe.fetch(http, a.get("metrics"));
    sleepUntil(w0);
    Edge e0 = Edge.read(a, os);
    long t0 = System.nanoTime();
    sleepUntil(w1);
    long t1 = System.nanoTime();
    Edge e1 = Edge.read(a, os);
    d.paced.await();
    // The send-lag histogram was written on the loop; reading it there orders the reads after the writes.
    Histogram lag = d.loop.submit(() -> d.sendLag.copy()).get();
    long drainBy = System.nanoTime() + (long) (a.number("drain") * 1e9);
    while (d.inFlight.get() > 0 && System.nanoTime() < drainBy) {
      Thread.sleep(5);
    }
    String after = ServerProbe.fetch(http, a.get("metrics"));
    // Read on the loop, which wrote them; after the drain no answer writes any more.
    String slowCalls = d.loop.submit(() -> d.slowTimeline(epochNanosAtZero)).get();
    int slowCount = d.loop.submit(() -> d.slowCount).get();
    for (ManagedChannel ch : channels) {
      ch.shutdownNow();
    }
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS);

    Histogram lat = d.latency.getIntervalHistogram();
    double window = duration; // scheduled length of the measured window
    Counts m = d.measured;
    Counts t = d.total;
    Map<String, Object> r = new LinkedHashMap<>();
    r.put("mode", "paced");
    r.put("transport", epoll ? "epoll" : "nio");
    r.put("spin_us", fmt(spinUs, 0));
    r.put("rate_offered_per_s", fmt(rate, 1));
    r.put("connections", connections);
    r.put("users", users);
    r.put("warmup_seconds", fmt(warmup, 3));
    r.put("duration_seconds", fmt(duration, 3));
    r.put("sent", m.sent.sum());
    r.put("answered", m.answered());
    r.put("ok", m.ok.sum());
    r.put("over_limit", m.overLimit.sum());
    r.put("unknown_code", m.unknownCode.sum());
    r.put("errors", m.errors.sum());
    r.put("unanswered", m.unanswered());
    r.put("skipped", m.skipped.sum());
    r.put("sent_per_s", fmt(m.sent.sum() / window, 1));
    r.put("answered_per_s", fmt(m.answered() / window, 1));
    r.put("latency_mean_ms", ms(lat.getTotalCount() == 0 ? Double.NaN : lat.getMean()));
    r.put("latency_p50_ms", ms(lat, 50));
    r.put("latency_p90_ms", ms(lat, 90));
    r.put("latency_p99_ms", ms(lat, 99));
    r.put("latency_p999_ms", ms(lat, 99.9));
    r.put("latency_max_ms", ms(lat.getTotalCount() == 0 ? Double.NaN : lat.getMaxValue()));
    r.put("send_lag_p50_ms", ms(lag, 50));
    r.put("send_lag_p99_ms", ms(lag, 99));
    r.put("send_lag_max_ms", ms(lag.getTotalCount() == 0 ? Double.NaN : lag.getMaxValue()));
    r.put("slow_ms", a.get("slow-ms"));
    r.put("slow_calls", slowCount);
    r.put("max_in_flight", d.maxSeenInFlight);
    r.put("total_sent", t.sent.sum());
    r.put("total_answered", t.answered());
    r.put("total_ok", t.ok.sum());
    r.put("total_over_limit", t.overLimit.sum());
    r.put("total_errors", t.errors.sum());
    r.put("total_unanswered", t.unanswered());
    r.put("total_skipped", t.skipped.sum());
    // The window as the main thread saw it (the /proc reads), and what was measured over it,
    // in quota.sh's phase.env names.
    r.put("window_start_utc", Instant.ofEpochSecond(0, epochNanosAtZero + w0).toString());
    r.put("wall_seconds", fmt((t1 - t0) / 1e9, 3));
    r.put("client_cpu_seconds", fmt((e1.ownCpuNanos - e0.ownCpuNanos) / 1e9, 3));
    r.put("client_gc_count", e1.gcCount - e0.gcCount);
    r.put("client_gc_ms", e1.gcMillis - e0.gcMillis);
    if (!a.get("server-pid").isEmpty()) {
      r.put("cpu_ticks", e1.server - e0.server);
      r.put("server_cpu_busy_ticks", e1.serverCpu[0] - e0.serverCpu[0]);
      r.put("server_cpu_steal_ticks", e1.serverCpu[1] - e0.serverCpu[1]);
    }
    if (!a.get("redis-pid").isEmpty()) {
      r.put("redis_cpu_ticks", e1.redis - e0.redis);
    }
    if (!a.get("client-cpu").isEmpty()) {
      r.put("client_cpu_busy_ticks", e1.clientCpu[0] - e0.clientCpu[0]);
    }
    String error = d.firstError.get();
    r.put("first_error", error == null ? "" : error.replace('\n', ' '));
    boolean clean = t.errors.sum() == 0 && t.unanswered() == 0 && t.skipped.sum() == 0
        && t.unknownCode.sum() == 0;
    r.put("clean", clean);

    StringBuilder text = new StringBuilder();
    r.forEach((k, v) -> text.append(k).append('=').append(v).append('\n'));
    System.out.print(text);
    String out = a.get("out");
    if (!out.isEmpty()) {
      Files.writeString(Path.of(out + ".driver.env"), text, StandardCharsets.UTF_8);
      ByteArrayOutputStream hgrm = new ByteArrayOutputStream();
      lat.outputPercentileDistribution(new PrintStream(hgrm, true, StandardCharsets.UTF_8), 1e6);
      Files.write(Path.of(out + ".hgrm"), hgrm.toByteArray());
      Files.writeString(Path.of(out + ".slow.tsv"), slowCalls, StandardCharsets.UTF_8);
      if (before != null) {
        Files.writeString(Path.of(out + ".window.before"), before, StandardCharsets.UTF_8);
        Files.writeString(Path.of(out + ".window.after"), after, StandardCharsets.UTF_8);
      }
    }
    System.exit(clean ? 0 : 1);
  }

  /** What is read at an edge of the measured window. */
  private record Edge(long ownCpuNanos, long gcCount, long gcMillis, long server, long[] serverCpu,
      long redis, long[] clientCpu) {
    static Edge read(DriverOptions a, com.sun.management.OperatingSystemMXBean os) throws IOException {
      long gcCount = 0;
      long gcMillis = 0;
      for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
        gcCount += Math.max(0, gc.getCollectionCount());
        gcMillis += Math.max(0, gc.getCollectionTime());
      }
      String serverPid = a.get("server-pid");
      return new Edge(os.getProcessCpuTime(), gcCount, gcMillis,
          ServerProbe.processTicks(serverPid),
          serverPid.isEmpty() ? new long[2] : ServerProbe.cpuTicks(a.get("server-cpu")),
          ServerProbe.processTicks(a.get("redis-pid")),
          a.get("client-cpu").isEmpty() ? new long[2] : ServerProbe.cpuTicks(a.get("client-cpu")));
    }
  }

  private static void sleepUntil(long nanoTime) throws InterruptedException {
    long left;
    while ((left = nanoTime - System.nanoTime()) > 0) {
      TimeUnit.NANOSECONDS.sleep(left);
    }
  }

  private static String ms(Histogram h, double percentile) {
    return ms(h.getTotalCount() == 0 ? Double.NaN : h.getValueAtPercentile(percentile));
  }

  private static String ms(double nanos) {
    return Double.isNaN(nanos) ? "nan" : String.format(Locale.ROOT, "%.3f", nanos / 1e6);
  }

  private static String fmt(double x, int digits) {
    return String.format(Locale.ROOT, "%." + digits + "f", x);
  }
}
