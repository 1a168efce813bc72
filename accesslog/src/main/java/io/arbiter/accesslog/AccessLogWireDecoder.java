package io.arbiter.accesslog;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.WireFormat;
import io.arbiter.accesslog.internal.ResponseFlagsText;
import io.arbiter.engine.AttributeBag;
import io.arbiter.frontend.QueryStrings;
import io.arbiter.frontend.Structs;
import io.arbiter.frontend.Texts;
import io.arbiter.frontend.WireStructs;
import io.envoyproxy.envoy.config.core.v3.RequestMethod;
import io.envoyproxy.envoy.data.accesslog.v3.AccessLogCommon;
import io.envoyproxy.envoy.data.accesslog.v3.HTTPAccessLogEntry;
import io.envoyproxy.envoy.data.accesslog.v3.TCPAccessLogEntry;
import io.envoyproxy.envoy.service.accesslog.v3.StreamAccessLogsMessage;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
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
 * <p>{@link Message#map} applies the mapping rules of {@link AccessLogEntryMapper} to the decoded
 * values; the two are kept equal by {@code AccessLogWireDecoderTest}, which compares them on random
 * messages. A change to the mapping rules belongs in both.
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
    private final List<?> entries; // Http, HTTPAccessLogEntry or TCPAccessLogEntry

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
      if (e instanceof Http h) {
        return h.map(mapper.customTags, reporter);
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
    private Http entry() throws IOException {
      Http h = new Http();
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
    private void common(Http h) throws IOException {
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
          case 21 << 3 | LEN -> { // filter_state_objects
            h.rest = h.rest != null ? h.rest : AccessLogCommon.newBuilder();
            h.rest.mergeFrom(field(start, 3));
          }
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
    private void flags(Http h) throws IOException {
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
    private void metadata(Http h) throws IOException {
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
    private void request(Http h) throws IOException {
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
    private void response(Http h) throws IOException {
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

  // --- decoded values and their mapping --------------------------------------------------------------

  /** An Address: which member of its oneof it holds, and the socket address's fields. */
  private static final class Addr {
    int kase; // 1 socket_address, 2 pipe, 3 envoy_internal_address
    boolean socketSeen;
    String address = "";
    boolean portValue; // port_specifier is port_value (not named_port, not unset)
    int port;
  }

  private static final class Tls {
    String sni = "";
    Cert local;
    Cert peer;
  }

  /** A certificate's SAN count, first non-empty URI and DNS SANs, subject. */
  private static final class Cert {
    int sans;
    String uri;
    String dns;
    String subject = "";

    void add(int kase, String value) {
      sans++;
      if (value.isEmpty()) {
        return;
      }
      if (kase == 1 && uri == null) {
        uri = value;
      } else if (kase == 2 && dns == null) {
        dns = value;
      }
    }

    /** As AccessLogEntryMapper's: the first URI SAN, else the first DNS SAN, else "". */
    String san() {
      return uri != null ? uri : dns != null ? dns : "";
    }
  }

  private static final class Time {
    long seconds;
    int nanos;
  }

  /** What an HTTP entry's mapping reads, as decoded. Absent sub-messages are null. */
  private static final class Http {
    Map<String, String> tags;
    Addr source;
    Addr local;
    Addr upstream;
    Tls tls;
    Time start;
    Time lastTx;
    Time duration;
    boolean hasFlags;
    int flags;
    String route = "";
    String cluster = "";
    Map<String, Object> filters; // metadata.filter_metadata, converted; never empty
    AccessLogCommon.Builder rest; // filter_state_objects

    int protocol;
    int method;
    String scheme = "";
    String authority = "";
    String path = "";
    String userAgent = "";
    String referer = "";
    String forwardedFor = "";
    String requestId = "";
    long requestBytes;
    Map<String, String> requestHeaders;

    boolean hasCode;
    int code;
    long responseBytes;
    Map<String, String> responseHeaders;
    Map<String, String> responseTrailers;

    /** AccessLogEntryMapper.map(HTTPAccessLogEntry, Reporter), step by step, on these values. */
    AttributeBag map(AttributeMapping customTags, Reporter reporter) {
      AttributeBag.Builder bag = AttributeBag.builder();
      if (tags != null) {
        AttributeMapping.Collector collector = customTags.collector();
        tags.forEach(collector::add);
        collector.into(bag);
      }
      reporter.putInto(bag);
      Addr src = socket(source);
      if (src != null) {
        bag.putNonEmpty("source.ip", src.address);
        putPort(bag, "source.port", src);
      }
      Addr up = socket(upstream);
      Addr destination = up != null ? up : socket(local);
      if (destination != null) {
        bag.putNonEmpty("destination.ip", destination.address);
        putPort(bag, "destination.port", destination);
      }
      if (up != null && !up.address.isEmpty()) {
        long port = up.portValue ? up.port : -1;
        bag.put("upstream.address", Texts.hostPort(up.address, port));
      }
      boolean mtls = false;
      if (tls != null) {
        if (tls.peer != null) {
          mtls = tls.peer.sans > 0 || !tls.peer.subject.isEmpty();
          bag.putNonEmpty("source.principal", tls.peer.san());
        }
        if (tls.local != null) {
          bag.putNonEmpty("destination.principal", tls.local.san());
        }
        bag.putNonEmpty("connection.requested_server_name", tls.sni);
      }
      bag.put("connection.mtls", mtls);
      if (start != null) {
        bag.put("request.time", Instant.ofEpochSecond(start.seconds, start.nanos));
      }
      Time d = lastTx != null ? lastTx : duration;
      if (d != null) {
        bag.put("response.duration", Duration.ofSeconds(d.seconds, d.nanos));
      }
      if (hasFlags) {
        bag.putNonEmpty("response.flags", ResponseFlagsText.format(flags));
      }
      bag.putNonEmpty("route.name", route);
      bag.putNonEmpty("upstream.cluster", cluster);
      if (filters != null) {
        Map<String, Object> metadata = Collections.unmodifiableMap(filters);
        bag.put("context.metadata", metadata);
        if (metadata.get(AccessLogEntryMapper.EXT_AUTHZ) instanceof Map<?, ?> authz
            && authz.get("cache_hit") instanceof Boolean hit) {
          bag.put("check.cache_hit", hit);
        }
      }

      RequestMethod m = RequestMethod.forNumber(method);
      if (m != null && m != RequestMethod.METHOD_UNSPECIFIED) {
        bag.put("request.method", m.name());
      }
      bag.putNonEmpty("request.scheme", scheme);
      bag.putNonEmpty("request.host", authority);
      bag.putNonEmpty("destination.service.host", authority);
      if (!path.isEmpty()) {
        int end = QueryStrings.pathEnd(path);
        bag.put("request.path", end == path.length() ? path : path.substring(0, end));
        Map<String, String> query = QueryStrings.parameters(path);
        if (!query.isEmpty()) {
          bag.put("request.query_params", query);
        }
      }
      bag.putNonEmpty("request.useragent", userAgent);
      bag.putNonEmpty("request.id", requestId);
      bag.put("request.size", requestBytes);
      Map<String, String> requestHeaders = AccessLogEntryMapper.requestHeaders(
          this.requestHeaders != null ? this.requestHeaders : Map.of(),
          userAgent, referer, forwardedFor, requestId);
      if (!requestHeaders.isEmpty()) {
        bag.put("request.headers", requestHeaders);
      }
      HTTPAccessLogEntry.HTTPVersion version = HTTPAccessLogEntry.HTTPVersion.forNumber(protocol);
      if (version != null) {
        bag.putNonEmpty("request.protocol", AccessLogEntryMapper.protocol(version));
      }

      if (hasCode) {
        bag.put("response.code", (long) code);
      }
      bag.put("response.size", responseBytes);
      Map<String, String> headers = Map.of();
      if (responseHeaders != null) {
        headers = Texts.lowerNames(responseHeaders);
        bag.put("response.headers", headers);
      }
      String grpcStatus = AccessLogEntryMapper.header(
          responseTrailers != null ? responseTrailers : Map.of(), "grpc-status");
      if (grpcStatus == null) {
        grpcStatus = headers.get("grpc-status");
      }
      Long status = grpcStatus == null ? null : AccessLogEntryMapper.parseCode(grpcStatus);
      if (status != null) {
        bag.put("response.grpc_status", status);
      }
      boolean grpc = grpcStatus != null
          || AccessLogEntryMapper.isGrpc(requestHeaders.get("content-type"))
          || AccessLogEntryMapper.isGrpc(headers.get("content-type"));
      bag.put("context.protocol", grpc ? "grpc" : "http");
      return bag.build();
    }

    private static Addr socket(Addr a) {
      return a != null && a.kase == 1 ? a : null;
    }

    private static void putPort(AttributeBag.Builder bag, String name, Addr a) {
      if (a.portValue) {
        bag.put(name, (long) a.port);
      }
    }
  }
}
