package io.arbiter.extauthz;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.ExtensionRegistryLite;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.WireFormat;
import io.arbiter.frontend.Structs;
import io.arbiter.frontend.Texts;
import io.arbiter.frontend.WireStructs;
import io.envoyproxy.envoy.config.core.v3.EnvoyInternalAddress;
import io.envoyproxy.envoy.config.core.v3.Pipe;
import com.google.protobuf.UnsafeByteOperations;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.Map;

/**
 * Reads a serialized {@code envoy.service.auth.v3.CheckRequest} straight into {@link CheckFields},
 * without building the generated message: no builders, no map-entry objects, the request headers
 * lowercased and joined as they are read, their bytes counted off the wire.
 *
 * <h2>Same answer as the generated parser</h2>
 *
 * For every input, either {@link #decode} returns the fields {@link CheckRequestMapper#map} reads
 * from {@code CheckRequest.parseFrom} of the same bytes, or it throws where {@code parseFrom}
 * throws, or it returns null and the caller uses the generated parser:
 *
 * <ul>
 *   <li>Tags are matched whole (field number and wire type), as generated code does: a known field
 *       with an unexpected wire type is an unknown field, skipped. Unknown fields are skipped.
 *   <li>Every known string field is read with UTF-8 validation, used or not, so invalid UTF-8
 *       fails here exactly where it fails there; a repeated scalar field keeps its last value.
 *   <li>Filter metadata structs are read by {@link WireStructs}, the front ends' shared struct
 *       reader; a pipe or internal address goes through its generated parser on the same stream
 *       (validated alike, then ignored, as the mapper ignores it).
 *   <li>Encodings no Envoy produces get null, so the generated parser handles them: a singular
 *       message field that occurs twice (protobuf merges the occurrences), both header fields in
 *       one request (their order of joining differs from the wire's), and two {@code headers} map
 *       entries whose names are equal once lowercased (the map's order and last-value-wins rules),
 *       typed filter metadata, and whatever {@link WireStructs} leaves to it.
 * </ul>
 *
 * {@code CheckWireDecoderTest} checks the equivalence on random requests, random unknown fields,
 * invalid UTF-8 and truncations. Stateless and thread-safe.
 */
final class CheckWireDecoder {
  private CheckWireDecoder() {}

  /** Thrown (never with a stack trace) when the input needs the generated parser. */
  private static final class Unusual extends Exception {
    Unusual() {
      super(null, null, false, false);
    }
  }

  private static final Unusual UNUSUAL = new Unusual();

  /**
   * The only messages this reader hands to generated parsers on its own stream, a pipe or internal
   * address, sit three messages deep (attributes, peer, address), which this reader does not count
   * as the generated parser does; they get the recursion limit they would have there.
   */
  private static final int RECURSION_LIMIT = WireStructs.RECURSION_LIMIT - 3;

  /**
   * The fields of the request in {@code wire}, or null when its encoding is one the generated
   * parser must handle (see the class comment).
   *
   * @throws InvalidProtocolBufferException exactly when {@code CheckRequest.parseFrom(wire)} would
   */
  static CheckFields decode(byte[] wire) throws InvalidProtocolBufferException {
    CodedInputStream in = CodedInputStream.newInstance(wire);
    in.enableAliasing(true); // strings are read from the request's array (see string())
    in.setRecursionLimit(RECURSION_LIMIT);
    CheckFields f = new CheckFields();
    try {
      boolean seen = false;
      for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
        if (tag == (1 << 3 | WireFormat.WIRETYPE_LENGTH_DELIMITED)) {
          seen = once(seen);
          int limit = in.pushLimit(in.readRawVarint32());
          attributes(in, f);
          in.popLimit(limit);
        } else {
          skip(in, tag);
        }
      }
      return f;
    } catch (Unusual | WireStructs.Unmodelled e) {
      return null;
    } catch (InvalidProtocolBufferException e) {
      throw e;
    } catch (IOException e) {
      throw new InvalidProtocolBufferException(e);
    }
  }

  private static void attributes(CodedInputStream in, CheckFields f) throws IOException, Unusual {
    boolean source = false;
    boolean destination = false;
    boolean request = false;
    boolean tls = false;
    boolean metadata = false;
    boolean routeMetadata = false;
    Map<String, String> extensions = null;
    for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
      switch (tag) {
        case 1 << 3 | 2 -> {
          source = once(source);
          int limit = in.pushLimit(in.readRawVarint32());
          peer(in, f.source);
          in.popLimit(limit);
        }
        case 2 << 3 | 2 -> {
          destination = once(destination);
          int limit = in.pushLimit(in.readRawVarint32());
          peer(in, f.destination);
          in.popLimit(limit);
        }
        case 4 << 3 | 2 -> {
          request = once(request);
          int limit = in.pushLimit(in.readRawVarint32());
          request(in, f);
          in.popLimit(limit);
        }
        case 10 << 3 | 2 -> extensions = mapEntry(in, extensions);
        case 11 << 3 | 2 -> {
          metadata = once(metadata);
          int limit = in.pushLimit(in.readRawVarint32());
          f.metadataContext = filterMetadata(in);
          in.popLimit(limit);
        }
        case 12 << 3 | 2 -> {
          tls = once(tls);
          int limit = in.pushLimit(in.readRawVarint32());
          for (int t = in.readTag(); t != 0; t = in.readTag()) {
            if (t == (1 << 3 | 2)) {
              f.sni = string(in);
            } else {
              skip(in, t);
            }
          }
          in.popLimit(limit);
        }
        case 13 << 3 | 2 -> {
          routeMetadata = once(routeMetadata);
          int limit = in.pushLimit(in.readRawVarint32());
          f.routeMetadataContext = filterMetadata(in);
          in.popLimit(limit);
        }
        default -> skip(in, tag);
      }
    }
    if (extensions != null) {
      f.contextExtensions = Collections.unmodifiableMap(extensions);
    }
  }

  private static void peer(CodedInputStream in, CheckFields.Peer p) throws IOException, Unusual {
    boolean address = false;
    Map<String, String> labels = null;
    for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
      switch (tag) {
        case 1 << 3 | 2 -> {
          address = once(address);
          int limit = in.pushLimit(in.readRawVarint32());
          address(in, p);
          in.popLimit(limit);
        }
        case 2 << 3 | 2 -> p.service = string(in);
        case 3 << 3 | 2 -> labels = mapEntry(in, labels);
        case 4 << 3 | 2 -> p.principal = string(in);
        case 5 << 3 | 2 -> p.certificate = string(in);
        default -> skip(in, tag);
      }
    }
    if (labels != null) {
      p.labels = Collections.unmodifiableMap(labels);
    }
  }

  /** {@code config.core.v3.Address}: a oneof, so the last of its fields wins. */
  private static void address(CodedInputStream in, CheckFields.Peer p) throws IOException, Unusual {
    boolean seen = false;
    for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
      switch (tag) {
        case 1 << 3 | 2 -> {
          seen = once(seen);
          int limit = in.pushLimit(in.readRawVarint32());
          socketAddress(in, p);
          in.popLimit(limit);
        }
        case 2 << 3 | 2 -> {
          seen = once(seen);
          in.readMessage(Pipe.newBuilder(), ExtensionRegistryLite.getEmptyRegistry());
        }
        case 3 << 3 | 2 -> {
          seen = once(seen);
          in.readMessage(EnvoyInternalAddress.newBuilder(), ExtensionRegistryLite.getEmptyRegistry());
        }
        default -> skip(in, tag);
      }
    }
  }

  private static void socketAddress(CodedInputStream in, CheckFields.Peer p)
      throws IOException, Unusual {
    String ip = "";
    boolean hasPort = false;
    int port = 0;
    for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
      switch (tag) {
        case 1 << 3 | 0 -> in.readEnum(); // protocol
        case 2 << 3 | 2 -> ip = string(in);
        case 3 << 3 | 0 -> {
          port = in.readUInt32();
          hasPort = true;
        }
        case 4 << 3 | 2 -> {
          string(in); // named_port: the oneof's other case
          hasPort = false;
        }
        case 5 << 3 | 2, 7 << 3 | 2 -> string(in); // resolver, network namespace
        case 6 << 3 | 0 -> in.readBool(); // ipv4_compat
        default -> skip(in, tag);
      }
    }
    p.ip = ip;
    p.hasPort = hasPort;
    p.port = port;
  }

  private static void request(CodedInputStream in, CheckFields f) throws IOException, Unusual {
    boolean time = false;
    boolean http = false;
    for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
      switch (tag) {
        case 1 << 3 | 2 -> {
          time = once(time);
          int limit = in.pushLimit(in.readRawVarint32());
          for (int t = in.readTag(); t != 0; t = in.readTag()) {
            switch (t) {
              case 1 << 3 | 0 -> f.timeSeconds = in.readInt64();
              case 2 << 3 | 0 -> f.timeNanos = in.readInt32();
              default -> skip(in, t);
            }
          }
          in.popLimit(limit);
          f.hasTime = true;
        }
        case 2 << 3 | 2 -> {
          http = once(http);
          int limit = in.pushLimit(in.readRawVarint32());
          http(in, f);
          in.popLimit(limit);
          f.http = true;
        }
        default -> skip(in, tag);
      }
    }
  }

  private static void http(CodedInputStream in, CheckFields f) throws IOException, Unusual {
    Map<String, String> headers = null;
    boolean fromMap = false;
    boolean fromList = false;
    long bytes = 0;
    int count = 0;
    for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
      switch (tag) {
        case 1 << 3 | 2, 7 << 3 | 2, 8 << 3 | 2 -> string(in); // id, query, fragment
        case 2 << 3 | 2 -> f.method = string(in);
        case 3 << 3 | 2 -> {
          if (fromList) {
            throw UNUSUAL;
          }
          fromMap = true;
          headers = headers == null ? Structs.newMap(16) : headers;
          int limit = in.pushLimit(in.readRawVarint32());
          String name = "";
          String value = "";
          int size = 0; // valid UTF-8 (or it failed), so each string's bytes on the wire
          for (int t = in.readTag(); t != 0; t = in.readTag()) {
            switch (t) {
              case 1 << 3 | 2 -> {
                ByteBuffer b = in.readByteBuffer();
                name = HeaderNames.lower(b);
                size += b.remaining();
              }
              case 2 << 3 | 2 -> {
                ByteBuffer b = in.readByteBuffer();
                value = string(b);
                size += b.remaining();
              }
              default -> skip(in, t);
            }
          }
          in.popLimit(limit);
          if (headers.putIfAbsent(name, value) != null) {
            throw UNUSUAL; // a repeated map key, or names equal but for case
          }
          bytes += size;
          count++;
        }
        case 4 << 3 | 2 -> f.path = string(in);
        case 5 << 3 | 2 -> f.host = string(in);
        case 6 << 3 | 2 -> f.scheme = string(in);
        case 9 << 3 | 0 -> f.size = in.readInt64();
        case 10 << 3 | 2 -> f.protocol = string(in);
        case 11 << 3 | 2 -> f.body = string(in);
        case 12 << 3 | 2 -> f.rawBody = in.readBytes();
        case 13 << 3 | 2 -> {
          if (fromMap || fromList) {
            throw UNUSUAL;
          }
          fromList = true;
          headers = Structs.newMap(16);
          int limit = in.pushLimit(in.readRawVarint32());
          for (int t = in.readTag(); t != 0; t = in.readTag()) {
            if (t == (1 << 3 | 2)) {
              int entry = in.pushLimit(in.readRawVarint32());
              bytes += headerValue(in, headers);
              in.popLimit(entry);
              count++;
            } else {
              skip(in, t);
            }
          }
          in.popLimit(limit);
        }
        default -> skip(in, tag);
      }
    }
    if (headers != null) {
      f.headers = Collections.unmodifiableMap(headers);
    }
    f.headerCount = count;
    f.headerBytes = bytes;
  }

  /** One {@code HeaderValue} of {@code header_map}, joined into {@code headers}; its byte count. */
  private static long headerValue(CodedInputStream in, Map<String, String> headers)
      throws IOException, Unusual {
    String name = "";
    String value = "";
    ByteString raw = ByteString.EMPTY;
    for (int t = in.readTag(); t != 0; t = in.readTag()) {
      switch (t) {
        case 1 << 3 | 2 -> name = string(in);
        case 2 << 3 | 2 -> value = string(in);
        case 3 << 3 | 2 -> raw = in.readBytes();
        default -> skip(in, t);
      }
    }
    long bytes = Texts.utf8Length(name);
    if (raw.isEmpty()) {
      bytes += Texts.utf8Length(value);
    } else {
      bytes += raw.size();
      value = Texts.decodeUtf8(raw);
    }
    CheckRequestMapper.add(headers, Texts.lowerAscii(name), value);
    return bytes;
  }

  /**
   * The {@code config.core.v3.Metadata} the stream is positioned in (within its limit): its {@code
   * filter_metadata} as {@link Structs#filterMetadata} converts it, each struct read by {@link
   * WireStructs}; {@code typed_filter_metadata} is left to the generated parser.
   */
  private static Map<String, Object> filterMetadata(CodedInputStream in) throws IOException, Unusual {
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
                value = WireStructs.struct(in, STRUCT_DEPTH);
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

  /**
   * How deep a filter's struct's fields sit, as the generated parser counts for its recursion
   * limit: CheckRequest, attributes, Metadata, its map entry, the Struct.
   */
  private static final int STRUCT_DEPTH = 4;

  /** One entry of a {@code map<string, string>}, put into {@code map} (created when null). */
  private static Map<String, String> mapEntry(CodedInputStream in, Map<String, String> map)
      throws IOException, Unusual {
    Map<String, String> out = map == null ? Structs.newMap(4) : map;
    int limit = in.pushLimit(in.readRawVarint32());
    String key = "";
    String value = "";
    for (int t = in.readTag(); t != 0; t = in.readTag()) {
      switch (t) {
        case 1 << 3 | 2 -> key = string(in);
        case 2 << 3 | 2 -> value = string(in);
        default -> skip(in, t);
      }
    }
    in.popLimit(limit);
    out.put(key, value);
    return out;
  }

  /**
   * Skips an unknown field. A varint is read as the generated parser reads it into its unknown
   * fields ({@code skipField} is stricter about a tenth byte's continuation bit). A group (a wire
   * type no proto3 message uses, and one whose nesting the generated parser counts differently)
   * is left to the generated parser, as is an end-group tag where none is open (it fails there).
   */
  private static void skip(CodedInputStream in, int tag) throws IOException, Unusual {
    switch (WireFormat.getTagWireType(tag)) {
      case WireFormat.WIRETYPE_VARINT -> in.readInt64();
      case WireFormat.WIRETYPE_START_GROUP, WireFormat.WIRETYPE_END_GROUP -> throw UNUSUAL;
      default -> in.skipField(tag);
    }
  }

  /** A string field, strictly UTF-8 like the generated parser's {@code readStringRequireUtf8}. */
  private static String string(CodedInputStream in) throws IOException {
    return string(in.readByteBuffer());
  }

  /**
   * {@code bytes} as a string, or {@link InvalidProtocolBufferException} when they are not valid
   * UTF-8. ASCII, nearly all of a request, takes the JDK's fast path (a check for bytes above 0x7F
   * and a copy); the JDK replaces invalid sequences instead of failing, so a string with anything
   * else is validated with protobuf's own check.
   */
  static String string(ByteBuffer bytes) throws InvalidProtocolBufferException {
    int length = bytes.remaining();
    if (length == 0) {
      return "";
    }
    byte[] array = bytes.array();
    int offset = bytes.arrayOffset() + bytes.position();
    String s = new String(array, offset, length, StandardCharsets.UTF_8);
    // All ASCII exactly when the string kept every byte as a char and replaced none.
    if ((s.length() != length || s.indexOf('\uFFFD') >= 0)
        && !UnsafeByteOperations.unsafeWrap(array, offset, length).isValidUtf8()) {
      throw new InvalidProtocolBufferException("Protocol message had invalid UTF-8.");
    }
    return s;
  }

  /** Marks a singular message field seen; a second occurrence needs the generated parser's merge. */
  private static boolean once(boolean seen) throws Unusual {
    if (seen) {
      throw UNUSUAL;
    }
    return true;
  }
}
