package io.arbiter.adapters.log;

import io.arbiter.engine.spi.AdapterContext;
import io.arbiter.engine.spi.Durations;
import io.arbiter.engine.spi.Params;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The settings of one {@code log} handler, read from its params (see {@link LogAdapter} for their
 * meaning).
 *
 * @param path the file of a {@link Sink#FILE} sink, absolute and normalized; null for the others
 */
record LogConfig(
    Sink sink,
    Path path,
    long maxFileBytes,
    int maxFiles,
    int bufferEntries,
    Duration flushInterval) {

  /** Where lines go. */
  enum Sink {
    STDOUT,
    STDERR,
    FILE
  }

  static final long DEFAULT_MAX_FILE_BYTES = 100L << 20;
  static final Duration MIN_FLUSH_INTERVAL = Duration.ofMillis(10);

  /** Reads every setting, recording each problem on {@code params}; does not validate. */
  static LogConfig parse(Params params, AdapterContext context) {
    Sink sink = params.enumValue("sink", Sink.class, Sink.STDOUT);
    String pathText = params.string("path", null);
    Path path = null;
    if (sink == Sink.FILE) {
      if (pathText == null || pathText.isBlank()) {
        params.error("path", "required for sink FILE");
      } else {
        try {
          path = context.baseDirectory().resolve(pathText).toAbsolutePath().normalize();
        } catch (InvalidPathException e) {
          params.error("path", "'" + pathText + "' is not a path: " + e.getMessage());
        }
      }
    } else if (pathText != null) {
      params.error("path", "only a FILE sink has a path (sink is " + sink + ")");
    }
    long maxFileBytes = params.integer("maxFileBytes", DEFAULT_MAX_FILE_BYTES, 1, Long.MAX_VALUE);
    int maxFiles = (int) params.integer("maxFiles", 5, 0, 1000);
    int bufferEntries = (int) params.integer("bufferEntries", 10_000, 1, 10_000_000);
    Duration flushInterval = params.duration("flushInterval", Duration.ofSeconds(1));
    if (flushInterval.compareTo(MIN_FLUSH_INTERVAL) < 0) {
      params.error("flushInterval", "must be at least 10ms, was " + Durations.format(flushInterval));
      flushInterval = MIN_FLUSH_INTERVAL;
    }
    return new LogConfig(sink, path, maxFileBytes, maxFiles, bufferEntries, flushInterval);
  }
}
