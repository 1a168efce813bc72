package io.arbiter.engine;

import io.arbiter.engine.metrics.Metrics;
import io.arbiter.engine.spi.Adapter;
import java.net.http.HttpClient;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.ServiceLoader;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * What the engine and its adapters run on: the adapters known, a clock, a small scheduler, the
 * metrics registry, a shared HTTP client, the I/O event loops the server lends its adapters (see
 * {@link io.arbiter.engine.spi.AdapterContext#ioEventLoops()}), if any, and where the deadlines of
 * handler calls are timed ({@code deadlines}: the scheduler unless the server gives one that times
 * a deadline on the event loop that armed it, so arming and disarming one wakes no other thread).
 * The engine owns none of it; whoever builds it closes it ({@link #close()} stops the scheduler;
 * the event loops and {@code deadlines} stay their lender's).
 */
public record EngineServices(
    Map<String, Adapter> adapters,
    Clock clock,
    ScheduledExecutorService scheduler,
    Metrics metrics,
    HttpClient httpClient,
    Optional<ScheduledExecutorService> ioEventLoops,
    ScheduledExecutorService deadlines)
    implements AutoCloseable {

  public EngineServices {
    adapters = Map.copyOf(adapters);
    if (ioEventLoops == null) {
      throw new NullPointerException("ioEventLoops: use Optional.empty()");
    }
    if (deadlines == null) {
      throw new NullPointerException("deadlines: pass the scheduler");
    }
  }

  /** The adapters on the class path, the system clock, a 2-thread daemon scheduler, new metrics. */
  public static EngineServices defaults() {
    return defaults(Optional.empty());
  }

  /** As {@link #defaults()}, lending the adapters {@code ioEventLoops} (closing does not stop them). */
  public static EngineServices defaults(Optional<ScheduledExecutorService> ioEventLoops) {
    return create(discoverAdapters(), Clock.systemUTC(), new Metrics(), ioEventLoops);
  }

  /** These services with handler-call deadlines timed on {@code deadlines} (never shut down here). */
  public EngineServices withDeadlines(ScheduledExecutorService deadlines) {
    return new EngineServices(adapters, clock, scheduler, metrics, httpClient, ioEventLoops, deadlines);
  }

  public static EngineServices create(Map<String, Adapter> adapters, Clock clock, Metrics metrics) {
    return create(adapters, clock, metrics, Optional.empty());
  }

  /** As {@link #create(Map, Clock, Metrics)}, lending the adapters {@code ioEventLoops}. */
  public static EngineServices create(Map<String, Adapter> adapters, Clock clock, Metrics metrics,
      Optional<ScheduledExecutorService> ioEventLoops) {
    AtomicInteger n = new AtomicInteger();
    ScheduledThreadPoolExecutor scheduler =
        new ScheduledThreadPoolExecutor(
            2,
            r -> {
              Thread t = new Thread(r, "arbiter-scheduler-" + n.incrementAndGet());
              t.setDaemon(true);
              return t;
            });
    scheduler.setRemoveOnCancelPolicy(true);
    HttpClient http =
        HttpClient.newBuilder()
            .connectTimeout(Duration.ofSeconds(5))
            .followRedirects(HttpClient.Redirect.NORMAL)
            .executor(scheduler)
            .build();
    return new EngineServices(adapters, clock, scheduler, metrics, http, ioEventLoops, scheduler);
  }

  /**
   * Every {@link Adapter} that {@link ServiceLoader} finds, by name.
   *
   * @throws IllegalStateException if two adapters share a name
   */
  public static Map<String, Adapter> discoverAdapters() {
    Map<String, Adapter> out = new LinkedHashMap<>();
    for (Adapter a : ServiceLoader.load(Adapter.class)) {
      Adapter previous = out.putIfAbsent(a.name(), a);
      if (previous != null) {
        throw new IllegalStateException(
            "two adapters named '" + a.name() + "': " + previous.getClass().getName() + " and "
                + a.getClass().getName());
      }
    }
    return out;
  }

  @Override
  public void close() {
    scheduler.shutdownNow();
  }

}
