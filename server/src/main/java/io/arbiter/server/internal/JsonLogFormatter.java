package io.arbiter.server.internal;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Instant;
import java.util.logging.Formatter;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.logging.StreamHandler;

/**
 * Formats log records as one JSON object per line: {@code ts}, {@code level}, {@code logger},
 * {@code msg}, and {@code error} with the stack trace when there is one.
 */
public final class JsonLogFormatter extends Formatter {
  /** Held so the levels set on them are not lost when JUL drops unreferenced loggers. */
  private static final Logger GRPC = Logger.getLogger("io.grpc");

  private static final Logger NETTY = Logger.getLogger("io.netty");

  @Override
  public String format(LogRecord r) {
    StringBuilder b = new StringBuilder(256);
    b.append("{\"ts\":").append(Json.quote(Instant.ofEpochMilli(r.getMillis()).toString()));
    b.append(",\"level\":").append(Json.quote(level(r.getLevel())));
    b.append(",\"logger\":").append(Json.quote(String.valueOf(r.getLoggerName())));
    b.append(",\"msg\":").append(Json.quote(formatMessage(r)));
    if (r.getThrown() != null) {
      StringWriter trace = new StringWriter();
      r.getThrown().printStackTrace(new PrintWriter(trace));
      b.append(",\"error\":").append(Json.quote(trace.toString()));
    }
    return b.append("}\n").toString();
  }

  private static String level(Level l) {
    if (l.intValue() >= Level.SEVERE.intValue()) {
      return "ERROR";
    } else if (l.intValue() >= Level.WARNING.intValue()) {
      return "WARN";
    } else if (l.intValue() >= Level.INFO.intValue()) {
      return "INFO";
    }
    return "DEBUG";
  }

  /**
   * Sends every log record to stderr as JSON lines at {@code level} and above; grpc-java and Netty
   * only from WARNING up.
   */
  public static void install(Level level) {
    Logger root = Logger.getLogger("");
    for (Handler old : root.getHandlers()) {
      root.removeHandler(old);
      old.close();
    }
    Handler h =
        new StreamHandler(System.err, new JsonLogFormatter()) {
          @Override
          public synchronized void publish(LogRecord record) {
            super.publish(record);
            flush();
          }
        };
    h.setLevel(Level.ALL);
    root.addHandler(h);
    root.setLevel(level);
    GRPC.setLevel(Level.WARNING);
    NETTY.setLevel(Level.WARNING);
  }
}
