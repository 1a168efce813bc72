package io.arbiter.accesslog.internal;

import io.arbiter.frontend.Structs;
import io.arbiter.engine.AttributeBag;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;

/**
 * A compact binary form of an {@link AttributeBag}, for the spill file: the attribute count, then
 * each name and a tagged value (strings, longs, booleans, doubles, instants, durations, and maps
 * and lists of those, nested). Decoding skips an attribute the vocabulary no longer has.
 *
 * <p>Not thread-safe: one instance per spill file, used under its lock.
 */
public final class BagCodec {
  private static final int STRING = 1;
  private static final int LONG = 2;
  private static final int BOOL = 3;
  private static final int DOUBLE = 4;
  private static final int INSTANT = 5;
  private static final int DURATION = 6;
  private static final int MAP = 7;
  private static final int LIST = 8;
  /** Bounds what a corrupt length can make the decoder allocate. */
  private static final int MAX_COUNT = 1 << 20;

  private final ByteArrayOutputStream buffer = new ByteArrayOutputStream(2048);
  private final DataOutputStream out = new DataOutputStream(buffer);

  /** The encoded bag; the array is valid until the next call. */
  public byte[] encode(AttributeBag bag) {
    buffer.reset();
    try {
      Map<String, Object> values = bag.asMap();
      out.writeInt(values.size());
      for (Map.Entry<String, Object> e : values.entrySet()) {
        writeString(e.getKey());
        writeValue(e.getValue());
      }
      out.flush();
    } catch (IOException e) {
      throw new IllegalStateException("cannot happen: writing to memory", e);
    }
    return buffer.toByteArray();
  }

  /**
   * @throws IOException if {@code bytes} are not an encoded bag
   */
  public static AttributeBag decode(byte[] bytes) throws IOException {
    DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes));
    int n = count(in);
    AttributeBag.Builder bag = AttributeBag.builder();
    for (int i = 0; i < n; i++) {
      String name = readString(in);
      Object value = readValue(in);
      try {
        bag.put(name, value);
      } catch (IllegalArgumentException e) {
        // an attribute of another version's vocabulary: skipped
      }
    }
    if (in.available() > 0) {
      throw new IOException("trailing bytes after " + n + " attributes");
    }
    return bag.build();
  }

  private void writeValue(Object v) throws IOException {
    if (v instanceof String s) {
      out.writeByte(STRING);
      writeString(s);
    } else if (v instanceof Long l) {
      out.writeByte(LONG);
      out.writeLong(l);
    } else if (v instanceof Integer i) {
      out.writeByte(LONG);
      out.writeLong(i);
    } else if (v instanceof Boolean b) {
      out.writeByte(BOOL);
      out.writeBoolean(b);
    } else if (v instanceof Double d) {
      out.writeByte(DOUBLE);
      out.writeDouble(d);
    } else if (v instanceof Instant t) {
      out.writeByte(INSTANT);
      out.writeLong(t.getEpochSecond());
      out.writeInt(t.getNano());
    } else if (v instanceof Duration d) {
      out.writeByte(DURATION);
      out.writeLong(d.getSeconds());
      out.writeInt(d.getNano());
    } else if (v instanceof Map<?, ?> m) {
      out.writeByte(MAP);
      out.writeInt(m.size());
      for (Map.Entry<?, ?> e : m.entrySet()) {
        writeString(String.valueOf(e.getKey()));
        writeValue(e.getValue());
      }
    } else if (v instanceof List<?> l) {
      out.writeByte(LIST);
      out.writeInt(l.size());
      for (Object o : l) {
        writeValue(o);
      }
    } else {
      // Not a value a front end puts in a bag; kept as its text rather than lost.
      out.writeByte(STRING);
      writeString(String.valueOf(v));
    }
  }

  private void writeString(String s) throws IOException {
    byte[] b = s.getBytes(StandardCharsets.UTF_8);
    out.writeInt(b.length);
    out.write(b);
  }

  private static Object readValue(DataInputStream in) throws IOException {
    int tag = in.readUnsignedByte();
    return switch (tag) {
      case STRING -> readString(in);
      case LONG -> in.readLong();
      case BOOL -> in.readBoolean();
      case DOUBLE -> in.readDouble();
      case INSTANT -> Instant.ofEpochSecond(in.readLong(), in.readInt());
      case DURATION -> Duration.ofSeconds(in.readLong(), in.readInt());
      case MAP -> {
        int n = count(in);
        Map<String, Object> m = Structs.newMap(n);
        for (int i = 0; i < n; i++) {
          String k = readString(in);
          m.put(k, readValue(in));
        }
        yield Collections.unmodifiableMap(m);
      }
      case LIST -> {
        int n = count(in);
        List<Object> l = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
          l.add(readValue(in));
        }
        yield Collections.unmodifiableList(l);
      }
      default -> throw new IOException("unknown value tag " + tag);
    };
  }

  private static String readString(DataInputStream in) throws IOException {
    int n = in.readInt();
    if (n < 0 || n > in.available()) {
      throw new EOFException("string of " + n + " bytes with " + in.available() + " left");
    }
    return new String(in.readNBytes(n), StandardCharsets.UTF_8);
  }

  private static int count(DataInputStream in) throws IOException {
    int n = in.readInt();
    if (n < 0 || n > MAX_COUNT) {
      throw new IOException("bad count " + n);
    }
    return n;
  }
}
