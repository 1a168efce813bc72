package io.arbiter.engine.spi;

import io.arbiter.engine.metrics.Metrics;
import java.net.http.HttpClient;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Optional;
import java.util.concurrent.ScheduledExecutorService;

/**
 * What the engine lends an adapter's handlers: time, a scheduler for timers and background work, a
 * logger, the metrics registry, an HTTP client, and the directory relative paths resolve against.
 * Handlers start no threads of their own and never shut these down.
 */
public interface AdapterContext {

  /** The clock to read time from; tests inject a fixed or moving one. */
  Clock clock();

  /** For refreshes and timers. Tasks must be short or asynchronous: the pool is small. */
  ScheduledExecutorService scheduler();

  /** A logger named after the handler. */
  System.Logger logger();

  Metrics metrics();

  /** A shared HTTP client for adapters that fetch over HTTP. */
  HttpClient httpClient();

  /** The directory of the config file that declared the handler. */
  Path baseDirectory();

  /** The handler's name in config. */
  String handlerName();

  /**
   * The server's I/O event loops, for clients that can run their I/O on them: a client whose
   * socket is served by the event loop that also read the call has its reply handled, and the
   * call answered, on that one thread, with no hand-off between threads. Empty when the process
   * lends none (tests, tools, a transport that is not event-loop based); the default.
   *
   * <p>What the executor is depends on the transport and is the adapter's to recognize (Arbiter's
   * gRPC server lends a Netty {@code EventLoopGroup}); an adapter that does not recognize it keeps
   * its own threads. A borrower must never shut it down, never block on it, and keep its tasks
   * short: every call of the server waits behind them.
   */
  default Optional<ScheduledExecutorService> ioEventLoops() {
    return Optional.empty();
  }
}
