package io.arbiter.adapters.log;

import io.arbiter.engine.spi.Adapter;
import io.arbiter.engine.spi.AdapterContext;
import io.arbiter.engine.spi.Handler;
import io.arbiter.engine.spi.Params;
import io.arbiter.engine.spi.Template;
import java.io.IOException;
import java.util.Set;

/**
 * The {@code log} adapter: {@code logentry} instances written as JSON lines, one per entry:
 * {@code {"ts":"2030-01-01T00:00:00Z","severity":"INFO","name":"access","path":"/a","code":200}}.
 * {@code ts} is the entry's timestamp (ISO-8601, UTC), {@code severity} its severity, {@code name}
 * the instance's name, then the variables in config order: strings, numbers, booleans and null as
 * JSON, timestamps as ISO-8601 strings, durations as numbers of seconds, maps as objects, lists as
 * arrays ({@link io.arbiter.adapters.internal.telemetry.Json}). A variable named {@code ts}, {@code
 * severity} or {@code name} is written as {@code var.ts} and so on.
 *
 * <p>Params (all optional):
 *
 * <ul>
 *   <li>{@code sink}: {@code stdout} (default), {@code stderr} or {@code file}.
 *   <li>{@code path} (file sink; required there): the file, relative to the config's directory;
 *       its directories are created. It is opened at load, where failing to open it is a config
 *       error. Handlers writing the same path share it.
 *   <li>{@code maxFileBytes}: size-based rotation; before a line would take the file past this,
 *       {@code path} becomes {@code path.1}, {@code path.1} becomes {@code path.2} and so on. Default
 *       104857600 (100 MiB).
 *   <li>{@code maxFiles}: how many rotated files ({@code path.1} … {@code path.N}) are kept beside
 *       {@code path}, 0 to 1000; default 5. With 0 the full file is deleted and started again.
 *   <li>{@code bufferEntries}: the bound of the in-memory buffer, 1 to 10,000,000; default 10000.
 *       Entries reported while it is full are dropped and counted in {@code
 *       arbiter_log_dropped_total{handler}}.
 *   <li>{@code flushInterval}: how often the buffer is written; default {@code 1s}, at least {@code
 *       10ms}. A buffer half full (or holding 4096 lines) is written at once.
 * </ul>
 *
 * <p>Reporting only enqueues; writing happens on the engine's scheduler (no thread of its own).
 * Closing the handler writes what is buffered and closes the file. Stateless and thread-safe.
 */
public final class LogAdapter implements Adapter {

  /** For {@link java.util.ServiceLoader}. */
  public LogAdapter() {}

  @Override
  public String name() {
    return "log";
  }

  @Override
  public Set<Template> templates() {
    return Set.of(Template.LOGENTRY);
  }

  /**
   * Validates the params, opens the file of a file sink and starts the periodic flush.
   *
   * @throws io.arbiter.engine.spi.ParamsException naming every bad setting: unknown keys, an
   *     unknown sink, a missing path (or one given for another sink), a file that cannot be
   *     opened, out-of-range numbers, a bad flush interval
   */
  @Override
  public Handler create(Params params, AdapterContext context) {
    LogConfig config = LogConfig.parse(params, context);
    params.validate();
    RotatingFile file = null;
    if (config.sink() == LogConfig.Sink.FILE) {
      try {
        file = RotatingFile.acquire(config.path());
      } catch (IOException | RuntimeException e) {
        params.error("path", "cannot open " + config.path() + " for appending: " + e);
        params.validate();
      }
    }
    LogHandler handler = new LogHandler(config, file, context);
    handler.start();
    return handler;
  }
}
