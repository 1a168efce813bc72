package io.arbiter.server;

import io.arbiter.accesslog.AccessLogs;
import io.arbiter.engine.EngineServices;
import io.arbiter.engine.PolicyEngine;
import io.arbiter.engine.config.ConfigException;
import io.arbiter.engine.config.ConfigSnapshot;
import io.arbiter.extauthz.AuthorizationService;
import io.arbiter.extauthz.HttpCheckService;
import io.arbiter.ratelimit.RateLimitService;
import io.arbiter.server.internal.AdminServer;
import io.arbiter.server.internal.CallingLoopScheduler;
import io.arbiter.server.internal.ConfigWatcher;
import io.arbiter.server.internal.HttpCheckServer;
import io.arbiter.server.internal.InlineCalls;
import io.arbiter.server.internal.IoEventLoops;
import io.envoyproxy.envoy.service.auth.v3.AuthorizationGrpc;
import io.envoyproxy.envoy.service.ratelimit.v3.RateLimitServiceGrpc;
import io.grpc.Server;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.arbiter.frontend.Arrival;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A running Arbiter: the engine on its config, one gRPC port (Envoy's ext_authz
 * {@code Authorization}, Envoy's {@code AccessLogService} and the OTLP {@code LogsService} feeding
 * the access-log queue, {@code grpc.health.v1}, server reflection), the HTTP-mode check port
 * (Envoy's {@code http_service}, nginx's {@code auth_request}) unless turned off, and the admin
 * HTTP port.
 *
 * <p>{@link #close()} shuts down gracefully: readiness and health turn to not-serving, the gRPC
 * server and the HTTP check listener stop taking checks and drain those in flight for up to the
 * drain timeout (open access-log streams are ended with OK at once), the access-log queue is
 * flushed within what is left of it, then the rest stops.
 */
public final class ArbiterServer implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger("arbiter.server");
  /** The services grpc.health.v1 reports on, beside the server as a whole (""). */
  private static final List<String> HEALTH_SERVICES = List.of(
      "", "envoy.service.auth.v3.Authorization", "envoy.service.ratelimit.v3.RateLimitService",
      "envoy.service.accesslog.v3.AccessLogService", "opentelemetry.proto.collector.logs.v1.LogsService");

  /** The HTTP check port {@code serve} uses unless told otherwise. */
  public static final int DEFAULT_HTTP_PORT = 9192;

  /**
   * How to run.
   *
   * @param httpPort the HTTP-mode check port; 0 picks a free one, -1 (the default here; {@code
   *     serve}'s is {@value #DEFAULT_HTTP_PORT}) turns the listener off
   * @param httpPathPrefix the path checks arrive under, like Envoy's {@code path_prefix}; other
   *     paths get 404
   * @param threads threads that run checks, for gRPC and again for HTTP; 0 means one per core (at
   *     least 2)
   * @param maxMessageBytes the largest gRPC message and HTTP check body the transports accept
   * @param inlineCalls run ext_authz {@code Check} and {@code ShouldRateLimit} calls on the gRPC
   *     transport's event-loop thread that read them, instead of handing each to the {@code
   *     threads} pool: two thread hand-offs fewer per call (a wake-up of a pool thread, and one of
   *     the event loop to write the answer), which on a small VM is a third or more of a call's
   *     CPU at moderate rates. Safe because deciding never blocks (handlers answer with stages);
   *     a slow evaluation delays the other calls of the same event loop instead. The calls then
   *     wait in the transport (HTTP/2 flow control), not in a queue, so {@code
   *     settings.overload.maxQueueTime} sees no wait and only {@code maxConcurrentChecks} sheds.
   *     Access-log streams and OTLP exports stay on the pool (a full queue may spill to disk).
   *     The event loops are lent to adapters whatever this says ({@code
   *     AdapterContext.ioEventLoops()}): with it, a redisquota call's Redis round trip also stays
   *     on the thread that read the call.
   * @param readyTimeout how long readiness waits for handlers' first load before it gives up
   *     waiting and reports ready anyway (a list URL that never answers must not keep Arbiter out
   *     of service; its checks fail by the failure policy meanwhile)
   */
  public record Options(
      ConfigSource config,
      String grpcHost,
      int grpcPort,
      String adminHost,
      int adminPort,
      String httpHost,
      int httpPort,
      String httpPathPrefix,
      Duration watchInterval,
      Duration drainTimeout,
      Duration readyTimeout,
      int threads,
      int maxMessageBytes,
      boolean inlineCalls) {

    public static Options defaults() {
      return new Options(new ConfigSource.Embedded(), "0.0.0.0", 9191, "127.0.0.1", 9901,
          "0.0.0.0", -1, "/check", Duration.ofSeconds(2), Duration.ofSeconds(10), Duration.ofSeconds(30), 0, 4 * 1024 * 1024, false);
    }

    public Options withConfig(ConfigSource c) {
      return new Options(c, grpcHost, grpcPort, adminHost, adminPort, httpHost, httpPort, httpPathPrefix, watchInterval, drainTimeout, readyTimeout, threads, maxMessageBytes, inlineCalls);
    }

    public Options withPorts(int grpc, int admin) {
      return new Options(config, grpcHost, grpc, adminHost, admin, httpHost, httpPort, httpPathPrefix, watchInterval, drainTimeout, readyTimeout, threads, maxMessageBytes, inlineCalls);
    }

    public Options withWatchInterval(Duration d) {
      return new Options(config, grpcHost, grpcPort, adminHost, adminPort, httpHost, httpPort, httpPathPrefix, d, drainTimeout, readyTimeout, threads, maxMessageBytes, inlineCalls);
    }

    public Options withHosts(String grpc, String admin) {
      return new Options(config, grpc, grpcPort, admin, adminPort, httpHost, httpPort, httpPathPrefix, watchInterval, drainTimeout, readyTimeout, threads, maxMessageBytes, inlineCalls);
    }

    /** The HTTP check listener's host, port (-1: off) and path prefix. */
    public Options withHttp(String host, int port, String pathPrefix) {
      return new Options(config, grpcHost, grpcPort, adminHost, adminPort, host, port, pathPrefix, watchInterval, drainTimeout, readyTimeout, threads, maxMessageBytes, inlineCalls);
    }

    /** See {@code inlineCalls} above. */
    public Options withInlineCalls(boolean inline) {
      return new Options(config, grpcHost, grpcPort, adminHost, adminPort, httpHost, httpPort, httpPathPrefix, watchInterval, drainTimeout, readyTimeout, threads, maxMessageBytes, inline);
    }

    public Options withDrainTimeout(Duration d) {
      return new Options(config, grpcHost, grpcPort, adminHost, adminPort, httpHost, httpPort, httpPathPrefix, watchInterval, d, readyTimeout, threads, maxMessageBytes, inlineCalls);
    }
  }

  private final Options options;
  private final IoEventLoops loops;
  private final EngineServices services;
  private final PolicyEngine engine;
  private final ConfigWatcher watcher;
  private final HealthStatusManager health = new HealthStatusManager();
  private final ExecutorService executor;
  private final Server grpc;
  private final HttpCheckServer http;
  private final AdminServer admin;
  private final AccessLogs accessLogs;
  private final CompletableFuture<Void> initialized = new CompletableFuture<>();
  private volatile boolean draining;

  private ArbiterServer(Options options, AccessLogs.Options accessLogOptions,
      List<ServerInterceptor> rateLimitInterceptors) throws IOException, ConfigException {
    this.options = options;
    // Made before the engine so that handlers can borrow them as they load (redisquota's Lettuce
    // connections live on them: a call and its Redis round trip then stay on one thread).
    this.loops = IoEventLoops.start(0);
    // Quota deadlines timed by the loop that armed them: no other thread woken per call.
    this.services = EngineServices.defaults(Optional.of(loops.group()))
        .withDeadlines(new CallingLoopScheduler(loops.group()));
    this.engine = new PolicyEngine(services);
    this.watcher = new ConfigWatcher(engine, options.config(), services.metrics());
    ExecutorService ex = null;
    Server server = null;
    HttpCheckServer httpServer = null;
    AdminServer adminServer = null;
    AccessLogs logs = null;
    try {
      ConfigSnapshot snapshot = watcher.loadInitial();
      HEALTH_SERVICES.forEach(name -> health.setStatus(name, ServingStatus.NOT_SERVING));
      snapshot.initialized()
          .completeOnTimeout(null, options.readyTimeout().toMillis(), TimeUnit.MILLISECONDS)
          .thenRun(this::markInitialized);
      ex = checkExecutor(options.threads());
      logs = AccessLogs.start(engine, accessLogOptions);
      AuthorizationService authorization = new AuthorizationService(engine);
      authorization.warmUp();
      NettyServerBuilder builder =
          NettyServerBuilder.forAddress(new InetSocketAddress(options.grpcHost(), options.grpcPort()))
              .bossEventLoopGroup(loops.group())
              .workerEventLoopGroup(loops.group())
              .channelType(loops.serverChannelType());
      String check = AuthorizationGrpc.getCheckMethod().getFullMethodName();
      if (options.inlineCalls()) {
        InlineCalls.install(builder, ex, Set.of(check,
            RateLimitServiceGrpc.getShouldRateLimitMethod().getFullMethodName()));
      } else {
        builder.executor(ex);
      }
      server =
          builder
              .maxInboundMessageSize(options.maxMessageBytes())
              .addStreamTracerFactory(Arrival.tracer(Set.of(check)))
              .addService(authorization)
              .addService(logs.accessLogService())
              .addService(logs.otlpLogsService())
              .addService(ServerInterceptors.intercept(new RateLimitService(engine), rateLimitInterceptors))
              .addService(health.getHealthService())
              .addService(ProtoReflectionServiceV1.newInstance())
              .build()
              .start();
      warmUpTransport(server.getPort());
      if (options.httpPort() >= 0) {
        httpServer =
            new HttpCheckServer(new InetSocketAddress(options.httpHost(), options.httpPort()),
                options.httpPathPrefix(), new HttpCheckService(engine), options.threads(),
                options.maxMessageBytes());
        httpServer.start();
      }
      adminServer =
          new AdminServer(new InetSocketAddress(options.adminHost(), options.adminPort()), engine,
              services.metrics(), this::notReadyReason);
      adminServer.start();
      watcher.start(services.scheduler(), options.watchInterval());
    } catch (IOException | ConfigException | RuntimeException e) {
      if (server != null) {
        server.shutdownNow();
      }
      if (httpServer != null) {
        httpServer.close();
      }
      if (adminServer != null) {
        adminServer.close();
      }
      if (ex != null) {
        ex.shutdownNow();
      }
      if (logs != null) {
        logs.close(Duration.ZERO);
      }
      engine.close();
      services.close();
      loops.close();
      throw e;
    }
    this.executor = ex;
    this.grpc = server;
    this.http = httpServer;
    this.admin = adminServer;
    this.accessLogs = logs;
    LOG.log(System.Logger.Level.INFO, "arbiter listening: grpc {0}:{1,number,#} ({5}, {6} event loops), http checks {2}, admin http://{3}:{4,number,#}",
        options.grpcHost(), grpcPort(),
        http == null ? "off" : "http://" + options.httpHost() + ":" + http.port() + http.prefix() + "/",
        options.adminHost(), adminPort(), loops.transport(), loops.size());
  }

  /**
   * Loads the config and starts serving.
   *
   * @throws ConfigException if the config is invalid (nothing is left running)
   * @throws IOException if a port cannot be bound
   */
  public static ArbiterServer start(Options options) throws IOException, ConfigException {
    return start(options, AccessLogs.Options.DEFAULT);
  }

  /**
   * Loads the config and starts serving, with these access-log queue settings and OTLP mapping.
   *
   * @throws ConfigException if the config is invalid (nothing is left running)
   * @throws IOException if a port cannot be bound or the access-log spill directory not used
   */
  public static ArbiterServer start(Options options, AccessLogs.Options accessLogOptions)
      throws IOException, ConfigException {
    return new ArbiterServer(options, accessLogOptions, List.of());
  }

  /** For tests: as {@link #start(Options)}, with {@code interceptors} around {@code ShouldRateLimit}. */
  static ArbiterServer start(Options options, List<ServerInterceptor> rateLimitInterceptors)
      throws IOException, ConfigException {
    return new ArbiterServer(options, AccessLogs.Options.DEFAULT, rateLimitInterceptors);
  }

  /**
   * A few health checks to our own gRPC port over a real connection, so the first calls from a
   * proxy do not pay for loading the HTTP/2 and gRPC server classes (on a cold JVM that was most
   * of a second, past Envoy's ext_authz and rate-limit timeouts). Health checks have no effects;
   * failures only cost the first calls their speed.
   */
  private void warmUpTransport(int port) {
    String host = options.grpcHost().isEmpty() || options.grpcHost().equals("0.0.0.0")
        || options.grpcHost().equals("::") ? "127.0.0.1" : options.grpcHost();
    io.grpc.ManagedChannel channel = NettyChannelBuilder.forAddress(host, port)
        .eventLoopGroup(loops.group())
        .channelType(loops.clientChannelType())
        .usePlaintext()
        .build();
    try {
      var stub = io.grpc.health.v1.HealthGrpc.newBlockingStub(channel);
      for (int i = 0; i < 20; i++) {
        stub.withDeadlineAfter(5, TimeUnit.SECONDS)
            .check(io.grpc.health.v1.HealthCheckRequest.newBuilder().setService("").build());
      }
    } catch (RuntimeException e) {
      LOG.log(System.Logger.Level.DEBUG, "transport warm-up failed; the first calls will be slower", e);
    } finally {
      channel.shutdownNow();
    }
  }

  private static ExecutorService checkExecutor(int threads) {
    int n = threads > 0 ? threads : Math.max(2, Runtime.getRuntime().availableProcessors());
    AtomicInteger id = new AtomicInteger();
    return new ThreadPoolExecutor(n, n, 60, TimeUnit.SECONDS, new LinkedBlockingQueue<>(), r -> {
      Thread t = new Thread(r, "arbiter-grpc-" + id.incrementAndGet());
      t.setDaemon(true);
      return t;
    });
  }

  private void markInitialized() {
    initialized.complete(null);
    if (!draining) {
      HEALTH_SERVICES.forEach(name -> health.setStatus(name, ServingStatus.SERVING));
    }
  }

  private Optional<String> notReadyReason() {
    if (draining) {
      return Optional.of("shutting down");
    }
    if (engine.current().isEmpty()) {
      return Optional.of("no config loaded");
    }
    if (!initialized.isDone()) {
      return Optional.of("handlers are loading their data");
    }
    return Optional.empty();
  }

  public int grpcPort() {
    return grpc.getPort();
  }

  /** The HTTP check port; -1 when the listener is off. */
  public int httpPort() {
    return http == null ? -1 : http.port();
  }

  public int adminPort() {
    return admin.port();
  }

  public PolicyEngine engine() {
    return engine;
  }

  /** Blocks until the gRPC server has terminated. */
  public void awaitTermination() throws InterruptedException {
    grpc.awaitTermination();
  }

  /** Completes when the handlers of the first config finished loading (or the ready timeout passed). */
  public CompletableFuture<Void> whenReady() {
    return initialized.copy();
  }

  @Override
  public synchronized void close() {
    if (draining && grpc.isTerminated()) {
      return;
    }
    draining = true;
    LOG.log(System.Logger.Level.INFO, "shutting down: draining checks in flight for up to {0}",
        io.arbiter.engine.spi.Durations.format(options.drainTimeout()));
    health.enterTerminalState();
    long deadline = System.nanoTime() + options.drainTimeout().toNanos();
    grpc.shutdown();
    accessLogs.stopStreams(); // Envoy keeps them open forever; it reopens them elsewhere
    if (http != null) {
      http.close(options.drainTimeout()); // gRPC drains meanwhile
    }
    try {
      if (!grpc.awaitTermination(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
        LOG.log(System.Logger.Level.WARNING, "drain timeout passed; cancelling the checks still in flight");
        grpc.shutdownNow();
        grpc.awaitTermination(1, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      grpc.shutdownNow();
    }
    accessLogs.close(Duration.ofNanos(Math.max(0, deadline - System.nanoTime())));
    watcher.close();
    admin.close();
    executor.shutdown();
    engine.close();
    services.close();
    loops.close(); // last: closing handlers (Lettuce's connections) still runs on them
    LOG.log(System.Logger.Level.INFO, "stopped");
  }
}
