package io.arbiter.adapters.testing;

import java.text.MessageFormat;
import java.util.List;
import java.util.ResourceBundle;
import java.util.concurrent.CopyOnWriteArrayList;

/** A {@link System.Logger} that keeps every record, formatted, for assertions. */
public final class RecordingLogger implements System.Logger {

  /** One logged line. */
  public record Line(Level level, String message, Throwable thrown) {}

  private final String name;
  private final List<Line> lines = new CopyOnWriteArrayList<>();

  public RecordingLogger(String name) {
    this.name = name;
  }

  public List<Line> lines() {
    return lines;
  }

  /** The messages logged at {@code level}. */
  public List<String> messages(Level level) {
    return lines.stream().filter(l -> l.level() == level).map(Line::message).toList();
  }

  @Override
  public String getName() {
    return name;
  }

  @Override
  public boolean isLoggable(Level level) {
    return true;
  }

  @Override
  public void log(Level level, ResourceBundle bundle, String msg, Throwable thrown) {
    lines.add(new Line(level, msg, thrown));
  }

  @Override
  public void log(Level level, ResourceBundle bundle, String format, Object... params) {
    String text =
        params == null || params.length == 0 ? format : MessageFormat.format(format, params);
    lines.add(new Line(level, text, null));
  }
}
