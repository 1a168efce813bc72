package io.arbiter.frontend;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.WireFormat;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;

/**
 * {@code google.protobuf.Struct}s read straight off the wire into what {@link Structs#toMap} makes
 * of the parsed message: maps, lists, {@code String}, {@code Double}, {@code Boolean}, JSON nulls and
 * unset values dropped (a key given again replaces its value, or with a null removes it). For the
 * front ends' wire readers, which decode filter metadata without the generated classes.
 *
 * <p>What it does not model, it leaves to the generated parser by throwing {@link Unmodelled}: a
 * struct or list value given together with another kind of the same {@code Value} (protobuf merges
 * them), a map entry's value given twice, groups, nesting past the generated parser's recursion
 * limit, and a length that runs past the input. The caller then parses the whole message with the
 * generated classes, which either accept it or throw their own error. Stateless.
 */
public final class WireStructs {
  private WireStructs() {}

  /** protobuf's default recursion limit, which gRPC's marshaller keeps. */
  public static final int RECURSION_LIMIT = 100;

  private static final int VARINT = WireFormat.WIRETYPE_VARINT;
  private static final int LEN = WireFormat.WIRETYPE_LENGTH_DELIMITED;

  /** The input needs the generated parser. Thrown without a stack: a control transfer. */
  public static final class Unmodelled extends RuntimeException {
    public static final Unmodelled INSTANCE = new Unmodelled();

    private Unmodelled() {
      super("left to the generated parser", null, false, false);
    }
  }

  /**
   * The length-delimited {@code Struct} at {@code in}'s position, whose fields sit {@code depth}
   * messages deep in the whole message (the generated parser's count, for its recursion limit).
   */
  public static Map<String, Object> struct(CodedInputStream in, int depth) throws IOException {
    if (depth > RECURSION_LIMIT) {
      throw Unmodelled.INSTANCE;
    }
    int old = enter(in);
    Map<String, Object> out = null;
    for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
      if (tag != (1 << 3 | LEN)) {
        skip(in, tag);
        continue;
      }
      if (depth + 1 > RECURSION_LIMIT) {
        throw Unmodelled.INSTANCE;
      }
      int entry = enter(in); // map<string, Value> entry
      String key = "";
      Object value = null;
      boolean seen = false;
      for (int t = in.readTag(); t != 0; t = in.readTag()) {
        if (t == (1 << 3 | LEN)) {
          key = in.readStringRequireUtf8();
        } else if (t == (2 << 3 | LEN)) {
          if (seen) {
            throw Unmodelled.INSTANCE; // the entry's value given twice merges
          }
          seen = true;
          value = value(in, depth + 2);
        } else {
          skip(in, t);
        }
      }
      leave(in, entry);
      if (value != null) {
        out = out != null ? out : Structs.newMap(4);
        out.put(key, value);
      } else if (out != null) {
        out.remove(key);
      }
    }
    leave(in, old);
    return out == null || out.isEmpty() ? Map.of() : Collections.unmodifiableMap(out);
  }

  /** A length-delimited {@code Value}: as {@link Structs#toJava}, null for a null or no kind. */
  private static Object value(CodedInputStream in, int depth) throws IOException {
    if (depth > RECURSION_LIMIT) {
      throw Unmodelled.INSTANCE;
    }
    int old = enter(in);
    Object value = null;
    int kind = 0;
    for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
      int next = switch (tag) {
        case 1 << 3 | VARINT -> 1;
        case 2 << 3 | WireFormat.WIRETYPE_FIXED64 -> 2;
        case 3 << 3 | LEN -> 3;
        case 4 << 3 | VARINT -> 4;
        case 5 << 3 | LEN -> 5;
        case 6 << 3 | LEN -> 6;
        default -> 0;
      };
      if (next == 0) {
        skip(in, tag);
        continue;
      }
      if (kind != 0 && (kind >= 5 || next >= 5)) {
        throw Unmodelled.INSTANCE; // a struct or list with another kind: protobuf would merge
      }
      kind = next; // of the scalars, the last wins, as in the oneof
      value = switch (next) {
        case 1 -> {
          in.readEnum(); // null_value
          yield null;
        }
        case 2 -> in.readDouble();
        case 3 -> in.readStringRequireUtf8();
        case 4 -> in.readBool();
        case 5 -> struct(in, depth + 1);
        default -> list(in, depth + 1);
      };
    }
    leave(in, old);
    return value;
  }

  /** A length-delimited {@code ListValue}, nulls dropped. */
  private static List<Object> list(CodedInputStream in, int depth) throws IOException {
    if (depth > RECURSION_LIMIT) {
      throw Unmodelled.INSTANCE;
    }
    int old = enter(in);
    List<Object> out = null;
    for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
      if (tag == (1 << 3 | LEN)) {
        Object v = value(in, depth + 1);
        if (v != null) {
          out = out != null ? out : new ArrayList<>(4);
          out.add(v);
        }
      } else {
        skip(in, tag);
      }
    }
    leave(in, old);
    return out == null ? List.of() : Collections.unmodifiableList(out);
  }

  private static int enter(CodedInputStream in) throws IOException {
    return in.pushLimit(in.readRawVarint32());
  }

  /** Back to the enclosing limit; short of it means the input ended first. */
  private static void leave(CodedInputStream in, int oldLimit) {
    if (in.getBytesUntilLimit() != 0) {
      throw Unmodelled.INSTANCE; // the generated parser throws its "truncated" for it
    }
    in.popLimit(oldLimit);
  }

  /**
   * An unknown field (or a known one with another wire type, which protobuf treats as unknown). A
   * varint is read as the generated parser reads it into its unknown fields ({@code skipField} is
   * stricter about a tenth byte); groups are left to the generated parser.
   */
  private static void skip(CodedInputStream in, int tag) throws IOException {
    switch (WireFormat.getTagWireType(tag)) {
      case WireFormat.WIRETYPE_VARINT -> in.readInt64();
      case WireFormat.WIRETYPE_START_GROUP, WireFormat.WIRETYPE_END_GROUP -> throw Unmodelled.INSTANCE;
      default -> in.skipField(tag);
    }
  }
}
