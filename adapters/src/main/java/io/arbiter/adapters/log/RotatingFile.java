package io.arbiter.adapters.log;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A log file appended to and rotated by size, shared by every handler that writes the same path: a
 * reload builds the new handler while the old one still writes, and two writers rotating one file
 * behind each other's back would lose lines.
 *
 * <p>Rotation: before a line that would take the file past {@code maxBytes}, the file is renamed
 * to {@code path.1}, {@code path.1} to {@code path.2}, and so on up to {@code path.maxFiles} (the
 * oldest is overwritten), and a new file is started; with {@code maxFiles} 0 the full file is
 * deleted instead. A line longer than {@code maxBytes} still goes whole into a file of its own.
 * The size counts what this process wrote plus the size the file had when opened.
 *
 * <p>A write that fails closes the stream; the next write reopens the file. Thread-safe: writes
 * hold the file's lock.
 */
final class RotatingFile {
  private static final Map<Path, RotatingFile> OPEN = new HashMap<>();

  private final Path path;
  private int users; // guarded by OPEN
  // Guarded by this.
  private OutputStream out;
  private long size;

  private RotatingFile(Path path) {
    this.path = path;
  }

  /**
   * Opens {@code path} for appending (creating its directories), or joins the handlers that have it
   * open. Pair with {@link #release()}.
   *
   * @throws IOException if the file cannot be opened
   */
  static RotatingFile acquire(Path path) throws IOException {
    synchronized (OPEN) {
      RotatingFile f = OPEN.get(path);
      if (f == null) {
        f = new RotatingFile(path);
        synchronized (f) {
          f.open();
        }
        OPEN.put(path, f);
      }
      f.users++;
      return f;
    }
  }

  /** Leaves the file; the last user closes it. */
  void release() {
    synchronized (OPEN) {
      if (--users == 0) {
        OPEN.remove(path);
        synchronized (this) {
          closeQuietly();
        }
      }
    }
  }

  Path path() {
    return path;
  }

  /**
   * Appends {@code lines} (each ending in a newline), rotating as needed, and flushes.
   *
   * @throws IOException if a write, a rename or the flush fails; the lines of the batch may be
   *     partly written
   */
  synchronized void write(List<byte[]> lines, long maxBytes, int maxFiles) throws IOException {
    try {
      if (out == null) {
        open();
      }
      for (byte[] line : lines) {
        if (size > 0 && size + line.length > maxBytes) {
          rotate(maxFiles);
        }
        out.write(line);
        size += line.length;
      }
      out.flush();
    } catch (IOException | RuntimeException e) {
      closeQuietly();
      throw e;
    }
  }

  private void rotate(int maxFiles) throws IOException {
    out.close();
    out = null;
    if (maxFiles == 0) {
      Files.deleteIfExists(path);
    } else {
      for (int i = maxFiles - 1; i >= 1; i--) {
        Path from = numbered(i);
        if (Files.exists(from)) {
          Files.move(from, numbered(i + 1), StandardCopyOption.REPLACE_EXISTING);
        }
      }
      Files.move(path, numbered(1), StandardCopyOption.REPLACE_EXISTING);
    }
    open();
  }

  private Path numbered(int i) {
    return path.resolveSibling(path.getFileName() + "." + i);
  }

  private void open() throws IOException {
    Path dir = path.getParent();
    if (dir != null) {
      Files.createDirectories(dir);
    }
    out = new BufferedOutputStream(
        Files.newOutputStream(path, StandardOpenOption.CREATE, StandardOpenOption.APPEND), 1 << 16);
    size = Files.size(path);
  }

  private void closeQuietly() {
    if (out != null) {
      try {
        out.close();
      } catch (IOException e) {
        // The lines it held are counted as dropped by the write that failed.
      }
      out = null;
    }
  }
}
