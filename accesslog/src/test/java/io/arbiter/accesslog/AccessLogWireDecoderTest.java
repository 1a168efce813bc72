package io.arbiter.accesslog;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.Descriptors;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Struct;
import com.google.protobuf.UnknownFieldSet;
import com.google.protobuf.Value;
import io.envoyproxy.envoy.config.core.v3.Address;
import io.envoyproxy.envoy.config.core.v3.EnvoyInternalAddress;
import io.envoyproxy.envoy.config.core.v3.Metadata;
import io.envoyproxy.envoy.config.core.v3.Pipe;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.envoyproxy.envoy.data.accesslog.v3.AccessLogCommon;
import io.envoyproxy.envoy.data.accesslog.v3.HTTPAccessLogEntry;
import io.envoyproxy.envoy.data.accesslog.v3.HTTPRequestProperties;
import io.envoyproxy.envoy.data.accesslog.v3.HTTPResponseProperties;
import io.envoyproxy.envoy.data.accesslog.v3.ResponseFlags;
import io.envoyproxy.envoy.data.accesslog.v3.TLSProperties;
import io.envoyproxy.envoy.service.accesslog.v3.AccessLogServiceGrpc;
import io.envoyproxy.envoy.service.accesslog.v3.StreamAccessLogsMessage;
import io.grpc.KnownLength;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * {@link AccessLogWireDecoder} against the path it replaces, gRPC's protobuf marshaller (the
 * generated parser) and {@link AccessLogEntryMapper}, on the same bytes: random messages, merged
 * encodings (a field given twice), odd wire shapes, and corrupted bytes. Either both reject a
 * message, or both accept it and make equal attributes (or throw alike) for every entry.
 */
class AccessLogWireDecoderTest {
  private static final Reporter STREAM = new Reporter("node-0", "cluster-0", "log-0");

  private final AccessLogEntryMapper mapper = new AccessLogEntryMapper(AttributeMapping.defaults());
  private final AccessLogWireDecoder decoder = new AccessLogWireDecoder(mapper);
  private final StreamAccessLogsMarshaller marshaller = new StreamAccessLogsMarshaller(decoder);

  /**
   * What the generated path makes of {@code bytes}, as gRPC's marshaller parses them: "rejected"
   * and the status, or the identifier and each entry's attributes (or the class of what its
   * mapping threw).
   */
  private List<Object> generated(byte[] bytes) {
    StreamAccessLogsMessage m;
    try {
      m = AccessLogServiceGrpc.getStreamAccessLogsMethod().parseRequest(new Received(bytes));
    } catch (StatusRuntimeException e) {
      return rejected(e);
    }
    return outcome(decoder.of(m));
  }

  /** The same through {@link StreamAccessLogsMarshaller} and {@link AccessLogWireDecoder}. */
  private List<Object> decoded(byte[] bytes) {
    AccessLogWireDecoder.Message m;
    try {
      m = marshaller.parse(new Received(bytes));
    } catch (StatusRuntimeException e) {
      return rejected(e);
    }
    return outcome(m);
  }

  /** A message as gRPC's transports hand it to a marshaller: a stream of known length. */
  static final class Received extends ByteArrayInputStream implements KnownLength {
    Received(byte[] bytes) {
      super(bytes);
    }
  }

  private static List<Object> rejected(StatusRuntimeException e) {
    return List.of("rejected", e.getStatus().getCode(), e.getStatus().getDescription(),
        e.getStatus().getCause().getClass().getName());
  }

  private static List<Object> outcome(AccessLogWireDecoder.Message m) {
    List<Object> out = new ArrayList<>();
    Reporter r = m.identifier() != null ? m.identifier() : STREAM;
    out.add(m.identifier() != null ? r : "no identifier");
    for (int i = 0; i < m.size(); i++) {
      try {
        out.add(m.map(i, r).asMap());
      } catch (RuntimeException e) {
        out.add(e.getClass().getName());
      }
    }
    return out;
  }

  private void assertSame(byte[] bytes, Object what) {
    List<Object> expected = generated(bytes);
    assertThat(decoded(bytes)).as("%s", what).isEqualTo(expected);
  }

  /** The hand decoder took it from start to end, without falling back to the generated parser. */
  private void assertByHand(byte[] bytes) {
    try {
      decoder.decodeByHand(bytes);
    } catch (IOException | RuntimeException e) {
      throw new AssertionError("left to the generated parser: " + e, e);
    }
  }

  @Test
  void randomMessagesMakeTheSameAttributes() {
    RandomAccessLogs random = new RandomAccessLogs(1);
    int entries = 0;
    for (int i = 0; i < 4000; i++) {
      StreamAccessLogsMessage m = random.message();
      entries += m.getHttpLogs().getLogEntryCount();
      assertSame(m.toByteArray(), m);
      assertByHand(m.toByteArray());
    }
    assertThat(entries).as("HTTP entries compared").isGreaterThan(5000);
  }

  @Test
  void onlyMessagesTheGeneratedParserReadsAreCountedAsFallbacks() throws Exception {
    java.util.concurrent.atomic.AtomicInteger fallbacks = new java.util.concurrent.atomic.AtomicInteger();
    AccessLogWireDecoder counted = new AccessLogWireDecoder(mapper, fallbacks::incrementAndGet);
    RandomAccessLogs random = new RandomAccessLogs(4);
    for (int i = 0; i < 50; i++) {
      counted.decode(random.message().toByteArray());
    }
    assertThat(fallbacks).hasValue(0);
    byte[] wire = random.message().toByteArray();
    byte[] truncated = java.util.Arrays.copyOf(wire, wire.length - 1);
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> counted.decode(truncated))
        .isInstanceOf(com.google.protobuf.InvalidProtocolBufferException.class);
    assertThat(fallbacks).hasValue(1);
  }

  @Test
  void envoyShapedMessagesMakeTheSameAttributes() throws Exception {
    List<HTTPAccessLogEntry> entries = List.of(Entries.http("/a?b=c", 200), Entries.http("/x", 503),
        HTTPAccessLogEntry.getDefaultInstance());
    StreamAccessLogsMessage first = Entries.httpMessage(Entries.identifier("ingress-1", "edge"), entries);
    assertSame(first.toByteArray(), first);
    assertByHand(first.toByteArray());
    AccessLogWireDecoder.Message m = decoder.decode(first.toByteArray());
    assertThat(m.identifier()).isEqualTo(new Reporter("ingress-1", "ingress", "edge"));
    assertThat(m.map(0, m.identifier()).asMap())
        .isEqualTo(mapper.map(entries.get(0), m.identifier()).asMap())
        .containsEntry("request.query_params", Map.of("b", "c"))
        .containsEntry("check.cache_hit", true);

    StreamAccessLogsMessage tcp = StreamAccessLogsMessage.newBuilder()
        .setTcpLogs(StreamAccessLogsMessage.TCPAccessLogEntries.newBuilder().addLogEntry(Entries.tcp()))
        .build();
    assertSame(tcp.toByteArray(), tcp);
    assertSame(new byte[0], "empty");
    assertSame(StreamAccessLogsMessage.newBuilder()
        .setHttpLogs(StreamAccessLogsMessage.HTTPAccessLogEntries.getDefaultInstance()).build()
        .toByteArray(), "empty http_logs");
  }

  /**
   * A field given twice merges: the later scalar wins, sub-messages merge, maps put by key, a
   * oneof takes its last member. Concatenated encodings give every field twice at once.
   */
  @Test
  void mergedEncodingsMakeTheSameAttributes() throws IOException {
    RandomAccessLogs random = new RandomAccessLogs(2);
    for (int i = 0; i < 1500; i++) {
      HTTPAccessLogEntry a = random.http();
      HTTPAccessLogEntry b = random.p(0.2) ? a : random.http();
      byte[] entry = concat(a.toByteArray(), b.toByteArray());
      assertSame(httpMessage(List.of(entry, random.http().toByteArray())), List.of(a, b));
      assertByHand(httpMessage(List.of(entry))); // each oneof holds two members at most: no switch back

      StreamAccessLogsMessage m1 = random.message();
      StreamAccessLogsMessage m2 = random.message();
      StreamAccessLogsMessage m3 = random.message();
      assertSame(concat(m1.toByteArray(), m2.toByteArray(), m3.toByteArray()), List.of(m1, m2, m3));
    }
  }

  @Test
  void oneofsSwitchingBackLeaveTheMessageToTheGeneratedParser() throws IOException {
    Address socket = Entries.address("10.0.0.1", 80);
    Address pipe = Address.newBuilder().setPipe(Pipe.newBuilder().setPath("/p")).build();
    Address internal = Address.newBuilder()
        .setEnvoyInternalAddress(EnvoyInternalAddress.newBuilder().setServerListenerName("l")).build();
    Address other = Entries.address("10.0.0.2", 0).toBuilder()
        .setSocketAddress(SocketAddress.newBuilder().setNamedPort("http")).build();
    List<List<Address>> sequences = List.of(
        List.of(socket, pipe, socket), List.of(pipe, socket), List.of(socket, internal),
        List.of(socket, other), List.of(internal, pipe, socket, socket), List.of(other, pipe, other));
    for (List<Address> seq : sequences) {
      ByteArrayOutputStream common = new ByteArrayOutputStream();
      for (Address a : seq) {
        common.write(AccessLogCommon.newBuilder().setUpstreamRemoteAddress(a).build().toByteArray());
      }
      // common_properties as written, one field per address (not merged by a parse)
      ByteArrayOutputStream raw = new ByteArrayOutputStream();
      CodedOutputStream out = CodedOutputStream.newInstance(raw);
      out.writeByteArray(1, common.toByteArray());
      out.flush();
      assertSame(httpMessage(List.of(raw.toByteArray())), seq);
    }

    StreamAccessLogsMessage http = Entries.httpMessage(null, List.of(Entries.http("/h", 200)));
    StreamAccessLogsMessage tcp = StreamAccessLogsMessage.newBuilder()
        .setTcpLogs(StreamAccessLogsMessage.TCPAccessLogEntries.newBuilder().addLogEntry(Entries.tcp()))
        .build();
    assertSame(concat(http.toByteArray(), tcp.toByteArray(), http.toByteArray()), "http tcp http");
    assertSame(concat(tcp.toByteArray(), http.toByteArray(), tcp.toByteArray()), "tcp http tcp");
    assertSame(concat(http.toByteArray(), tcp.toByteArray()), "http tcp");
    assertSame(concat(tcp.toByteArray(), http.toByteArray(), http.toByteArray()), "tcp http http");
  }

  /**
   * Filter metadata written the way no builder writes it: a struct key given twice (the later
   * value replaces the earlier, a null removes it), a value with two kinds (the last scalar wins; a
   * struct or list with another kind goes to the generated parser), a filter given twice.
   */
  @Test
  void structsAsWrittenMakeTheSameAttributes() throws IOException {
    Value str = Value.newBuilder().setStringValue("x").build();
    Value num = Value.newBuilder().setNumberValue(1.5).build();
    Value nul = Value.newBuilder().setNullValueValue(0).build();
    Value bool = Value.newBuilder().setBoolValue(true).build();
    Value struct = Value.newBuilder().setStructValue(Struct.newBuilder().putFields("in", str)).build();
    Value list = Value.newBuilder().setListValue(com.google.protobuf.ListValue.newBuilder()
        .addValues(str).addValues(nul).addValues(num)).build();
    Value none = Value.getDefaultInstance();
    List<Value> values = List.of(str, num, nul, bool, struct, list, none);
    for (Value a : values) {
      for (Value b : values) {
        // one key twice, in one struct
        byte[] twice = concat(structOf("k", a.toByteArray()), structOf("j", num.toByteArray()),
            structOf("k", b.toByteArray()));
        byte[] message = metadataMessage(List.of(filterEntry("envoy.filters.http.ext_authz", twice)));
        assertSame(message, List.of("key twice", a, b));
        assertByHand(message);
        // one value with both kinds
        byte[] mixed = structOf("cache_hit", concat(a.toByteArray(), b.toByteArray()));
        message = metadataMessage(List.of(filterEntry("envoy.filters.http.ext_authz", mixed)));
        assertSame(message, List.of("two kinds", a, b));
        // one filter twice: the later struct replaces the earlier
        message = metadataMessage(List.of(filterEntry("f", structOf("a", a.toByteArray())),
            filterEntry("g", new byte[0]), filterEntry("f", structOf("b", b.toByteArray()))));
        assertSame(message, List.of("filter twice", a, b));
        assertByHand(message);
      }
    }
  }

  private static byte[] structOf(String key, byte[] value) throws IOException {
    return field(1, concat(field(1, key.getBytes(StandardCharsets.UTF_8)), field(2, value)));
  }

  private static byte[] filterEntry(String filter, byte[] struct) throws IOException {
    return field(1, concat(field(1, filter.getBytes(StandardCharsets.UTF_8)), field(2, struct)));
  }

  /** An HTTP entry whose common properties hold just metadata made of the given entries. */
  private static byte[] metadataMessage(List<byte[]> filterEntries) throws IOException {
    byte[] metadata = concat(filterEntries.toArray(new byte[0][]));
    byte[] common = field(17, metadata);
    return httpMessage(List.of(field(1, common)));
  }

  /** A length-delimited field. */
  private static byte[] field(int number, byte[] value) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    CodedOutputStream out = CodedOutputStream.newInstance(bytes);
    out.writeByteArray(number, value);
    out.flush();
    return bytes.toByteArray();
  }

  @Test
  void groupsAreLeftToTheGeneratedParser() throws IOException {
    // An unknown group inside the common properties, one inside a header entry, one at the top.
    UnknownFieldSet group = UnknownFieldSet.newBuilder()
        .addField(900, UnknownFieldSet.Field.newBuilder().addGroup(UnknownFieldSet.newBuilder()
            .addField(1, UnknownFieldSet.Field.newBuilder().addVarint(7).build()).build()).build())
        .build();
    HTTPAccessLogEntry e = Entries.http("/g", 200);
    HTTPAccessLogEntry withGroup = e.toBuilder()
        .setCommonProperties(e.getCommonProperties().toBuilder().setUnknownFields(group)).build();
    assertSame(httpMessage(List.of(withGroup.toByteArray())), "group in common");
    StreamAccessLogsMessage top = Entries.httpMessage(null, List.of(e)).toBuilder()
        .setUnknownFields(group).build();
    assertSame(top.toByteArray(), "group at the top");
    assertThat(decoded(top.toByteArray())).hasSize(2).element(1)
        .isEqualTo(mapper.map(e, STREAM).asMap());
  }

  @Test
  void malformedBytesAreRejectedAsGrpcRejectsThem() throws IOException {
    byte[] good = Entries.httpMessage(Entries.identifier("n-1", "l"),
        List.of(Entries.http("/a", 200), Entries.http("/b", 404))).toByteArray();
    List<byte[]> bad = new ArrayList<>();
    bad.add(Arrays.copyOf(good, good.length - 1)); // truncated in the last entry
    bad.add(Arrays.copyOf(good, good.length / 2));
    bad.add(concat(good, new byte[] {0})); // tag 0
    bad.add(concat(good, new byte[] {(byte) 0x0f})); // wire type 7
    bad.add(concat(good, new byte[] {(byte) 0x0c})); // end group with none open
    bad.add(concat(good, new byte[] {0x12, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, 0x0f})); // length -1
    bad.add(concat(good, new byte[] {0x12, 0x7f})); // length past the end
    bad.add(concat(good, new byte[] {0x08, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff,
        (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, 0x01})); // varint of 11 bytes
    // An entry whose common properties are a varint: a known field, another wire type (unknown).
    bad.add(httpMessage(List.of(new byte[] {0x08, 0x01})));
    // An entry of one field whose length runs past the entry.
    bad.add(httpMessage(List.of(new byte[] {0x0a, 0x05, 0x00})));
    for (byte[] b : bad) {
      assertSame(b, "malformed " + Arrays.toString(b));
    }
    assertThat(decoded(bad.get(0))).containsExactly("rejected", Status.Code.INTERNAL,
        "Invalid protobuf byte sequence", InvalidProtocolBufferException.class.getName());
    assertThatThrownBy(() -> decoder.decode(bad.get(0)))
        .isInstanceOf(InvalidProtocolBufferException.class)
        .hasMessage(catchParse(bad.get(0)).getMessage());
  }

  private static InvalidProtocolBufferException catchParse(byte[] bytes) {
    try {
      StreamAccessLogsMessage.parseFrom(bytes);
      throw new AssertionError("parsed");
    } catch (InvalidProtocolBufferException e) {
      return e;
    }
  }

  /** Strings must be UTF-8 (proto3), also those the mapping ignores and those of map entries. */
  @Test
  void invalidUtf8AnywhereIsRejectedAsTheGeneratedParserRejectsIt() {
    byte[] marker = "orders".getBytes(StandardCharsets.UTF_8);
    RandomAccessLogs random = new RandomAccessLogs(3);
    int rejected = 0;
    for (int i = 0; i < 3000; i++) {
      byte[] bytes = random.message().toByteArray();
      List<Integer> at = indexesOf(bytes, marker);
      if (at.isEmpty()) {
        continue;
      }
      int pos = at.get(random.nextInt(at.size()));
      bytes[pos] = (byte) 0xff; // never in UTF-8
      List<Object> expected = generated(bytes);
      rejected += expected.get(0).equals("rejected") ? 1 : 0;
      assertThat(decoded(bytes)).as("message %d, byte %d", i, pos).isEqualTo(expected);
    }
    assertThat(rejected).as("messages rejected for their UTF-8").isGreaterThan(300);
  }

  private static List<Integer> indexesOf(byte[] bytes, byte[] what) {
    List<Integer> out = new ArrayList<>();
    outer:
    for (int i = 0; i + what.length <= bytes.length; i++) {
      for (int j = 0; j < what.length; j++) {
        if (bytes[i + j] != what[j]) {
          continue outer;
        }
      }
      out.add(i);
    }
    return out;
  }

  /** Bytes flipped, dropped, inserted and cut at random: both accept, alike, or both reject. */
  @Test
  void corruptedBytesAreAcceptedOrRejectedAlike() {
    RandomAccessLogs random = new RandomAccessLogs(4);
    SplittableRandom r = new SplittableRandom(4);
    int rejected = 0;
    int accepted = 0;
    for (int i = 0; i < 6000; i++) {
      byte[] bytes = random.message().toByteArray();
      if (bytes.length == 0) {
        continue;
      }
      int n = 1 + r.nextInt(3);
      for (int k = 0; k < n; k++) {
        bytes = corrupt(bytes, r);
      }
      List<Object> expected = generated(bytes);
      if (expected.get(0).equals("rejected")) {
        rejected++;
      } else {
        accepted++;
      }
      assertThat(decoded(bytes)).as("case %d: %s", i, Arrays.toString(bytes)).isEqualTo(expected);
    }
    assertThat(rejected).isGreaterThan(1000);
    assertThat(accepted).isGreaterThan(500);
  }

  private static byte[] corrupt(byte[] b, SplittableRandom r) {
    if (b.length == 0) {
      return b;
    }
    int at = r.nextInt(b.length);
    switch (r.nextInt(4)) {
      case 0 -> {
        byte[] out = b.clone();
        out[at] = (byte) r.nextInt(256);
        return out;
      }
      case 1 -> {
        byte[] out = b.clone();
        out[at] ^= (byte) (1 << r.nextInt(8));
        return out;
      }
      case 2 -> {
        return Arrays.copyOf(b, at);
      }
      default -> {
        byte[] out = new byte[b.length + 1];
        System.arraycopy(b, 0, out, 0, at);
        out[at] = (byte) r.nextInt(256);
        System.arraycopy(b, at, out, at + 1, b.length - at);
        return out;
      }
    }
  }

  /** Filter metadata nested around protobuf's recursion limit (100), counted from the message. */
  @Test
  void theRecursionLimitIsTheWholeMessagesAtTheMetadata() {
    int acceptedDeepest = -1;
    for (int depth = 20; depth < 40; depth++) {
      Value v = Value.newBuilder().setStringValue("leaf").build();
      for (int i = 0; i < depth; i++) {
        v = Value.newBuilder().setStructValue(Struct.newBuilder().putFields("k", v)).build();
      }
      HTTPAccessLogEntry e = HTTPAccessLogEntry.newBuilder()
          .setCommonProperties(AccessLogCommon.newBuilder().setMetadata(Metadata.newBuilder()
              .putFilterMetadata("deep", Struct.newBuilder().putFields("k", v).build())))
          .build();
      byte[] bytes = Entries.httpMessage(null, List.of(e)).toByteArray();
      List<Object> expected = generated(bytes);
      if (!expected.get(0).equals("rejected")) {
        acceptedDeepest = depth;
      }
      assertThat(decoded(bytes)).as("depth %d", depth).isEqualTo(expected);
    }
    assertThat(acceptedDeepest).as("the limit falls inside the range tried").isBetween(21, 38);
  }

  /**
   * The decoder knows every field of the messages it decodes by hand (so that it checks their
   * strings): a new Envoy API with more fields fails here, for a look at the decoder.
   */
  @Test
  void theHandDecodedMessagesHaveTheFieldsTheDecoderKnows() {
    assertFields(StreamAccessLogsMessage.getDescriptor(), 1, 2, 3);
    assertFields(StreamAccessLogsMessage.HTTPAccessLogEntries.getDescriptor(), 1);
    assertFields(HTTPAccessLogEntry.getDescriptor(), 1, 2, 3, 4);
    assertFields(AccessLogCommon.getDescriptor(), range(1, 33));
    assertFields(Address.getDescriptor(), 1, 2, 3);
    assertFields(SocketAddress.getDescriptor(), 1, 2, 3, 4, 5, 6, 7);
    assertFields(Pipe.getDescriptor(), 1, 2);
    assertFields(EnvoyInternalAddress.getDescriptor(), 1, 2);
    assertFields(TLSProperties.getDescriptor(), 1, 2, 3, 4, 5, 6, 7);
    assertFields(TLSProperties.CertificateProperties.getDescriptor(), 1, 2, 3);
    assertFields(TLSProperties.CertificateProperties.SubjectAltName.getDescriptor(), 1, 2);
    assertFields(ResponseFlags.getDescriptor(), range(1, 28));
    assertFields(ResponseFlags.Unauthorized.getDescriptor(), 1);
    assertFields(HTTPRequestProperties.getDescriptor(), range(1, 15));
    assertFields(HTTPResponseProperties.getDescriptor(), range(1, 8));
    assertFields(com.google.protobuf.Timestamp.getDescriptor(), 1, 2);
    assertFields(com.google.protobuf.Duration.getDescriptor(), 1, 2);
    assertFields(com.google.protobuf.UInt32Value.getDescriptor(), 1);
  }

  private static int[] range(int from, int to) {
    return java.util.stream.IntStream.rangeClosed(from, to).toArray();
  }

  private static void assertFields(Descriptors.Descriptor d, int... numbers) {
    assertThat(d.getFields().stream().map(Descriptors.FieldDescriptor::getNumber).collect(Collectors.toList()))
        .as(d.getFullName())
        .containsExactlyInAnyOrderElementsOf(Arrays.stream(numbers).boxed().toList());
  }

  @Test
  void theMarshallerDoesNotSerialize() {
    assertThatThrownBy(() -> marshaller.stream(decoder.of(StreamAccessLogsMessage.getDefaultInstance())))
        .isInstanceOf(UnsupportedOperationException.class);
  }

  // --- encoding helpers ----------------------------------------------------------------------

  /** A message of http_logs whose entries are the given encodings, as they are. */
  private static byte[] httpMessage(List<byte[]> entries) throws IOException {
    ByteArrayOutputStream logs = new ByteArrayOutputStream();
    CodedOutputStream out = CodedOutputStream.newInstance(logs);
    for (byte[] e : entries) {
      out.writeByteArray(1, e);
    }
    out.flush();
    ByteArrayOutputStream message = new ByteArrayOutputStream();
    out = CodedOutputStream.newInstance(message);
    out.writeBytes(2, ByteString.copyFrom(logs.toByteArray()));
    out.flush();
    return message.toByteArray();
  }

  private static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] p : parts) {
      out.writeBytes(p);
    }
    return out.toByteArray();
  }
}
