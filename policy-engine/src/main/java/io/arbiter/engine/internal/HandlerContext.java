package io.arbiter.engine.internal;

import io.arbiter.engine.EngineServices;
import io.arbiter.engine.metrics.Metrics;
import io.arbiter.engine.spi.AdapterContext;
import java.net.http.HttpClient;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Optional;
import java.util.concurrent.ScheduledExecutorService;

/** The {@link AdapterContext} of one handler. */
public record HandlerContext(EngineServices services, String handlerName, Path baseDirectory)
    implements AdapterContext {

  @Override
  public Clock clock() {
    return services.clock();
  }

  @Override
  public ScheduledExecutorService scheduler() {
    return services.scheduler();
  }

  @Override
  public System.Logger logger() {
    return System.getLogger("arbiter.handler." + handlerName);
  }

  @Override
  public Metrics metrics() {
    return services.metrics();
  }

  @Override
  public HttpClient httpClient() {
    return services.httpClient();
  }

  @Override
  public Optional<ScheduledExecutorService> ioEventLoops() {
    return services.ioEventLoops();
  }
}
