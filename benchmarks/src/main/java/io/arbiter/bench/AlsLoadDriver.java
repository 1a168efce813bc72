package io.arbiter.bench;

import io.arbiter.frontend.SerializedMessages;
import io.envoyproxy.envoy.service.accesslog.v3.AccessLogServiceGrpc;
import io.envoyproxy.envoy.service.accesslog.v3.StreamAccessLogsMessage;
import io.envoyproxy.envoy.service.accesslog.v3.StreamAccessLogsResponse;
import io.grpc.CallOptions;
import io.grpc.ConnectivityState;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.protobuf.ProtoUtils;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ClientResponseObserver;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * The load driver of the ingest benchmark: streams {@code StreamAccessLogs} the way Envoy's gRPC
 * access logger does. Each of {@code --streams} streams (own connection, as Envoy's workers have
 * their own) is one Envoy worker: its first message carries the {@code Identifier} (node {@code
 * envoy-K}, cluster {@code shop}, log name {@code http}), every message carries a batch of {@link
 * AccessLogEntries} filled to {@code --batch-bytes} (Envoy's {@code buffer_size_bytes}, 16 KiB).
 * Messages come round-robin from a pool of {@code --pool} distinct messages, serialized once, so
 * the driver spends its CPU on sending, not on building protobufs.
 *
 * <p>Two modes:
 *
 * <ul>
 *   <li>max ({@code --rate 0}, the default): each stream sends whenever gRPC says it is ready, so
 *       HTTP/2 flow control, that is the server's reading, sets the pace;
 *   <li>fixed rate ({@code --rate N} entries per second, over all streams): messages are sent on
 *       schedule; when a stream is not ready (more than {@code --buffer-bytes} waiting, 1 MiB like
 *       Envoy's default connection buffer limit), the message is dropped and counted, as Envoy
 *       drops (its {@code logs_dropped} stat) rather than wait.
 * </ul>
 *
 * <p>After {@code --duration} seconds each stream is half-closed and the driver waits for the
 * server's answer, so every sent message has been read when it exits. It prints {@code key=value}
 * lines: what was offered, sent and dropped, per stream too, and the sums the user metrics of
 * {@code load/ingest.yaml} should then show ({@code response_bytes_sum}, {@code
 * request_bytes_sum}). Exit 1 if a stream failed.
 *
 * <p>Run: {@code java -cp benchmarks.jar io.arbiter.bench.AlsLoadDriver --target 127.0.0.1:9191
 * [--streams 8] [--duration 15] [--rate 0] [--batch-bytes 16384] [--pool 256] [--seed 1]
 * [--buffer-bytes 1048576] [--progress 0] [--out FILE]}.
 */
public final class AlsLoadDriver {

  /** A pre-serialized message and what it carries. */
  private record Payload(byte[] bytes, int entries, long responseBytes, long requestBytes) {
    static Payload of(StreamAccessLogsMessage m) {
      long rs = 0;
      long rq = 0;
      for (var e : m.getHttpLogs().getLogEntryList()) {
        rs += e.getResponse().getResponseBodyBytes();
        rq += e.getRequest().getRequestBodyBytes();
      }
      return new Payload(m.toByteArray(), m.getHttpLogs().getLogEntryCount(), rs, rq);
    }
  }

  private static final MethodDescriptor<byte[], StreamAccessLogsResponse> METHOD =
      MethodDescriptor.<byte[], StreamAccessLogsResponse>newBuilder()
          .setType(MethodDescriptor.MethodType.CLIENT_STREAMING)
          .setFullMethodName(AccessLogServiceGrpc.getStreamAccessLogsMethod().getFullMethodName())
          .setRequestMarshaller(SerializedMessages.MARSHALLER)
          .setResponseMarshaller(ProtoUtils.marshaller(StreamAccessLogsResponse.getDefaultInstance()))
          .build();

  /** One stream: an Envoy worker. Guarded by this: the call (not thread-safe) and the counters. */
  private static final class Stream implements ClientResponseObserver<byte[], StreamAccessLogsResponse> {
    final int index;
    final Payload first;
    final List<Payload> pool;
    final CountDownLatch done = new CountDownLatch(1);
    ClientCallStreamObserver<byte[]> call;
    int next;
    boolean sentFirst;
    volatile boolean stopped;
    boolean completed;
    volatile Throwable error;
    volatile boolean answered;
    long sentEntries;
    long sentMessages;
    long droppedEntries;
    long offeredEntries;
    long responseBytes;
    long requestBytes;

    final boolean maxMode;

    Stream(int index, Payload first, List<Payload> pool, boolean maxMode) {
      this.maxMode = maxMode;
      this.index = index;
      this.first = first;
      this.pool = pool;
      this.next = (index * 37) % pool.size();
    }

    @Override
    public void beforeStart(ClientCallStreamObserver<byte[]> requestStream) {
      this.call = requestStream;
      if (maxMode) {
        requestStream.setOnReadyHandler(this::drain);
      }
    }

    /** The next message of this stream (the identifier-carrying one first). */
    Payload peek() {
      return sentFirst ? pool.get(next) : first;
    }

    synchronized boolean ready() {
      return call.isReady();
    }

    synchronized int peekEntries() {
      return peek().entries;
    }

    void advance() {
      if (sentFirst) {
        next = (next + 1) % pool.size();
      } else {
        sentFirst = true;
      }
    }

    /** Max mode: fill the transport while it is ready. */
    synchronized void drain() {
      while (!stopped && !completed && call.isReady()) {
        Payload p = peek();
        offeredEntries += p.entries;
        send(p);
        advance();
      }
    }

    /** Under the lock. */
    void send(Payload p) {
      call.onNext(p.bytes);
      sentEntries += p.entries;
      sentMessages++;
      responseBytes += p.responseBytes;
      requestBytes += p.requestBytes;
    }

    /** Rate mode: one scheduled message, sent if the stream is ready, else dropped as Envoy does. */
    synchronized int offerOne() {
      if (completed) {
        return 0;
      }
      Payload p = peek();
      offeredEntries += p.entries;
      if (call.isReady()) {
        send(p);
        advance(); // the identifier message is re-offered until it is sent, as Envoy would
      } else {
        droppedEntries += p.entries;
        if (sentFirst) {
          advance();
        }
      }
      return p.entries;
    }

    synchronized void complete() {
      stopped = true;
      if (!completed) {
        completed = true;
        call.onCompleted();
      }
    }

    @Override
    public void onNext(StreamAccessLogsResponse value) {
      answered = true;
    }

    @Override
    public void onError(Throwable t) {
      error = t;
      synchronized (this) {
        completed = true;
      }
      done.countDown();
    }

    @Override
    public void onCompleted() {
      done.countDown();
    }
  }

  private AlsLoadDriver() {}

  public static void main(String[] args) throws Exception {
    String target = "127.0.0.1:9191";
    int streams = 8;
    double duration = 15;
    long rate = 0;
    int batchBytes = 16384;
    int poolSize = 256;
    long seed = 1;
    int bufferBytes = 1 << 20;
    double progress = 0;
    Path out = null;
    for (int i = 0; i < args.length; i++) {
      String v = i + 1 < args.length ? args[i + 1] : null;
      switch (args[i]) {
        case "--target" -> target = v;
        case "--streams" -> streams = Integer.parseInt(v);
        case "--duration" -> duration = Double.parseDouble(v);
        case "--rate" -> rate = Long.parseLong(v);
        case "--batch-bytes" -> batchBytes = Integer.parseInt(v);
        case "--pool" -> poolSize = Integer.parseInt(v);
        case "--seed" -> seed = Long.parseLong(v);
        case "--buffer-bytes" -> bufferBytes = Integer.parseInt(v);
        case "--progress" -> progress = Double.parseDouble(v);
        case "--out" -> out = Path.of(v);
        default -> {
          System.err.println("unknown option " + args[i] + "; see the class javadoc");
          System.exit(2);
        }
      }
      i++;
    }
    List<StreamAccessLogsMessage> messages = AccessLogEntries.messages(seed, poolSize, batchBytes);
    List<Payload> pool = new ArrayList<>(messages.size());
    long poolEntries = 0;
    long poolBytes = 0;
    for (StreamAccessLogsMessage m : messages) {
      Payload p = Payload.of(m);
      pool.add(p);
      poolEntries += p.entries;
      poolBytes += p.bytes.length;
    }
    int colon = target.lastIndexOf(':');
    String host = target.substring(0, colon);
    int port = Integer.parseInt(target.substring(colon + 1));

    List<ManagedChannel> channels = new ArrayList<>();
    List<Stream> all = new ArrayList<>();
    for (int s = 0; s < streams; s++) {
      ManagedChannel ch = NettyChannelBuilder.forAddress(host, port).usePlaintext().build();
      channels.add(ch);
      Payload first = Payload.of(AccessLogEntries.withIdentifier(
          messages.get((s * 37) % messages.size()), "envoy-" + s, "shop", "http"));
      Stream stream = new Stream(s, first, pool, rate == 0);
      all.add(stream);
    }
    // Connect first, as a running Envoy is connected: the clock starts with every stream open.
    long connectBy = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    for (ManagedChannel ch : channels) {
      while (ch.getState(true) != ConnectivityState.READY && System.nanoTime() < connectBy) {
        Thread.sleep(10);
      }
    }
    for (int s = 0; s < streams; s++) {
      Stream stream = all.get(s);
      CallOptions options = CallOptions.DEFAULT.withOnReadyThreshold(bufferBytes);
      ClientCalls.asyncClientStreamingCall(channels.get(s).newCall(METHOD, options), stream);
    }
    if (rate > 0) {
      for (Stream stream : all) {
        while (!stream.ready() && System.nanoTime() < connectBy) {
          Thread.sleep(1);
        }
      }
    }
    long start = System.nanoTime();
    long end = start + (long) (duration * 1e9);
    long nextProgress = progress > 0 ? start + (long) (progress * 1e9) : Long.MAX_VALUE;
    PrintStream err = System.err;
    if (rate == 0) {
      while (System.nanoTime() < end) {
        long now = System.nanoTime();
        if (now >= nextProgress) {
          progress(err, all, (now - start) / 1e9);
          nextProgress += (long) (progress * 1e9);
        }
        LockSupport.parkNanos(Math.min(end, nextProgress) - now);
      }
    } else {
      // Each stream owes rate/streams entries per second; a message goes when its whole batch is owed.
      double perStreamPerNano = rate / (double) streams / 1e9;
      long[] owedSent = new long[streams]; // entries offered so far, per stream
      long now;
      while ((now = System.nanoTime()) < end) {
        double owed = (now - start) * perStreamPerNano;
        for (int s = 0; s < streams; s++) {
          Stream stream = all.get(s);
          while (owedSent[s] + stream.peekEntries() <= owed) {
            int n = stream.offerOne();
            if (n == 0) {
              break; // the stream failed
            }
            owedSent[s] += n;
          }
        }
        if (now >= nextProgress) {
          progress(err, all, (now - start) / 1e9);
          nextProgress += (long) (progress * 1e9);
        }
        LockSupport.parkNanos(100_000);
      }
    }
    double sendSeconds = (System.nanoTime() - start) / 1e9;
    for (Stream s : all) {
      s.complete();
    }
    boolean ok = true;
    for (Stream s : all) {
      if (!s.done.await(120, TimeUnit.SECONDS)) {
        err.println("stream " + s.index + ": no answer within 120 s of half-closing");
        ok = false;
      }
    }
    double wall = (System.nanoTime() - start) / 1e9;
    for (ManagedChannel ch : channels) {
      ch.shutdownNow();
    }
    StringBuilder sb = new StringBuilder();
    long offered = 0, sent = 0, dropped = 0, msgs = 0, rs = 0, rq = 0;
    int errors = 0, answered = 0;
    for (Stream s : all) {
      offered += s.offeredEntries;
      sent += s.sentEntries;
      dropped += s.droppedEntries;
      msgs += s.sentMessages;
      rs += s.responseBytes;
      rq += s.requestBytes;
      if (s.error != null) {
        errors++;
        err.println("stream " + s.index + " failed: " + s.error);
      }
      if (s.answered) {
        answered++;
      }
      sb.append("stream_").append(s.index).append("_node=envoy-").append(s.index)
          .append(" entries=").append(s.sentEntries).append('\n');
    }
    ok &= errors == 0 && answered == streams;
    String text = String.format(Locale.ROOT, """
        mode=%s
        rate_offered_per_s=%d
        streams=%d
        batch_bytes=%d
        pool_messages=%d
        pool_entries_per_message=%.1f
        pool_bytes_per_entry=%.0f
        send_seconds=%.3f
        wall_seconds=%.3f
        offered_entries=%d
        sent_entries=%d
        client_dropped_entries=%d
        sent_messages=%d
        sent_entries_per_s=%.0f
        response_bytes_sum=%d
        request_bytes_sum=%d
        stream_errors=%d
        streams_answered=%d
        ok=%s
        """, rate == 0 ? "max" : "rate", rate, streams, batchBytes, pool.size(),
        poolEntries / (double) pool.size(), poolBytes / (double) poolEntries, sendSeconds, wall,
        offered, sent, dropped, msgs, sent / sendSeconds, rs, rq, errors, answered, ok) + sb;
    System.out.print(text);
    if (out != null) {
      Files.writeString(out, text);
    }
    System.exit(ok ? 0 : 1);
  }

  private static void progress(PrintStream err, List<Stream> all, double t) {
    long sent = 0, dropped = 0;
    for (Stream s : all) {
      synchronized (s) {
        sent += s.sentEntries;
        dropped += s.droppedEntries;
      }
    }
    err.printf(Locale.ROOT, "t=%.0fs sent=%d client_dropped=%d%n", t, sent, dropped);
  }
}
