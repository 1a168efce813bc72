package io.arbiter.extauthz;

import static io.arbiter.extauthz.CheckWireDecoder.UNUSUAL;
import static io.arbiter.extauthz.CheckWireDecoder.once;
import static io.arbiter.extauthz.CheckWireDecoder.skip;
import static io.arbiter.extauthz.CheckWireDecoder.string;

import com.google.protobuf.CodedInputStream;
import io.arbiter.extauthz.CheckWireDecoder.Unusual;
import io.arbiter.frontend.Structs;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;

/**
 * Reads {@code config.core.v3.Metadata} off the wire into what {@link Structs#filterMetadata} makes
 * of the parsed message: filter name to struct, structs as maps, lists as lists, numbers as {@code
 * Double}, JSON nulls and unset values dropped. Part of {@link CheckWireDecoder}, under its rules:
 * whatever the generated parser would merge (a repeated struct or list value, a value holding two
 * kinds), {@code typed_filter_metadata}, and nesting deeper than {@value #MAX_DEPTH} structs are left
 * to the generated parser.
 */
final class StructReader {
  private StructReader() {}

  /** Far below protobuf's limit of 100 nested messages (three per struct level). */
  static final int MAX_DEPTH = 20;

  /** The filter metadata of the {@code Metadata} the stream is positioned in (within its limit). */
  static Map<String, Object> filterMetadata(CodedInputStream in) throws IOException, Unusual {
    Map<String, Object> out = null;
    for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
      switch (tag) {
        case 1 << 3 | 2 -> { // filter_metadata: map<string, Struct>
          int limit = in.pushLimit(in.readRawVarint32());
          String key = "";
          Map<String, Object> value = Map.of();
          boolean seen = false;
          for (int t = in.readTag(); t != 0; t = in.readTag()) {
            switch (t) {
              case 1 << 3 | 2 -> key = string(in);
              case 2 << 3 | 2 -> {
                seen = once(seen);
                value = struct(in, 0);
              }
              default -> skip(in, t);
            }
          }
          in.popLimit(limit);
          out = out == null ? Structs.newMap(4) : out;
          out.put(key, value);
        }
        case 2 << 3 | 2 -> throw UNUSUAL; // typed_filter_metadata: validated by the generated parser
        default -> skip(in, tag);
      }
    }
    return out == null ? Map.of() : Collections.unmodifiableMap(out);
  }

  /** A length-delimited {@code Struct}, as {@link Structs#toMap}. */
  private static Map<String, Object> struct(CodedInputStream in, int depth) throws IOException, Unusual {
    if (depth > MAX_DEPTH) {
      throw UNUSUAL;
    }
    int limit = in.pushLimit(in.readRawVarint32());
    Map<String, Object> out = null;
    for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
      if (tag == (1 << 3 | 2)) { // fields: map<string, Value>
        int entry = in.pushLimit(in.readRawVarint32());
        String key = "";
        Object value = null;
        boolean seen = false;
        for (int t = in.readTag(); t != 0; t = in.readTag()) {
          switch (t) {
            case 1 << 3 | 2 -> key = string(in);
            case 2 << 3 | 2 -> {
              seen = once(seen);
              value = value(in, depth);
            }
            default -> skip(in, t);
          }
        }
        in.popLimit(entry);
        out = out == null ? Structs.newMap(4) : out;
        if (value == null) {
          out.remove(key); // a later null replaces an earlier value, then is dropped
        } else {
          out.put(key, value);
        }
      } else {
        skip(in, tag);
      }
    }
    in.popLimit(limit);
    return out == null || out.isEmpty() ? Map.of() : Collections.unmodifiableMap(out);
  }

  /** A length-delimited {@code Value}, as {@link Structs#toJava}: null for a JSON null or unset. */
  private static Object value(CodedInputStream in, int depth) throws IOException, Unusual {
    int limit = in.pushLimit(in.readRawVarint32());
    Object out = null;
    boolean seen = false;
    for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
      switch (tag) {
        case 1 << 3 | 0 -> {
          seen = once(seen);
          in.readEnum();
          out = null;
        }
        case 2 << 3 | 1 -> {
          seen = once(seen);
          out = in.readDouble();
        }
        case 3 << 3 | 2 -> {
          seen = once(seen);
          out = string(in);
        }
        case 4 << 3 | 0 -> {
          seen = once(seen);
          out = in.readBool();
        }
        case 5 << 3 | 2 -> {
          seen = once(seen);
          out = struct(in, depth + 1);
        }
        case 6 << 3 | 2 -> {
          seen = once(seen);
          out = list(in, depth + 1);
        }
        default -> skip(in, tag);
      }
    }
    in.popLimit(limit);
    return out;
  }

  /** A length-delimited {@code ListValue}, nulls dropped. */
  private static List<Object> list(CodedInputStream in, int depth) throws IOException, Unusual {
    if (depth > MAX_DEPTH) {
      throw UNUSUAL;
    }
    int limit = in.pushLimit(in.readRawVarint32());
    List<Object> out = null;
    for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
      if (tag == (1 << 3 | 2)) {
        Object v = value(in, depth);
        if (v != null) {
          out = out == null ? new ArrayList<>(4) : out;
          out.add(v);
        }
      } else {
        skip(in, tag);
      }
    }
    in.popLimit(limit);
    return out == null ? List.of() : Collections.unmodifiableList(out);
  }
}
