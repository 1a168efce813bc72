package io.arbiter.adapters.testing;

import io.arbiter.engine.testing.MutableClock;
import com.codahale.metrics.Counter;
import com.codahale.metrics.Gauge;
import io.arbiter.engine.metrics.Metrics;
import io.arbiter.engine.spi.AdapterContext;
import java.net.http.HttpClient;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Optional;
import java.util.concurrent.ScheduledExecutorService;

/**
 * An {@link AdapterContext} of real parts a test controls: a {@link MutableClock}, the scheduler it
 * passes (a {@link ManualScheduler} by default), a {@link RecordingLogger}, a fresh {@link
 * Metrics}, and the HTTP client it passes (a shared one if null).
 */
public final class TestContext implements AdapterContext {
  private final String handlerName;
  private final Path baseDirectory;
  private final MutableClock clock;
  private final ScheduledExecutorService scheduler;
  private final HttpClient httpClient;
  private final Metrics metrics;
  private final RecordingLogger logger;
  private Optional<ScheduledExecutorService> ioEventLoops = Optional.empty();

  public TestContext(
      String handlerName,
      Path baseDirectory,
      MutableClock clock,
      ScheduledExecutorService scheduler,
      HttpClient httpClient,
      Metrics metrics) {
    this.handlerName = handlerName;
    this.baseDirectory = baseDirectory;
    this.clock = clock;
    this.scheduler = scheduler;
    this.httpClient = httpClient;
    this.metrics = metrics;
    this.logger = new RecordingLogger("arbiter.handler." + handlerName);
  }

  /**
   * A context with a manual scheduler, a shared HTTP client, and {@code /nonexistent} as the base
   * directory.
   */
  public TestContext(String handlerName) {
    this(
        handlerName,
        Path.of("/nonexistent"),
        new MutableClock(),
        new ManualScheduler(),
        null,
        new Metrics());
  }

  /** The same parts under another handler name (and a logger of its own). */
  public TestContext named(String name) {
    return new TestContext(name, baseDirectory, clock, scheduler, httpClient, metrics);
  }

  @Override
  public Clock clock() {
    return clock;
  }

  public MutableClock mutableClock() {
    return clock;
  }

  @Override
  public ScheduledExecutorService scheduler() {
    return scheduler;
  }

  public ManualScheduler manualScheduler() {
    return (ManualScheduler) scheduler;
  }

  @Override
  public RecordingLogger logger() {
    return logger;
  }

  @Override
  public Metrics metrics() {
    return metrics;
  }

  @Override
  public HttpClient httpClient() {
    return httpClient != null ? httpClient : SharedClient.INSTANCE;
  }

  /** Created on first use: most tests never fetch over HTTP. */
  private static final class SharedClient {
    static final HttpClient INSTANCE = HttpClient.newHttpClient();
  }

  /** Lends {@code loops} as the server's I/O event loops ({@link #ioEventLoops()}); returns this. */
  public TestContext withIoEventLoops(ScheduledExecutorService loops) {
    this.ioEventLoops = Optional.of(loops);
    return this;
  }

  @Override
  public Optional<ScheduledExecutorService> ioEventLoops() {
    return ioEventLoops;
  }

  @Override
  public Path baseDirectory() {
    return baseDirectory;
  }

  @Override
  public String handlerName() {
    return handlerName;
  }

  /** The count of a counter series, by its Prometheus key, e.g. {@code name{a="b"}}; 0 if none. */
  public long counter(String key) {
    Counter c = metrics.registry().getCounters().get(key);
    return c == null ? 0 : c.getCount();
  }

  /** The value of a gauge series, by its Prometheus key; null if none. */
  public Object gauge(String key) {
    Gauge<?> g = metrics.registry().getGauges().get(key);
    return g == null ? null : g.getValue();
  }
}
