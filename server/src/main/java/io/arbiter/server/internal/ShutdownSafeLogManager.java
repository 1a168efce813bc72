package io.arbiter.server.internal;

import java.util.logging.LogManager;

/**
 * A JUL log manager that does not reset itself when the JVM shuts down, so the messages of a
 * graceful shutdown (draining, stopped) still reach the log. The JDK's own manager closes every
 * handler from a shutdown hook that races with ours. Selected with the system property {@code
 * java.util.logging.manager} before anything logs.
 */
public final class ShutdownSafeLogManager extends LogManager {

  /** Does nothing: {@link JsonLogFormatter#install} replaces handlers itself. */
  @Override
  public void reset() {}
}
