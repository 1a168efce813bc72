package io.arbiter.adapters.redisquota;

import com.codahale.metrics.Counter;
import io.arbiter.adapters.quota.AllocationMetrics;
import io.arbiter.adapters.quota.BucketLimit;
import io.arbiter.adapters.quota.QuotaConfig;
import io.arbiter.adapters.quota.UnknownQuotaException;
import io.arbiter.engine.metrics.BucketHistogram;
import io.arbiter.engine.spi.AdapterContext;
import io.arbiter.engine.spi.Instance;
import io.arbiter.engine.spi.LogLimiter;
import io.arbiter.engine.spi.QuotaHandler;
import io.arbiter.engine.spi.QuotaRequest;
import io.arbiter.engine.spi.QuotaResult;
import io.lettuce.core.AbstractRedisClient;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisCommandTimeoutException;
import io.lettuce.core.RedisNoScriptException;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulConnection;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.async.RedisScriptingAsyncCommands;
import io.lettuce.core.cluster.ClusterClientOptions;
import io.lettuce.core.cluster.ClusterTopologyRefreshOptions;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.cluster.SlotHash;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;
import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.Delay;
import io.netty.channel.EventLoop;
import io.netty.util.HashedWheelTimer;
import io.netty.util.Timer;
import io.netty.util.concurrent.DefaultEventExecutorGroup;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.EventExecutorGroup;
import java.lang.System.Logger.Level;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;

/**
 * Allocates from buckets kept in Redis: all the allocations of one engine call ({@link
 * #allocateAll}: every descriptor of a rate-limit request) are one {@code EVALSHA} of {@code
 * allocate.lua}, which runs them in order, atomically, in one round trip ({@code EVAL} once more
 * after Redis lost its script cache, on {@code NOSCRIPT}); on a Redis Cluster, one call per hash
 * slot, sent together. The time each call took is in {@code
 * arbiter_redisquota_round_trip_seconds{handler}}.
 *
 * <p><b>Threads.</b> When the server lends its I/O event loops ({@link
 * AdapterContext#ioEventLoops()}: a Netty event loop group whose transport, epoll or NIO, is the
 * one Lettuce picks), the handler keeps one connection on each loop ({@link LentEventLoop}): an
 * allocation asked on a loop thread (a call the server decides on the thread that read it) is
 * written, and its reply read and its stage completed, on that same thread, with no hand-off
 * between threads; asked elsewhere it takes the loops' connections in turn. Otherwise (no loops
 * lent, or loops of another kind) it has one Lettuce client and connection on client resources of
 * its own: two I/O threads (Lettuce's minimum; Netty starts them as needed). Either way Lettuce's
 * timer and two computation threads are the handler's own.
 *
 * <p>Each connection is first made in the background (config load never waits for Redis) and
 * retried on the context's scheduler until it succeeds; then the script is loaded ({@code SCRIPT
 * LOAD}); {@link #initialized()} completes when every connection's first attempt has ended. After
 * that Lettuce reconnects by itself, backing off from 50 ms to 1 s, on the same loop. While a
 * connection is down its allocations go to another that is up; with none up, commands are
 * rejected at once rather than queued. An allocation that gets no answer (not connected, a
 * timeout, a Redis error) resolves by {@code failOpen}: granted in full, or over the limit; either
 * way it is counted in {@code arbiter_redisquota_errors_total{handler,outcome}} and logged at most
 * once a second. Replies complete the returned stages on the connection's I/O thread.
 * Thread-safe.
 */
final class RedisQuotaHandler implements QuotaHandler {
  static final Duration FIRST_CONNECT_RETRY_MAX = Duration.ofSeconds(5);
  static final int REQUEST_QUEUE_SIZE = 100_000;
  /** A fail-closed answer tells the client to wait this long (or the window, if shorter). */
  static final Duration FAIL_CLOSED_RESET = Duration.ofSeconds(1);
  private static final double[] ROUND_TRIP_BUCKETS = {
    0.00005, 0.0001, 0.0002, 0.0003, 0.0005, 0.00075, 0.001, 0.0015, 0.002, 0.003, 0.005, 0.01,
    0.025, 0.05, 0.1, 0.25, 1
  };

  private final String name;
  private final QuotaConfig config;
  private final RedisSettings settings;
  private final Clock clock;
  private final ScheduledExecutorService scheduler;
  private final System.Logger log;
  private final LongSupplier testNow;
  private final LogLimiter failureLog = new LogLimiter(1);
  private final AllocationMetrics allocations;
  private final Counter errors;
  private final BucketHistogram roundTrip;
  private final AutoCloseable connectedGauge;
  /** One per lent event loop, or one on threads of its own. */
  private final List<Link> links;
  /** Lettuce's computation threads and timer, shared by the links; null with one link on its own resources. */
  private final EventExecutorGroup computation;
  private final Timer timer;
  private final CompletableFuture<Void> initialized;
  private final AtomicInteger turn = new AtomicInteger();
  private final Object lock = new Object();

  private volatile String lastConnectError = "the first connection attempt has not ended";
  // Guarded by lock.
  private boolean closed;

  /**
   * @param testNow the time the script uses instead of Redis's {@code TIME}, in ms; null (always,
   *     outside tests) to use the server's clock
   */
  RedisQuotaHandler(
      QuotaConfig config, RedisSettings settings, AdapterContext context, LongSupplier testNow) {
    this.name = context.handlerName();
    this.config = config;
    this.settings = settings;
    this.clock = context.clock();
    this.scheduler = context.scheduler();
    this.log = context.logger();
    this.testNow = testNow;
    this.allocations = new AllocationMetrics(context.metrics(), name);
    this.errors =
        context.metrics().counter(
            "arbiter_redisquota_errors_total",
            "Allocations a redisquota handler could not get from Redis (not connected, timeout,"
                + " Redis error), answered by its failOpen setting.",
            "handler",
            name,
            "outcome",
            settings.failOpen() ? "fail_open" : "fail_closed");
    this.roundTrip =
        context.metrics().histogram(
            "arbiter_redisquota_round_trip_seconds",
            "Time from sending one allocation script call to Redis to handling its reply (the"
                + " network, Redis, and the client's threads), answered calls only.",
            ROUND_TRIP_BUCKETS,
            "handler",
            name);
    this.connectedGauge =
        context.metrics().gauge(
            "arbiter_redisquota_connected",
            "1 while a redisquota handler's connection to Redis is up, else 0.",
            this::connected,
            "handler",
            name);
    List<EventLoop> lent = LentEventLoop.usable(context.ioEventLoops());
    List<Link> made = new ArrayList<>();
    if (lent.isEmpty()) {
      this.computation = null;
      this.timer = null;
      made.add(new Link(null, resources(ClientResources.builder()
          .ioThreadPoolSize(2) // Lettuce's minimum: it raises anything lower to 2
          .computationThreadPoolSize(2))));
    } else {
      this.computation =
          new DefaultEventExecutorGroup(2, new DefaultThreadFactory("redisquota-computation", true));
      this.timer = new HashedWheelTimer(new DefaultThreadFactory("redisquota-timer", true));
      for (EventLoop loop : lent) {
        made.add(new Link(loop, resources(ClientResources.builder()
            .eventLoopGroupProvider(new LentEventLoop(loop))
            .eventExecutorGroup(computation)
            .timer(timer))));
      }
    }
    this.links = List.copyOf(made);
    this.initialized = CompletableFuture.allOf(
        links.stream().map(l -> l.firstAttempt).toArray(CompletableFuture[]::new));
  }

  private static ClientResources resources(ClientResources.Builder builder) {
    return builder
        .reconnectDelay(
            Delay.exponential(Duration.ofMillis(50), Duration.ofSeconds(1), 2, TimeUnit.MILLISECONDS))
        .build();
  }

  private AbstractRedisClient client(ClientResources resources) {
    SocketOptions socket =
        SocketOptions.builder().connectTimeout(RedisSettings.CONNECT_TIMEOUT).keepAlive(true).build();
    TimeoutOptions timeouts = TimeoutOptions.enabled(settings.timeout());
    if (settings.cluster()) {
      RedisClusterClient c = RedisClusterClient.create(resources, settings.uri());
      c.setOptions(
          ClusterClientOptions.builder()
              .autoReconnect(true)
              .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
              .requestQueueSize(REQUEST_QUEUE_SIZE)
              .socketOptions(socket)
              .timeoutOptions(timeouts)
              // Periodic (60 s) and adaptive (MOVED, ASK, reconnects) topology refresh.
              .topologyRefreshOptions(ClusterTopologyRefreshOptions.enabled())
              .build());
      return c;
    }
    RedisClient c = RedisClient.create(resources);
    c.setOptions(
        ClientOptions.builder()
            .autoReconnect(true)
            .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
            .requestQueueSize(REQUEST_QUEUE_SIZE)
            .socketOptions(socket)
            .timeoutOptions(timeouts)
            .build());
    return c;
  }

  /** How many connections the handler keeps: one per lent event loop, else 1. */
  int connections() {
    return links.size();
  }

  /** Begins connecting; {@link #initialized()} completes when every first attempt has ended. */
  void start() {
    links.forEach(Link::connect);
  }

  @Override
  public CompletionStage<Void> initialized() {
    return initialized;
  }

  /**
   * Takes {@code request.amount()} from the Redis bucket of {@code quota}'s name, dimensions and
   * limit (see {@link QuotaConfig#resolve}): {@link #allocateAll} of one.
   */
  @Override
  public CompletionStage<QuotaResult> allocate(Instance.Quota quota, QuotaRequest request) {
    return allocateAll(List.of(new Allocation(quota, request))).get(0);
  }

  /**
   * Takes each allocation from its Redis bucket, all in one {@code EVALSHA} of {@code
   * allocate.lua} (one round trip, atomic: no other client's allocation runs between them; two on
   * one bucket take from it in list order). With {@code cluster: true} the keys of one script
   * call must share a hash slot, so there is one call per slot, all sent at once (pipelined, one
   * round-trip time). An allocation fails, with {@link UnknownQuotaException}, only if the handler
   * has no entry for its instance or cannot use the caller's limit; a Redis that does not answer
   * gives every allocation of the call the {@code failOpen} outcome, never a failed stage.
   */
  @Override
  public List<CompletionStage<QuotaResult>> allocateAll(List<Allocation> requested) {
    int n = requested.size();
    @SuppressWarnings("unchecked")
    CompletionStage<QuotaResult>[] out = new CompletionStage[n];
    List<Pending> toRedis = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      Allocation a = requested.get(i);
      QuotaConfig.Bucket bucket;
      try {
        bucket = config.resolve(a.quota(), a.request());
      } catch (UnknownQuotaException e) {
        logLimited(e.getMessage());
        out[i] = CompletableFuture.failedStage(e);
        continue;
      }
      BucketLimit limit = bucket.limit();
      if (limit.maxAmount() == 0) {
        out[i] = CompletableFuture.completedStage(
            allocations.count(new QuotaResult(0, 0, 0, limit.window(), limit.window())));
        continue;
      }
      Pending p = new Pending(bucket.key(), limit, a.request(), new CompletableFuture<>());
      out[i] = p.result;
      toRedis.add(p);
    }
    if (toRedis.isEmpty()) {
      return Arrays.asList(out);
    }
    RedisScriptingAsyncCommands<String, String> cmds = pick();
    if (cmds == null) {
      for (Pending p : toRedis) {
        p.result.complete(failed(p.limit, p.request, "not connected to Redis: " + lastConnectError));
      }
    } else if (settings.cluster() && toRedis.size() > 1) {
      Map<Integer, List<Pending>> bySlot = new LinkedHashMap<>();
      for (Pending p : toRedis) {
        bySlot.computeIfAbsent(SlotHash.getSlot(p.key), k -> new ArrayList<>()).add(p);
      }
      bySlot.values().forEach(batch -> send(cmds, batch));
    } else {
      send(cmds, toRedis);
    }
    return Arrays.asList(out);
  }

  /** An allocation on its way to Redis. */
  private record Pending(
      String key, BucketLimit limit, QuotaRequest request, CompletableFuture<QuotaResult> result) {}

  /** One script call for {@code batch}; completes every allocation's stage, never exceptionally. */
  private void send(RedisScriptingAsyncCommands<String, String> cmds, List<Pending> batch) {
    int k = batch.size();
    String[] keys = new String[k];
    String[] args = new String[1 + 6 * k];
    args[0] = testNow == null ? "" : Long.toString(testNow.getAsLong());
    for (int i = 0; i < k; i++) {
      Pending p = batch.get(i);
      BucketLimit limit = p.limit;
      keys[i] = p.key;
      int b = 1 + 6 * i;
      args[b] = limit.algorithm().code();
      args[b + 1] = Long.toString(limit.maxAmount());
      args[b + 2] = Long.toString(limit.windowMillis());
      args[b + 3] = Long.toString(switch (limit.algorithm()) {
        case ROLLING_WINDOW -> limit.buckets();
        case TOKEN_BUCKET -> limit.tickMillis();
        case FIXED_WINDOW -> 0;
      });
      args[b + 4] = Long.toString(Math.min(p.request.amount(), limit.maxAmount() + 1));
      args[b + 5] = p.request.bestEffort() ? "1" : "0";
    }
    RedisScript script = RedisScript.ALLOCATE;
    long start = System.nanoTime();
    try {
      cmds.<List<Object>>evalsha(script.sha1(), ScriptOutputType.MULTI, keys, args)
          .whenComplete((reply, error) -> {
            if (error != null && isNoScript(error)) {
              try {
                cmds.<List<Object>>eval(script.source(), ScriptOutputType.MULTI, keys, args)
                    .whenComplete((r, e) -> finish(batch, start, r, e));
              } catch (RuntimeException e) {
                finish(batch, start, null, e);
              }
            } else {
              finish(batch, start, reply, error);
            }
          });
    } catch (RuntimeException e) {
      finish(batch, start, null, e);
    }
  }

  private void finish(List<Pending> batch, long start, List<Object> reply, Throwable error) {
    if (error == null) {
      roundTrip.observe((System.nanoTime() - start) / 1e9);
    }
    String problem = null;
    if (error != null) {
      problem = describe(error);
    } else if (reply == null || reply.size() != batch.size()) {
      problem = "unexpected reply " + reply + " for " + batch.size() + " allocations";
    }
    for (int i = 0; i < batch.size(); i++) {
      Pending p = batch.get(i);
      QuotaResult r;
      if (problem != null) {
        r = failed(p.limit, p.request, problem);
      } else {
        Object one = reply.get(i);
        try {
          @SuppressWarnings("unchecked")
          List<Object> values = (List<Object>) one;
          r = allocations.count(
              new io.arbiter.adapters.quota.Allocation(number(values, 0), number(values, 1),
                  number(values, 2)).toResult(p.limit));
        } catch (RuntimeException e) {
          r = failed(p.limit, p.request, "unexpected reply " + one + ": " + e);
        }
      }
      p.result.complete(r);
    }
  }

  private static long number(List<Object> reply, int i) {
    return ((Number) reply.get(i)).longValue();
  }

  /** The failOpen outcome: everything granted, or nothing; counted and logged. */
  private QuotaResult failed(BucketLimit limit, QuotaRequest request, String reason) {
    errors.inc();
    logLimited(
        "Redis at " + settings.display() + " did not answer an allocation ("
            + reason + "); answered " + (settings.failOpen() ? "fail-open (granted)"
            : "fail-closed (over the limit)"));
    QuotaResult r;
    if (settings.failOpen()) {
      r = new QuotaResult(request.amount(), limit.maxAmount(),
          Math.max(0, limit.maxAmount() - request.amount()), Duration.ZERO, limit.window());
    } else {
      Duration reset = limit.window().compareTo(FAIL_CLOSED_RESET) < 0
          ? limit.window() : FAIL_CLOSED_RESET;
      r = new QuotaResult(0, limit.maxAmount(), 0, reset, limit.window());
    }
    return allocations.count(r);
  }

  private void logLimited(String message) {
    long suppressed = failureLog.tryAcquire(clock.millis());
    if (suppressed >= 0) {
      log.log(Level.WARNING, "redisquota ''{0}'': {1}{2}", name, message,
          suppressed > 0 ? " (" + suppressed + " similar messages suppressed)" : "");
    }
  }

  private static boolean isNoScript(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (c instanceof RedisNoScriptException
          || (c.getMessage() != null && c.getMessage().startsWith("NOSCRIPT"))) {
        return true;
      }
    }
    return false;
  }

  private String describe(Throwable t) {
    Throwable c = t instanceof CompletionException && t.getCause() != null ? t.getCause() : t;
    if (c instanceof RedisCommandTimeoutException) {
      return "no reply within " + settings.timeout().toMillis() + "ms";
    }
    StringBuilder b = new StringBuilder();
    for (Throwable x = c; x != null && b.length() < 500; x = x.getCause()) {
      if (b.length() > 0) {
        b.append(", caused by ");
      }
      b.append(x.getClass().getSimpleName());
      if (x.getMessage() != null) {
        b.append(": ").append(RedisSettings.redact(x.getMessage()));
      }
    }
    return b.toString();
  }

  /**
   * The connection to send on: the one on the calling thread's event loop if it is up (no thread
   * hand-off), else the next one up in turn; null if none ever connected.
   */
  private RedisScriptingAsyncCommands<String, String> pick() {
    int n = links.size();
    if (n == 1) {
      return links.get(0).commands;
    }
    for (Link l : links) {
      if (l.loop.inEventLoop() && l.isOpen()) {
        return l.commands;
      }
    }
    int first = Math.floorMod(turn.getAndIncrement(), n);
    RedisScriptingAsyncCommands<String, String> any = null;
    for (int i = 0; i < n; i++) {
      Link l = links.get((first + i) % n);
      if (l.isOpen()) {
        return l.commands;
      }
      if (any == null) {
        any = l.commands;
      }
    }
    return any; // all down: Lettuce rejects at once, and the stage gets the failOpen outcome
  }

  /** 1 while every connection to Redis is up, else 0. */
  int connected() {
    for (Link l : links) {
      if (!l.isOpen()) {
        return 0;
      }
    }
    return 1;
  }

  /** One Lettuce client and its connection: on a lent event loop, or on resources of its own. */
  private final class Link {
    /** The lent loop the connection lives on; null on the client's own threads. */
    final EventLoop loop;
    final ClientResources resources;
    final AbstractRedisClient client;
    final CompletableFuture<Void> firstAttempt = new CompletableFuture<>();
    volatile RedisScriptingAsyncCommands<String, String> commands;
    private volatile StatefulConnection<String, String> connection;
    // Guarded by the handler's lock.
    private ScheduledFuture<?> retry;
    private int attempts;

    Link(EventLoop loop, ClientResources resources) {
      this.loop = loop;
      this.resources = resources;
      this.client = client(resources);
    }

    boolean isOpen() {
      StatefulConnection<String, String> c = connection;
      return c != null && c.isOpen();
    }

    void connect() {
      CompletionStage<? extends StatefulConnection<String, String>> attempt;
      try {
        if (settings.cluster()) {
          // Lettuce's connectAsync needs the cluster's topology loaded first (connect() does both).
          RedisClusterClient cluster = (RedisClusterClient) client;
          attempt = cluster.refreshPartitionsAsync().toCompletableFuture()
              .thenCompose(v -> cluster.connectAsync(StringCodec.UTF8));
        } else {
          attempt = ((RedisClient) client).connectAsync(StringCodec.UTF8, settings.uri());
        }
      } catch (RuntimeException e) {
        attempt = CompletableFuture.failedFuture(e);
      }
      attempt.whenComplete(this::onConnect);
    }

    private void onConnect(StatefulConnection<String, String> conn, Throwable error) {
      synchronized (lock) {
        if (closed) {
          if (conn != null) {
            conn.closeAsync();
          }
          return;
        }
        if (error != null) {
          lastConnectError = describe(error);
          long delay = Math.min(FIRST_CONNECT_RETRY_MAX.toMillis(), 250L << Math.min(attempts, 5));
          attempts++;
          log.log(Level.WARNING,
              "redisquota ''{0}'': cannot connect to Redis at {1} ({2}); allocations answer {3}"
                  + " until it succeeds; retrying in {4}ms",
              name, settings.display(), lastConnectError,
              settings.failOpen() ? "fail-open" : "fail-closed", delay);
          try {
            retry = scheduler.schedule(this::connect, delay, TimeUnit.MILLISECONDS);
          } catch (RejectedExecutionException e) {
            log.log(Level.WARNING, "redisquota ''{0}'': the scheduler is shut down; no more"
                + " connection attempts", name);
          }
        } else {
          connection = conn;
          commands = conn instanceof StatefulRedisClusterConnection<String, String> cc
              ? cc.async()
              : ((StatefulRedisConnection<String, String>) conn).async();
          log.log(Level.INFO, "redisquota ''{0}'': connected to Redis at {1}{2}", name,
              settings.display(), loop == null ? "" : " (on a server event loop)");
        }
      }
      RedisScriptingAsyncCommands<String, String> cmds = commands;
      if (error != null || cmds == null) {
        firstAttempt.complete(null);
        return;
      }
      // Load the script now, so the first allocations need no EVAL (and warm the path).
      try {
        cmds.scriptLoad(RedisScript.ALLOCATE.source()).whenComplete((sha, e) -> {
          if (e != null) {
            log.log(Level.DEBUG, "redisquota ''{0}'': SCRIPT LOAD failed ({1}); the first"
                + " allocation will send the script", name, describe(e));
          }
          firstAttempt.complete(null);
        });
      } catch (RuntimeException e) {
        firstAttempt.complete(null);
      }
    }

    /** Stops retrying; under the handler's lock. */
    void stopRetrying() {
      commands = null;
      connection = null;
      if (retry != null) {
        retry.cancel(false);
      }
    }

    /** Closes the connection and the client, then the client's resources; does not wait. */
    CompletableFuture<Void> close() {
      CompletableFuture<Void> done = new CompletableFuture<>();
      try {
        client.shutdownAsync(0, 2, TimeUnit.SECONDS)
            .whenComplete((v, t) -> resources.shutdown(0, 2, TimeUnit.SECONDS)
                .addListener(f -> done.complete(null)));
      } catch (RuntimeException e) {
        log.log(Level.WARNING, "redisquota '" + name + "': closing the Redis client failed", e);
        resources.shutdown(0, 2, TimeUnit.SECONDS).addListener(f -> done.complete(null));
      }
      return done;
    }
  }

  /**
   * Closes the connections and the clients, and releases the handler's own threads; does not wait.
   * Lent event loops are left running: they are the server's.
   */
  @Override
  public void close() {
    synchronized (lock) {
      if (closed) {
        return;
      }
      closed = true;
      lastConnectError = "the handler is closed";
      links.forEach(Link::stopRetrying);
    }
    links.forEach(l -> l.firstAttempt.complete(null));
    try {
      connectedGauge.close();
    } catch (Exception e) {
      throw new IllegalStateException("cannot happen: a gauge registration does not throw", e);
    }
    CompletableFuture<?>[] closing = links.stream().map(Link::close).toArray(CompletableFuture[]::new);
    if (computation != null) {
      CompletableFuture.allOf(closing).whenComplete((v, t) -> {
        timer.stop();
        computation.shutdownGracefully(0, 2, TimeUnit.SECONDS);
      });
    }
  }
}
