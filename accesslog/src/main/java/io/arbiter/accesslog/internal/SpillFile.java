package io.arbiter.accesslog.internal;

import io.arbiter.engine.AttributeBag;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.Closeable;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.stream.Stream;
import java.util.zip.CRC32;

/**
 * A bounded, first-in first-out store of {@link AttributeBag}s on disk: the overflow of the
 * access-log queue. Entries are appended to segment files ({@code spill-NNNNNNNNNNNNNNNN.seg} in
 * its directory), read back in order, and a segment is deleted once read; when everything written
 * was read, the store starts over empty.
 *
 * <p>A record is its length, the CRC-32 of its bytes, and the bytes ({@link BagCodec}). Segments
 * left by an earlier process are read first, so entries spilled before a restart are replayed
 * after it (a cursor file written on {@link #close()} says how far the first segment was read);
 * a torn or corrupt record ends its segment, and the entries lost that way are reported by {@link
 * #takeLost()}. A lock file keeps a second process out of the directory.
 *
 * <p>Not thread-safe: the queue calls it under its lock. Appends are buffered; {@link #flush()}
 * hands them to the operating system (the queue flushes after each batch of appends), so a crash of
 * the process loses none that were flushed, a crash of the machine may.
 */
public final class SpillFile implements Closeable {
  private static final String PREFIX = "spill-";
  private static final String SUFFIX = ".seg";
  private static final String CURSOR = "spill.cursor";
  private static final int RECORD_HEADER = 8;
  /** A record larger than this is corrupt (a gRPC message is at most a few MiB). */
  private static final int MAX_RECORD = 64 * 1024 * 1024;

  private static final class Segment {
    final long seq;
    final Path path;
    long bytes;
    long entries;

    Segment(long seq, Path path) {
      this.seq = seq;
      this.path = path;
    }
  }

  private static final java.util.Set<Path> IN_USE = java.util.concurrent.ConcurrentHashMap.newKeySet();

  private final Path dir;
  private final Path key;
  private final long maxBytes;
  private final long segmentBytes;
  private final FileChannel lockChannel;
  private final FileLock lock;
  private final BagCodec codec = new BagCodec();
  private final CRC32 crc = new CRC32();
  private final Deque<Segment> segments = new ArrayDeque<>();
  private long nextSeq;
  private long bytes;
  private long pending;
  private long lost;

  private Segment writing;
  private DataOutputStream writer;
  private DataInputStream reader;
  private long readInHead;
  /** Records of the head segment to skip when it is opened (read before a restart). */
  private long skipOnOpen;

  private SpillFile(Path dir, Path key, long maxBytes, FileChannel lockChannel, FileLock lock) {
    this.dir = dir;
    this.key = key;
    this.maxBytes = maxBytes;
    this.segmentBytes = Math.max(64 * 1024, Math.min(64L * 1024 * 1024, maxBytes / 8));
    this.lockChannel = lockChannel;
    this.lock = lock;
  }

  /**
   * Opens (creating it if needed) the spill directory, locks it, and counts the entries earlier
   * processes left there.
   *
   * @throws IOException if the directory cannot be used, or another process holds its lock
   */
  public static SpillFile open(Path dir, long maxBytes) throws IOException {
    if (maxBytes < 1024) {
      throw new IllegalArgumentException("maxBytes must be at least 1024, was " + maxBytes);
    }
    Files.createDirectories(dir);
    Path key = dir.toRealPath();
    // File locks are per process (and closing any channel to the file drops them), so a second
    // store in this process is kept out here, before a channel is opened.
    if (!IN_USE.add(key)) {
      throw new IOException("the spill directory " + dir + " is in use by another process"
          + " (this one)");
    }
    try {
      return open(dir, key, maxBytes);
    } catch (IOException | RuntimeException e) {
      IN_USE.remove(key);
      throw e;
    }
  }

  private static SpillFile open(Path dir, Path key, long maxBytes) throws IOException {
    FileChannel channel = FileChannel.open(dir.resolve("spill.lock"),
        StandardOpenOption.CREATE, StandardOpenOption.WRITE);
    FileLock lock;
    try {
      lock = channel.tryLock();
    } catch (OverlappingFileLockException e) {
      lock = null;
    }
    if (lock == null) {
      channel.close();
      throw new IOException("the spill directory " + dir + " is in use by another process");
    }
    SpillFile spill = new SpillFile(dir, key, maxBytes, channel, lock);
    try {
      spill.recover();
    } catch (IOException | RuntimeException e) {
      spill.close();
      throw e;
    }
    return spill;
  }

  private void recover() throws IOException {
    List<Path> files;
    try (Stream<Path> s = Files.list(dir)) {
      files = s.filter(p -> {
        String n = p.getFileName().toString();
        return n.startsWith(PREFIX) && n.endsWith(SUFFIX);
      }).sorted().toList();
    }
    for (Path p : files) {
      String n = p.getFileName().toString();
      long seq;
      try {
        seq = Long.parseLong(n.substring(PREFIX.length(), n.length() - SUFFIX.length()));
      } catch (NumberFormatException e) {
        continue;
      }
      Segment s = new Segment(seq, p);
      scan(s);
      nextSeq = Math.max(nextSeq, seq + 1);
      if (s.entries == 0) {
        Files.deleteIfExists(p);
        continue;
      }
      segments.addLast(s);
      bytes += s.bytes;
      pending += s.entries;
    }
    Path cursor = dir.resolve(CURSOR);
    if (Files.exists(cursor)) {
      String[] parts = Files.readString(cursor).strip().split(" ");
      Files.delete(cursor);
      Segment head = segments.peekFirst();
      try {
        if (head != null && parts.length == 2 && Long.parseLong(parts[0]) == head.seq) {
          long read = Math.min(Long.parseLong(parts[1]), head.entries);
          readInHead = read;
          skipOnOpen = read;
          pending -= read;
        }
      } catch (NumberFormatException e) {
        // a cursor we did not write: replay the segment whole
      }
    }
    if (pending == 0) {
      reset();
    }
  }

  /** Counts a segment's valid records and cuts off a torn or corrupt tail. */
  private void scan(Segment s) throws IOException {
    long size = Files.size(s.path);
    long valid = 0;
    try (DataInputStream in = new DataInputStream(
        new BufferedInputStream(Files.newInputStream(s.path), 64 * 1024))) {
      while (valid < size) {
        byte[] record = readRecord(in);
        if (record == null) {
          break;
        }
        valid += RECORD_HEADER + record.length;
        s.entries++;
      }
    }
    if (valid < size) {
      lost++; // the torn record; what followed it, if anything, cannot be counted
      try (FileChannel ch = FileChannel.open(s.path, StandardOpenOption.WRITE)) {
        ch.truncate(valid);
      }
    }
    s.bytes = valid;
  }

  /** Entries written and not yet read. */
  public long pendingEntries() {
    return pending;
  }

  /** Bytes on disk in segments not yet deleted. */
  public long bytes() {
    return bytes;
  }

  /** Entries lost to corrupt or unreadable records since the last call (and at open). */
  public long takeLost() {
    long l = lost;
    lost = 0;
    return l;
  }

  /**
   * Appends one entry.
   *
   * @return false, writing nothing, when it would take the store past its byte limit
   * @throws IOException if writing fails (the entry may be partly written; it is then cut off as
   *     a torn record when read)
   */
  public boolean append(AttributeBag bag) throws IOException {
    byte[] data = codec.encode(bag);
    long size = RECORD_HEADER + data.length;
    if (bytes + size > maxBytes) {
      return false;
    }
    if (writing == null || (writing.bytes + size > segmentBytes && writing.entries > 0)) {
      roll();
    }
    crc.reset();
    crc.update(data);
    writer.writeInt(data.length);
    writer.writeInt((int) crc.getValue());
    writer.write(data);
    writing.bytes += size;
    writing.entries++;
    bytes += size;
    pending++;
    return true;
  }

  private void roll() throws IOException {
    if (writer != null) {
      writer.close();
      writer = null;
    }
    Segment s = new Segment(nextSeq, dir.resolve(String.format("%s%016d%s", PREFIX, nextSeq, SUFFIX)));
    nextSeq++;
    writer = new DataOutputStream(new BufferedOutputStream(
        Files.newOutputStream(s.path, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE),
        64 * 1024));
    writing = s;
    segments.addLast(s);
  }

  /** Hands buffered appends to the operating system. */
  public void flush() throws IOException {
    if (writer != null) {
      writer.flush();
    }
  }

  /**
   * Reads up to {@code max} entries, oldest first, deleting segments as they are read out. An
   * unreadable record drops the rest of its segment (counted in {@link #takeLost()}).
   */
  public List<AttributeBag> read(int max) throws IOException {
    List<AttributeBag> out = new ArrayList<>(Math.min(max, (int) Math.min(pending, 4096)));
    while (out.size() < max && pending > 0) {
      Segment head = segments.peekFirst();
      if (head == null) {
        pending = 0; // cannot happen; keeps the loop finite
        break;
      }
      if (readInHead >= head.entries) {
        if (head == writing) {
          break; // everything written was read
        }
        dropHead();
        continue;
      }
      if (head == writing) {
        writer.flush();
      }
      if (reader == null) {
        reader = new DataInputStream(
            new BufferedInputStream(Files.newInputStream(head.path), 64 * 1024));
        for (; skipOnOpen > 0; skipOnOpen--) {
          readRecord(reader);
        }
      }
      byte[] record;
      try {
        record = readRecord(reader);
      } catch (IOException e) {
        record = null;
      }
      if (record == null) {
        long rest = head.entries - readInHead;
        lost += rest;
        pending -= rest;
        readInHead = head.entries;
        if (head == writing) {
          closeWriter(); // never append after a bad record
        }
        continue;
      }
      readInHead++;
      pending--;
      try {
        out.add(BagCodec.decode(record));
      } catch (IOException e) {
        lost++;
      }
    }
    if (pending == 0) {
      reset();
    }
    return out;
  }

  private void dropHead() throws IOException {
    Segment head = segments.removeFirst();
    if (reader != null) {
      reader.close();
      reader = null;
    }
    readInHead = 0;
    skipOnOpen = 0;
    bytes -= head.bytes;
    Files.deleteIfExists(head.path);
  }

  /** Everything was read: delete every segment and start over. */
  private void reset() throws IOException {
    closeWriter();
    if (reader != null) {
      reader.close();
      reader = null;
    }
    for (Segment s : segments) {
      Files.deleteIfExists(s.path);
    }
    segments.clear();
    readInHead = 0;
    bytes = 0;
  }

  private void closeWriter() throws IOException {
    if (writer != null) {
      writer.close();
      writer = null;
    }
    writing = null;
  }

  /** The record's bytes; null at a clean end of data or at a torn or corrupt record. */
  private byte[] readRecord(DataInputStream in) throws IOException {
    int length;
    try {
      length = in.readInt();
    } catch (EOFException e) {
      return null;
    }
    if (length < 0 || length > MAX_RECORD) {
      return null;
    }
    try {
      int sum = in.readInt();
      byte[] data = in.readNBytes(length);
      if (data.length != length) {
        return null;
      }
      crc.reset();
      crc.update(data);
      return (int) crc.getValue() == sum ? data : null;
    } catch (EOFException e) {
      return null;
    }
  }

  /**
   * Flushes and closes the files; what was not read stays for the next process, which starts
   * reading where this one stopped.
   */
  @Override
  public void close() throws IOException {
    try {
      Segment head = segments.peekFirst();
      if (head != null && readInHead > 0) {
        Files.writeString(dir.resolve(CURSOR), head.seq + " " + readInHead + "\n");
      }
      closeWriter();
      if (reader != null) {
        reader.close();
        reader = null;
      }
    } finally {
      try {
        lock.release();
      } finally {
        try {
          lockChannel.close();
        } finally {
          IN_USE.remove(key);
        }
      }
    }
  }
}
