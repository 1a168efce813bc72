package io.arbiter.accesslog;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.WireFormat;
import io.arbiter.accesslog.AccessLogEntryFields.Addr;
import io.arbiter.accesslog.AccessLogEntryFields.Cert;
import io.arbiter.accesslog.AccessLogEntryFields.Time;
import io.arbiter.accesslog.AccessLogEntryFields.Tls;
import io.arbiter.accesslog.internal.ResponseFlagsText;
import io.arbiter.engine.AttributeBag;
import io.arbiter.frontend.Structs;
import io.arbiter.frontend.WireStructs;
import io.envoyproxy.envoy.data.accesslog.v3.AccessLogCommon;
import io.envoyproxy.envoy.data.accesslog.v3.HTTPAccessLogEntry;
import io.envoyproxy.envoy.data.accesslog.v3.TCPAccessLogEntry;
import io.envoyproxy.envoy.service.accesslog.v3.StreamAccessLogsMessage;
import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Decodes the bytes of a {@code StreamAccessLogsMessage} straight into what {@link
 * AccessLogService} needs, the stream's {@code Identifier} and one {@link AttributeBag} per entry,
 * without building the generated {@code HTTPAccessLogEntry} objects: every bag equals the one
 * {@link AccessLogEntryMapper#map(HTTPAccessLogEntry, Reporter)} makes of the generated parse of
 * the same bytes, and bytes the generated parser rejects are rejected with its own exception.
 *
 * <h2>Hand-decoded</h2>
 *
 * With {@link CodedInputStream} (tags, lengths and limits), HTTP entries down to the fields the
 * mapping reads: {@code common_properties} (addresses, TLS properties and certificates, start time
 * and durations, response flags, route and cluster names, custom tags, and the filter metadata's
 * {@code Struct}s straight to the values {@link Structs} makes of them, by {@link WireStructs},
 * the front ends' shared struct reader, with the recursion limit counted as the generated parser
 * counts it), {@code protocol_version},
 * {@code request} and {@code response} (headers and trailers included). Fields the mapping does
 * not read are still checked as the generated parser checks them, so that no message is accepted
 * here that it would refuse: strings must be UTF-8 (proto3), known sub-messages are walked field
 * by field (the timings Envoy sends but the mapping ignores, {@code upstream_local_address}, the
 * cipher suite, …), unknown fields are skipped by wire type. Repeated occurrences of a field follow
 * protobuf's merge rules: the last scalar wins, sub-messages merge, maps put by key.
 *
 * <h2>Left to the generated parser</h2>
 *
 * <ul>
 *   <li>The {@code identifier} (once per stream) and {@code filter_state_objects}: their bytes
 *       are merged into generated builders, with the recursion limit the whole message's parse
 *       would have there.
 *   <li>{@code tcp_logs}: parsed with the generated classes and mapped by {@link
 *       AccessLogEntryMapper#map(TCPAccessLogEntry, Reporter)}.
 *   <li>The whole message, when this decoder meets what it does not model: a group (wire types 3
 *       and 4, which none of these messages has: the generated parser counts them toward its
 *       recursion limit), a oneof that switches back to a member it held before ({@code Address},
 *       {@code log_entries}: the generated builders then merge into the earlier member's content),
 *       any malformation, or a RuntimeException of this decoder's own. The generated parser
 *       then either parses it, and its entries are mapped by {@link AccessLogEntryMapper}, or
 *       throws, and that is the error {@link #decode} throws. So a malformed message costs two
 *       parses, and the error is the generated parser's to the letter.
 * </ul>
 *
 * <p>HTTP entries are decoded into {@link AccessLogEntryFields}, which {@link
 * AccessLogEntryMapper} fills from generated entries too: its {@link AccessLogEntryFields#toBag}
 * is the one place the mapping rules live. What this decoder must get right is the fields, which
 * {@code AccessLogWireDecoderTest} checks against the generated parse on random messages.
 *
 * <p>Thread-safe: each call decodes on its own state.
 */
public final class AccessLogWireDecoder {
  /** {@link CodedInputStream}'s default, which gRPC's protobuf marshaller keeps. */
  static final int RECURSION_LIMIT = WireStructs.RECURSION_LIMIT;

  private final AccessLogEntryMapper mapper;
  private final Runnable onFallback;

  /** @param mapper maps custom tags (its {@link AttributeMapping}) and what falls back */
  public AccessLogWireDecoder(AccessLogEntryMapper mapper) {
    this(mapper, () -> {});
  }

  /**
   * @param onFallback called for each message the generated parser reads instead (see the class
   *     comment), so a slow path, or a bug of this decoder that one hides, can be counted
   */
  public AccessLogWireDecoder(AccessLogEntryMapper mapper, Runnable onFallback) {
    this.mapper = Objects.requireNonNull(mapper, "mapper");
    this.onFallback = Objects.requireNonNull(onFallback, "onFallback");
  }

  /** {@link #decode(byte[], int, int)} of the whole array. */
  public Message decode(byte[] bytes) throws InvalidProtocolBufferException {
    return decode(bytes, 0, bytes.length);
  }

  /**
   * Decodes one serialized {@code StreamAccessLogsMessage}. Keeps no reference to {@code buf}:
   * the caller may reuse it once this returns.
   *
   * @throws InvalidProtocolBufferException exactly when {@code StreamAccessLogsMessage}'s parser
   *     (as gRPC calls it) throws, with its exception
   */
  public Message decode(byte[] buf, int off, int len) throws InvalidProtocolBufferException {
    Objects.checkFromIndexSize(off, len, buf.length);
    try {
      return new Reader(buf, off, len).message();
    } catch (IOException | RuntimeException e) {
      // Malformed, or a shape this decoder leaves to the generated parser (Fallback), or a bug
      // here: the generated parser decides.
    }
    onFallback.run();
    CodedInputStream in = CodedInputStream.newInstance(buf, off, len);
    StreamAccessLogsMessage m = StreamAccessLogsMessage.parser().parseFrom(in);
    in.checkLastTagWas(0); // as gRPC's marshaller: a stray end-group tag is an error
    return of(m);
  }

  /** The hand decoder alone, without the generated parser behind it: for tests. */
  Message decodeByHand(byte[] bytes) throws IOException {
    return new Reader(bytes, 0, bytes.length).message();
  }

  /** A generated message, for callers that have one: its entries map as {@link AccessLogEntryMapper} maps them. */
  public Message of(StreamAccessLogsMessage m) {
    Reporter id = m.hasIdentifier() ? Reporter.of(m.getIdentifier()) : null;
    List<?> entries = switch (m.getLogEntriesCase()) {
      case HTTP_LOGS -> m.getHttpLogs().getLogEntryList();
      case TCP_LOGS -> m.getTcpLogs().getLogEntryList();
      case LOGENTRIES_NOT_SET -> List.of();
    };
    return new Message(id, entries);
  }

  /**
   * One decoded message: its identifier, if it has one, and its entries, mapped on demand with the
   * stream's {@link Reporter}. Not thread-safe.
   */
  public final class Message {
    private final Reporter identifier;
    private final List<?> entries; // AccessLogEntryFields, HTTPAccessLogEntry or TCPAccessLogEntry

    private Message(Reporter identifier, List<?> entries) {
      this.identifier = identifier;
      this.entries = entries;
    }

    /** The message's {@code Identifier} as a reporter, or null when it has none. */
    public Reporter identifier() {
      return identifier;
    }

    /** How many entries ({@code http_logs} or {@code tcp_logs}) it holds. */
    public int size() {
      return entries.size();
    }

    /**
     * Entry {@code i}'s attributes, stamped with {@code reporter}: what {@link AccessLogEntryMapper}
     * makes of it, and throwing where it throws (a time out of {@link Instant}'s range, …).
     */
    public AttributeBag map(int i, Reporter reporter) {
      Object e = entries.get(i);
      if (e instanceof AccessLogEntryFields f) {
        return f.toBag(mapper.customTags, reporter);
      } else if (e instanceof HTTPAccessLogEntry h) {
        return mapper.map(h, reporter);
      }
      return mapper.map((TCPAccessLogEntry) e, reporter);
    }
  }

  /** Gives the message to the generated parser. Thrown without a stack: a control transfer. */
  private static final class Fallback extends RuntimeException {
    static final Fallback INSTANCE = new Fallback();

    private Fallback() {
      super("left to the generated parser", null, false, false);
    }
  }

  // --- decoding ---------------------------------------------------------------------------------

  private static final int VARINT = WireFormat.WIRETYPE_VARINT;
  private static final int LEN = WireFormat.WIRETYPE_LENGTH_DELIMITED;

  /**
   * Reads one message. Each method reads one message type, from its length on or inside the limit
   * its caller pushed, at a known depth (the whole message is 0): what a generated parser of a
   * slice gets as its recursion budget, and what the Struct decoding counts against the limit.
   */
  private final class Reader {
    private final byte[] buf;
    private final int off;
    private final CodedInputStream in;

    Reader(byte[] buf, int off, int len) {
      this.buf = buf;
      this.off = off;
      this.in = CodedInputStream.newInstance(buf, off, len);
    }

    /** StreamAccessLogsMessage, depth 0. */
    Message message() throws IOException {
      StreamAccessLogsMessage.Builder generated = null; // identifier and tcp_logs
      List<Object> http = null;
      boolean tcp = false;
      int kase = 0; // which log_entries member the message holds: 0 none, 2 http_logs, 3 tcp_logs
      while (true) {
        int start = in.getTotalBytesRead();
        int tag = in.readTag();
        switch (tag) {
          case 0 -> {
            Reporter id = generated != null && generated.hasIdentifier()
                ? Reporter.of(generated.getIdentifier()) : null;
            List<?> entries = kase == 2 ? http
                : kase == 3 ? generated.getTcpLogs().getLogEntryList() : List.of();
            return new Message(id, entries);
          }
          case 1 << 3 | LEN -> {
            generated = generated != null ? generated : StreamAccessLogsMessage.newBuilder();
            generated.mergeFrom(field(start, 0));
          }
          case 2 << 3 | LEN -> {
            if (kase != 2) {
              if (http != null) {
                throw Fallback.INSTANCE; // back to http_logs after tcp_logs
              }
              http = new ArrayList<>();
              kase = 2;
            }
            int old = enter();
            httpEntries(http);
            leave(old);
          }
          case 3 << 3 | LEN -> {
            if (kase != 3) {
              if (tcp) {
                throw Fallback.INSTANCE;
              }
              tcp = true;
              kase = 3;
            }
            generated = generated != null ? generated : StreamAccessLogsMessage.newBuilder();
            generated.mergeFrom(field(start, 0));
          }
          default -> skip(tag);
        }
      }
    }

    /** HTTPAccessLogEntries, depth 1. */
    private void httpEntries(List<Object> out) throws IOException {
      while (true) {
        int tag = in.readTag();
        if (tag == 0) {
          return;
        } else if (tag == (1 << 3 | LEN)) {
          int old = enter();
          out.add(entry());
          leave(old);
        } else {
          skip(tag);
        }
      }
    }

    /** HTTPAccessLogEntry, depth 2. */
    private AccessLogEntryFields entry() throws IOException {
      AccessLogEntryFields h = new AccessLogEntryFields();
      while (true) {
        int tag = in.readTag();
        switch (tag) {
          case 0 -> {
            return h;
          }
          case 1 << 3 | LEN -> {
            int old = enter();
            common(h);
            leave(old);
          }
          case 2 << 3 | VARINT -> h.protocol = in.readEnum();
          case 3 << 3 | LEN -> {
            int old = enter();
            request(h);
            leave(old);
          }
          case 4 << 3 | LEN -> {
            int old = enter();
            response(h);
            leave(old);
          }
          default -> skip(tag);
        }
      }
    }

    /** AccessLogCommon, depth 3. */
    private void common(AccessLogEntryFields h) throws IOException {
      while (true) {
        int start = in.getTotalBytesRead();
        int tag = in.readTag();
        switch (tag) {
          case 0 -> {
            return;
          }
          case 2 << 3 | LEN -> h.source = address(h.source);
          case 3 << 3 | LEN -> h.local = address(h.local);
          case 13 << 3 | LEN -> h.upstream = address(h.upstream);
          case 14 << 3 | LEN, 20 << 3 | LEN -> address(null); // upstream_local, downstream_direct
          case 4 << 3 | LEN -> h.tls = tls(h.tls);
          case 5 << 3 | LEN -> h.start = time(h.start);
          case 12 << 3 | LEN -> h.lastTx = time(h.lastTx);
          case 23 << 3 | LEN -> h.duration = time(h.duration);
          case 6 << 3 | LEN, 7 << 3 | LEN, 8 << 3 | LEN, 9 << 3 | LEN, 10 << 3 | LEN, 11 << 3 | LEN ->
              walk(0); // the other timings: Durations
          case 15 << 3 | LEN -> h.cluster = in.readStringRequireUtf8();
          case 19 << 3 | LEN -> h.route = in.readStringRequireUtf8();
          case 16 << 3 | LEN -> flags(h);
          case 22 << 3 | LEN -> h.tags = entry(h.tags);
          case 18 << 3 | LEN, 25 << 3 | LEN, 26 << 3 | LEN, 28 << 3 | LEN -> in.readStringRequireUtf8();
          case 17 << 3 | LEN -> metadata(h);
          case 21 << 3 | LEN -> // filter_state_objects: not mapped, only checked by a generated builder
              AccessLogCommon.newBuilder().mergeFrom(field(start, 3));
          default -> skip(tag);
        }
      }
    }

    /** An Address, from its length on; {@code a} merges (null: a new one). */
    private Addr address(Addr a) throws IOException {
      a = a != null ? a : new Addr();
      int old = enter();
      while (true) {
        int tag = in.readTag();
        switch (tag) {
          case 0 -> {
            leave(old);
            return a;
          }
          case 1 << 3 | LEN -> {
            if (a.kase != 1) {
              if (a.socketSeen) {
                throw Fallback.INSTANCE; // back to socket_address after another member
              }
              a.kase = 1;
              a.socketSeen = true;
            }
            socket(a);
          }
          case 2 << 3 | LEN -> { // pipe: path
            a.kase = 2;
            walk(1L << 1);
          }
          case 3 << 3 | LEN -> { // envoy_internal_address: server_listener_name, endpoint_id
            a.kase = 3;
            walk(1L << 1 | 1L << 2);
          }
          default -> skip(tag);
        }
      }
    }

    /** SocketAddress into {@code a}. */
    private void socket(Addr a) throws IOException {
      int old = enter();
      while (true) {
        int tag = in.readTag();
        switch (tag) {
          case 0 -> {
            leave(old);
            return;
          }
          case 2 << 3 | LEN -> a.address = in.readStringRequireUtf8();
          case 3 << 3 | VARINT -> {
            a.portValue = true;
            a.port = in.readUInt32();
          }
          case 4 << 3 | LEN -> { // named_port
            a.portValue = false;
            in.readStringRequireUtf8();
          }
          case 5 << 3 | LEN, 7 << 3 | LEN -> in.readStringRequireUtf8();
          default -> skip(tag);
        }
      }
    }

    private Tls tls(Tls t) throws IOException {
      t = t != null ? t : new Tls();
      int old = enter();
      while (true) {
        int tag = in.readTag();
        switch (tag) {
          case 0 -> {
            leave(old);
            return t;
          }
          case 2 << 3 | LEN -> walk(0); // tls_cipher_suite: UInt32Value
          case 3 << 3 | LEN -> t.sni = in.readStringRequireUtf8();
          case 4 << 3 | LEN -> t.local = certificate(t.local);
          case 5 << 3 | LEN -> t.peer = certificate(t.peer);
          case 6 << 3 | LEN, 7 << 3 | LEN -> in.readStringRequireUtf8();
          default -> skip(tag);
        }
      }
    }

    private Cert certificate(Cert c) throws IOException {
      c = c != null ? c : new Cert();
      int old = enter();
      while (true) {
        int tag = in.readTag();
        switch (tag) {
          case 0 -> {
            leave(old);
            return c;
          }
          case 1 << 3 | LEN -> subjectAltName(c);
          case 2 << 3 | LEN -> c.subject = in.readStringRequireUtf8();
          case 3 << 3 | LEN -> in.readStringRequireUtf8();
          default -> skip(tag);
        }
      }
    }

    /** One SubjectAltName (oneof uri, dns: the last wins). */
    private void subjectAltName(Cert c) throws IOException {
      int old = enter();
      int kase = 0;
      String value = "";
      while (true) {
        int tag = in.readTag();
        switch (tag) {
          case 0 -> {
            leave(old);
            c.add(kase, value);
            return;
          }
          case 1 << 3 | LEN -> {
            kase = 1;
            value = in.readStringRequireUtf8();
          }
          case 2 << 3 | LEN -> {
            kase = 2;
            value = in.readStringRequireUtf8();
          }
          default -> skip(tag);
        }
      }
    }

    /** A Timestamp or a Duration: seconds, nanos. */
    private Time time(Time t) throws IOException {
      t = t != null ? t : new Time();
      int old = enter();
      while (true) {
        int tag = in.readTag();
        switch (tag) {
          case 0 -> {
            leave(old);
            return t;
          }
          case 1 << 3 | VARINT -> t.seconds = in.readInt64();
          case 2 << 3 | VARINT -> t.nanos = in.readInt32();
          default -> skip(tag);
        }
      }
    }

    /** ResponseFlags: a bool per field, and unauthorized_details (13), a message. */
    private void flags(AccessLogEntryFields h) throws IOException {
      h.hasFlags = true;
      int old = enter();
      while (true) {
        int tag = in.readTag();
        int field = tag >>> 3;
        if (tag == 0) {
          leave(old);
          return;
        } else if (tag == (13 << 3 | LEN)) {
          h.flags |= 1 << 13;
          walk(0); // Unauthorized: an enum
        } else if ((tag & 7) == VARINT && field != 13 && field >= 1
            && field <= ResponseFlagsText.LAST_FIELD) {
          if (in.readBool()) {
            h.flags |= 1 << field;
          } else {
            h.flags &= ~(1 << field);
          }
        } else {
          skip(tag);
        }
      }
    }

    /**
     * Metadata, depth 4: {@code filter_metadata} into {@code h.filters} as {@link
     * Structs#filterMetadata} converts it (a filter given again replaces the earlier struct, as a
     * map entry does); {@code typed_filter_metadata} only checked.
     */
    private void metadata(AccessLogEntryFields h) throws IOException {
      int old = enter();
      while (true) {
        int tag = in.readTag();
        switch (tag) {
          case 0 -> {
            leave(old);
            return;
          }
          case 1 << 3 | LEN -> { // map<string, Struct> entry, depth 5
            int entry = enter();
            String key = "";
            Map<String, Object> value = null;
            for (int t = in.readTag(); t != 0; t = in.readTag()) {
              if (t == (1 << 3 | LEN)) {
                key = in.readStringRequireUtf8();
              } else if (t == (2 << 3 | LEN)) {
                if (value != null) {
                  throw Fallback.INSTANCE; // the entry's struct given twice merges: not modelled
                }
                value = WireStructs.struct(in, 6);
              } else {
                skip(t);
              }
            }
            leave(entry);
            h.filters = h.filters != null ? h.filters : new HashMap<>();
            h.filters.put(key, value != null ? value : Map.of());
          }
          case 2 << 3 | LEN -> { // map<string, Any> entry: key, Any (type_url, value bytes)
            int entry = enter();
            for (int t = in.readTag(); t != 0; t = in.readTag()) {
              if (t == (1 << 3 | LEN)) {
                in.readStringRequireUtf8();
              } else if (t == (2 << 3 | LEN)) {
                walk(1L << 1);
              } else {
                skip(t);
              }
            }
            leave(entry);
          }
          default -> skip(tag);
        }
      }
    }

    /** HTTPRequestProperties, depth 3. */
    private void request(AccessLogEntryFields h) throws IOException {
      while (true) {
        int tag = in.readTag();
        switch (tag) {
          case 0 -> {
            return;
          }
          case 1 << 3 | VARINT -> h.method = in.readEnum();
          case 2 << 3 | LEN -> h.scheme = in.readStringRequireUtf8();
          case 3 << 3 | LEN -> h.authority = in.readStringRequireUtf8();
          case 4 << 3 | LEN -> walk(0); // port: UInt32Value
          case 5 << 3 | LEN -> h.path = in.readStringRequireUtf8();
          case 6 << 3 | LEN -> h.userAgent = in.readStringRequireUtf8();
          case 7 << 3 | LEN -> h.referer = in.readStringRequireUtf8();
          case 8 << 3 | LEN -> h.forwardedFor = in.readStringRequireUtf8();
          case 9 << 3 | LEN -> h.requestId = in.readStringRequireUtf8();
          case 10 << 3 | LEN -> in.readStringRequireUtf8(); // original_path
          case 12 << 3 | VARINT -> h.requestBytes = in.readUInt64();
          case 13 << 3 | LEN -> h.requestHeaders = entry(h.requestHeaders);
          default -> skip(tag);
        }
      }
    }

    /** HTTPResponseProperties, depth 3. */
    private void response(AccessLogEntryFields h) throws IOException {
      while (true) {
        int tag = in.readTag();
        switch (tag) {
          case 0 -> {
            return;
          }
          case 1 << 3 | LEN -> { // response_code: UInt32Value
            h.hasCode = true;
            int old = enter();
            for (int t = in.readTag(); t != 0; t = in.readTag()) {
              if (t == (1 << 3 | VARINT)) {
                h.code = in.readUInt32();
              } else {
                skip(t);
              }
            }
            leave(old);
          }
          case 3 << 3 | VARINT -> h.responseBytes = in.readUInt64();
          case 4 << 3 | LEN -> h.responseHeaders = entry(h.responseHeaders);
          case 5 << 3 | LEN -> h.responseTrailers = entry(h.responseTrailers);
          case 6 << 3 | LEN -> in.readStringRequireUtf8(); // response_code_details
          default -> skip(tag);
        }
      }
    }

    /** One entry of a {@code map<string, string>} into {@code map} (null: a new one); a key put again replaces its value in place. */
    private Map<String, String> entry(Map<String, String> map) throws IOException {
      map = map != null ? map : new LinkedHashMap<>();
      int old = enter();
      String key = "";
      String value = "";
      while (true) {
        int tag = in.readTag();
        switch (tag) {
          case 0 -> {
            leave(old);
            map.put(key, value);
            return map;
          }
          case 1 << 3 | LEN -> key = in.readStringRequireUtf8();
          case 2 << 3 | LEN -> value = in.readStringRequireUtf8();
          default -> skip(tag);
        }
      }
    }

    /**
     * Checks a sub-message the mapping does not read as its generated parser would: the fields in
     * {@code strings} (bit n: field n) are strings, UTF-8; the message has no other strings and no
     * sub-messages, so every other field only needs its wire type.
     */
    private void walk(long strings) throws IOException {
      int old = enter();
      while (true) {
        int tag = in.readTag();
        if (tag == 0) {
          leave(old);
          return;
        }
        int field = tag >>> 3;
        if ((tag & 7) == LEN && field < 64 && (strings & 1L << field) != 0) {
          in.readStringRequireUtf8();
        } else {
          skip(tag);
        }
      }
    }

    /** A length-delimited value's length, made the limit; returns the old limit. */
    private int enter() throws IOException {
      return in.pushLimit(in.readRawVarint32());
    }

    /** Back to the enclosing limit; short of the limit means the buffer ended first. */
    private void leave(int oldLimit) {
      if (in.getBytesUntilLimit() != 0) {
        throw Fallback.INSTANCE; // the generated parser throws its "truncated" for it
      }
      in.popLimit(oldLimit);
    }

    /** An unknown field (or a known one with another wire type, which protobuf treats as unknown). */
    private void skip(int tag) throws IOException {
      int type = tag & 7;
      if (type == WireFormat.WIRETYPE_START_GROUP || type == WireFormat.WIRETYPE_END_GROUP) {
        throw Fallback.INSTANCE; // groups count toward the recursion limit; leave them to protobuf
      }
      in.skipField(tag);
    }

    /**
     * The field whose tag starts at {@code start} (its length follows), skipped, as a stream of
     * its own for a generated builder of the message that holds it, which sits at {@code depth}.
     */
    private CodedInputStream field(int start, int depth) throws IOException {
      in.skipRawBytes(in.readRawVarint32());
      CodedInputStream one =
          CodedInputStream.newInstance(buf, off + start, in.getTotalBytesRead() - start);
      one.setRecursionLimit(RECURSION_LIMIT - depth);
      return one;
    }
  }
}
