package io.arbiter.extauthz;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.Struct;
import com.google.protobuf.Timestamp;
import com.google.protobuf.UnknownFieldSet;
import io.arbiter.engine.config.Settings;
import io.arbiter.engine.metrics.Metrics;
import io.arbiter.frontend.RandomStructs;
import io.envoyproxy.envoy.config.core.v3.Address;
import io.envoyproxy.envoy.config.core.v3.EnvoyInternalAddress;
import io.envoyproxy.envoy.config.core.v3.HeaderMap;
import io.envoyproxy.envoy.config.core.v3.HeaderValue;
import io.envoyproxy.envoy.config.core.v3.Metadata;
import io.envoyproxy.envoy.config.core.v3.Pipe;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.envoyproxy.envoy.service.auth.v3.AttributeContext;
import io.envoyproxy.envoy.service.auth.v3.CheckRequest;
import java.io.ByteArrayOutputStream;
import java.time.Duration;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * {@link CheckRequestMapper#map(byte[], Settings)} (the wire reader) against {@link
 * CheckRequestMapper#map(CheckRequest, Settings)} of the generated parse, on random requests:
 * the same attributes or rejection, or an exception from both.
 */
class CheckWireDecoderTest {
  private final Metrics wireMetrics = new Metrics();
  private final CheckRequestMapper wireMapper = new CheckRequestMapper(wireMetrics);
  private final CheckRequestMapper messageMapper = new CheckRequestMapper(new Metrics());

  private static final String[] WORDS = {
    "", "a", "GET", "POST", "/", "/svc-0/api?x=1&y=%20z+w", "/p#frag", "svc-0.example.com",
    "https", "HTTP/2", "10.0.0.1", "::1", "spiffe://cluster.local/ns/a/sa/b", "tenant-0",
    "application/grpc+proto", "Application/GRPC", "text/html", "é", "中文", "😀x", "x,y", " ",
    "Bearer eyJhbGciOiJSUzI1NiJ9.e30.sig", "caf\u00e9=1&b"
  };
  private static final String[] NAMES = {
    ":path", ":authority", "x-request-id", "user-agent", "content-type", "authorization",
    "x-user", "X-User", "x-tenant", "Content-Type", "cookie", "x-é"
  };

  private final Random random = new Random(20261126);
  private final RandomStructs structs = new RandomStructs(random, this::word, this::word, this::unknown);

  private String word() {
    return WORDS[random.nextInt(WORDS.length)];
  }

  private String name() {
    return NAMES[random.nextInt(NAMES.length)];
  }

  /** Unknown fields, including known numbers with other wire types (unknown to both readers). */
  private UnknownFieldSet unknown() {
    UnknownFieldSet.Builder u = UnknownFieldSet.newBuilder();
    if (random.nextInt(8) != 0) {
      return u.build();
    }
    int n = 1 + random.nextInt(3);
    for (int i = 0; i < n; i++) {
      int number = 1 + random.nextInt(20);
      UnknownFieldSet.Field.Builder f = UnknownFieldSet.Field.newBuilder();
      switch (random.nextInt(9)) {
        case 0, 5, 6 -> f.addVarint(random.nextLong());
        case 1 -> f.addFixed32(random.nextInt());
        case 2 -> f.addFixed64(random.nextLong());
        case 3, 7 -> f.addLengthDelimited(ByteString.copyFromUtf8(word()));
        default -> f.addGroup(UnknownFieldSet.newBuilder() // the wire reader falls back on a group
            .addField(1, UnknownFieldSet.Field.newBuilder().addVarint(7).build()).build());
      }
      u.mergeField(number + (random.nextBoolean() ? 0 : 100), f.build());
    }
    return u.build();
  }

  private Address address() {
    Address.Builder a = Address.newBuilder();
    switch (random.nextInt(6)) {
      case 0 -> a.setPipe(Pipe.newBuilder().setPath("/tmp/" + word()).setMode(random.nextInt(512)));
      case 1 -> a.setEnvoyInternalAddress(
          EnvoyInternalAddress.newBuilder().setServerListenerName(word()).setEndpointId(word()));
      default -> {
        SocketAddress.Builder s = SocketAddress.newBuilder().setAddress(word())
            .setIpv4Compat(random.nextBoolean()).setUnknownFields(unknown());
        switch (random.nextInt(4)) {
          case 0 -> s.setNamedPort(word());
          case 1 -> { }
          case 2 -> s.setPortValue(-1 - random.nextInt(5)); // a uint32 above 2^31
          default -> s.setPortValue(random.nextInt(65536));
        }
        if (random.nextInt(5) == 0) {
          s.setResolverName(word()).setProtocolValue(random.nextInt(3));
        }
        a.setSocketAddress(s);
      }
    }
    return a.setUnknownFields(unknown()).build();
  }

  private AttributeContext.Peer peer() {
    AttributeContext.Peer.Builder p = AttributeContext.Peer.newBuilder();
    if (random.nextInt(5) != 0) {
      p.setAddress(address());
    }
    if (random.nextBoolean()) {
      p.setPrincipal(word());
    }
    if (random.nextInt(3) == 0) {
      p.setService(word()).setCertificate(word());
    }
    for (int i = random.nextInt(3); i > 0; i--) {
      p.putLabels(word(), word());
    }
    return p.setUnknownFields(unknown()).build();
  }

  private Metadata metadata() {
    Metadata.Builder m = Metadata.newBuilder();
    for (int i = random.nextInt(3); i > 0; i--) {
      m.putFilterMetadata(random.nextBoolean() ? "envoy.filters.http.jwt_authn" : word() + "f", structs.struct(0));
    }
    if (random.nextInt(10) == 0) { // typed metadata: left to the generated parser
      m.putTypedFilterMetadata("t", com.google.protobuf.Any.pack(Struct.getDefaultInstance()));
    }
    return m.setUnknownFields(unknown()).build();
  }

  private AttributeContext.HttpRequest http() {
    AttributeContext.HttpRequest.Builder h = AttributeContext.HttpRequest.newBuilder()
        .setId(String.valueOf(random.nextLong())).setMethod(word()).setPath(word())
        .setHost(word()).setScheme(word()).setProtocol(word()).setQuery(word()).setFragment(word())
        .setSize(random.nextInt(4) == 0 ? -1 : random.nextInt(1000));
    switch (random.nextInt(4)) {
      case 0 -> h.setBody(word());
      case 1 -> h.setRawBody(ByteString.copyFrom(new byte[] {(byte) 0xff, 'a', (byte) 0xc3}));
      case 2 -> h.setBody(word()).setRawBody(ByteString.copyFromUtf8(word()));
      default -> { }
    }
    int form = random.nextInt(8);
    if (form != 1) { // the map, as Envoy sends by default
      for (int i = random.nextInt(8); i > 0; i--) {
        h.putHeaders(form == 4 ? name() : name().toLowerCase(java.util.Locale.ROOT), word());
      }
    }
    if (form == 1 || form == 2 && random.nextInt(4) == 0) { // the list (encode_raw_headers)
      HeaderMap.Builder list = HeaderMap.newBuilder();
      for (int i = random.nextInt(8); i > 0; i--) {
        HeaderValue.Builder v = HeaderValue.newBuilder().setKey(name());
        switch (random.nextInt(4)) {
          case 0 -> v.setValue(word());
          case 1 -> v.setRawValue(ByteString.copyFromUtf8(word()));
          case 2 -> v.setValue(word()).setRawValue(ByteString.copyFrom(new byte[] {(byte) 0xe2, 0x28}));
          default -> { }
        }
        list.addHeaders(v.setUnknownFields(unknown()));
      }
      h.setHeaderMap(list.setUnknownFields(unknown()));
    }
    return h.setUnknownFields(unknown()).build();
  }

  private CheckRequest request() {
    AttributeContext.Builder a = AttributeContext.newBuilder();
    if (random.nextInt(6) != 0) {
      a.setSource(peer());
    }
    if (random.nextInt(6) != 0) {
      a.setDestination(peer());
    }
    AttributeContext.Request.Builder r = AttributeContext.Request.newBuilder();
    if (random.nextBoolean()) {
      r.setTime(Timestamp.newBuilder().setSeconds(random.nextInt(2_000_000_000))
          .setNanos(random.nextInt(1_000_000_000)));
    }
    if (random.nextInt(5) != 0) {
      r.setHttp(http());
    }
    if (random.nextInt(8) != 0) {
      a.setRequest(r.setUnknownFields(unknown()));
    }
    for (int i = random.nextInt(3); i > 0; i--) {
      a.putContextExtensions(word(), word());
    }
    if (random.nextInt(4) == 0) {
      a.setMetadataContext(metadata());
    }
    if (random.nextInt(4) == 0) {
      a.setRouteMetadataContext(metadata());
    }
    if (random.nextInt(3) == 0) {
      a.setTlsSession(AttributeContext.TLSSession.newBuilder().setSni(word()));
    }
    return CheckRequest.newBuilder().setAttributes(a.setUnknownFields(unknown()))
        .setUnknownFields(unknown()).build();
  }

  private Settings limits() {
    if (random.nextInt(3) != 0) {
      return Settings.DEFAULT;
    }
    return new Settings(false, 403, Duration.ofMillis(100), 1000, random.nextInt(12),
        random.nextInt(400), random.nextInt(8), random.nextBoolean() ? 431 : 400, Duration.ofSeconds(5));
  }

  /** Asserts both readers agree on {@code wire}; true when the wire reader took its own path. */
  private boolean agree(byte[] wire, Settings limits) throws Exception {
    CheckRequest parsed;
    try {
      parsed = CheckRequest.parseFrom(wire);
      if (System.getenv("DEBUG_WIRE") != null) {
        try {
          CheckWireDecoder.decode(wire);
        } catch (InvalidProtocolBufferException e) {
          System.out.println("DIFF " + java.util.HexFormat.of().formatHex(wire) + "\n" + parsed);
        }
      }
    } catch (InvalidProtocolBufferException e) {
      assertThatThrownBy(() -> wireMapper.map(wire, limits))
          .as("the generated parser fails (%s) on %s", e.getMessage(), Arrays.toString(wire))
          .isInstanceOf(InvalidProtocolBufferException.class);
      return CheckWireDecoderAccess.tookOwnPath(wire);
    }
    CheckRequestMapper.Mapping expected = messageMapper.map(parsed, limits);
    CheckRequestMapper.Mapping actual = wireMapper.map(wire, limits);
    if (expected.rejected()) {
      assertThat(actual.rejection()).as("rejection of %s", parsed).isEqualTo(expected.rejection());
    } else {
      assertThat(actual.rejected()).as("rejected %s: %s", parsed, actual.rejection()).isFalse();
      assertThat(actual.attributes().asMap()).as("attributes of %s", parsed)
          .isEqualTo(expected.attributes().asMap());
    }
    return CheckWireDecoderAccess.tookOwnPath(wire);
  }

  /** Whether {@link CheckWireDecoder#decode} handled {@code wire} itself (no fallback, no error). */
  static final class CheckWireDecoderAccess {
    static boolean tookOwnPath(byte[] wire) {
      try {
        return CheckWireDecoder.decode(wire) != null;
      } catch (InvalidProtocolBufferException e) {
        return true; // it failed by itself, as it should
      }
    }
  }

  @Test
  void randomRequestsMapAsTheGeneratedParserMapsThem() throws Exception {
    int own = 0;
    int n = 5_000;
    for (int i = 0; i < n; i++) {
      if (agree(request().toByteArray(), limits())) {
        own++;
      }
    }
    // The point is the wire reader: most requests must not have fallen back to the generated parser.
    assertThat(own).isGreaterThan(n / 2);
  }

  @Test
  void damagedBytesFailOrMapAlikeInBothReaders() throws Exception {
    int failed = 0;
    for (int i = 0; i < 5_000; i++) {
      byte[] wire = request().toByteArray();
      if (wire.length == 0) {
        continue;
      }
      byte[] damaged = switch (i % 3) {
        case 0 -> Arrays.copyOf(wire, random.nextInt(wire.length));
        case 1 -> {
          byte[] d = wire.clone();
          d[random.nextInt(d.length)] = (byte) random.nextInt(256);
          yield d;
        }
        default -> {
          byte[] d = wire.clone();
          d[random.nextInt(d.length)] ^= (byte) 0x80; // breaks UTF-8 or a varint
          yield d;
        }
      };
      try {
        CheckRequest.parseFrom(damaged);
      } catch (InvalidProtocolBufferException e) {
        failed++;
      }
      agree(damaged, Settings.DEFAULT);
    }
    assertThat(failed).as("damaged requests the generated parser rejects").isGreaterThan(500);
  }

  /** {@code message} with a length-delimited field {@code number} holding {@code bytes}. */
  private static <M extends Message> M withField(M message, int number, byte[] bytes) {
    @SuppressWarnings("unchecked")
    M out = (M) message.toBuilder().setUnknownFields(UnknownFieldSet.newBuilder()
        .addField(number, UnknownFieldSet.Field.newBuilder()
            .addLengthDelimited(ByteString.copyFrom(bytes)).build()).build()).build();
    return out;
  }

  @Test
  void invalidUtf8InAnyStringFieldFailsLikeTheGeneratedParser() throws Exception {
    byte[] bad = {(byte) 0xc3, (byte) 0x28};
    var http = AttributeContext.HttpRequest.newBuilder().setPath("/").build();
    var socket = SocketAddress.newBuilder().setAddress("10.0.0.1").build();
    // Every string field the reader knows, mapped or only validated (id, query, fragment, resolver).
    java.util.List<CheckRequest> requests = new java.util.ArrayList<>();
    for (int number : new int[] {1, 2, 4, 5, 6, 7, 8, 10, 11}) {
      requests.add(CheckRequest.newBuilder().setAttributes(AttributeContext.newBuilder()
          .setRequest(AttributeContext.Request.newBuilder().setHttp(withField(http, number, bad))))
          .build());
    }
    for (int number : new int[] {2, 4, 5, 7}) {
      requests.add(CheckRequest.newBuilder().setAttributes(AttributeContext.newBuilder()
          .setSource(AttributeContext.Peer.newBuilder().setAddress(Address.newBuilder()
              .setSocketAddress(withField(socket, number, bad))))).build());
    }
    for (int number : new int[] {2, 4, 5}) {
      requests.add(CheckRequest.newBuilder().setAttributes(AttributeContext.newBuilder()
          .setDestination(withField(AttributeContext.Peer.getDefaultInstance(), number, bad))).build());
    }
    requests.add(CheckRequest.newBuilder().setAttributes(AttributeContext.newBuilder()
        .setTlsSession(withField(AttributeContext.TLSSession.getDefaultInstance(), 1, bad))).build());
    for (CheckRequest r : requests) {
      byte[] wire = r.toByteArray();
      assertThatThrownBy(() -> CheckRequest.parseFrom(wire))
          .isInstanceOf(InvalidProtocolBufferException.class);
      assertThatThrownBy(() -> CheckWireDecoder.decode(wire))
          .as("invalid UTF-8 in %s", r).isInstanceOf(InvalidProtocolBufferException.class);
    }
  }

  @Test
  void unusualEncodingsFallBackToTheGeneratedParserAndStillAgree() throws Exception {
    CheckRequest a = request();
    CheckRequest b = request();
    // Two occurrences of attributes: protobuf merges them.
    ByteArrayOutputStream twice = new ByteArrayOutputStream();
    a.writeTo(twice);
    b.writeTo(twice);
    assertThat(CheckWireDecoder.decode(twice.toByteArray())).isNull();
    agree(twice.toByteArray(), Settings.DEFAULT);
    // Names equal but for case in the headers map.
    CheckRequest cased = CheckRequest.newBuilder().setAttributes(AttributeContext.newBuilder()
        .setRequest(AttributeContext.Request.newBuilder().setHttp(AttributeContext.HttpRequest.newBuilder()
            .putHeaders("X-User", "a").putHeaders("x-user", "b")))).build();
    assertThat(CheckWireDecoder.decode(cased.toByteArray())).isNull();
    long before = Engines.counter(wireMetrics, "arbiter_extauthz_generated_parses_total");
    agree(cased.toByteArray(), Settings.DEFAULT);
    assertThat(Engines.counter(wireMetrics, "arbiter_extauthz_generated_parses_total"))
        .isEqualTo(before + 1);
  }

  @Test
  void envoysUsualRequestTakesTheWirePath() throws Exception {
    CheckRequest r = CheckRequest.newBuilder().setAttributes(AttributeContext.newBuilder()
        .setSource(AttributeContext.Peer.newBuilder().setAddress(Address.newBuilder()
            .setSocketAddress(SocketAddress.newBuilder().setAddress("10.0.0.1").setPortValue(4321))))
        .setRequest(AttributeContext.Request.newBuilder().setHttp(AttributeContext.HttpRequest.newBuilder()
            .setMethod("GET").setPath("/a?b=c").putHeaders(":path", "/a?b=c")
            .putHeaders("x-request-id", "r1").putHeaders("content-type", "application/grpc"))))
        .build();
    CheckFields f = CheckWireDecoder.decode(r.toByteArray());
    assertThat(f).isNotNull();
    assertThat(f.headerCount).isEqualTo(3);
    assertThat(f.headerBytes).isEqualTo(":path/a?b=cx-request-idr1content-typeapplication/grpc".length());
    CheckRequestMapper.Mapping m = wireMapper.map(r.toByteArray(), Settings.DEFAULT);
    assertThat(m.attributes().get("request.id")).isEqualTo("r1");
    assertThat(m.attributes().get("context.protocol")).isEqualTo("grpc");
    assertThat(m.attributes().get("source.port")).isEqualTo(4321L);
    assertThat(m.attributes().get("request.query_params")).isEqualTo(java.util.Map.of("b", "c"));
  }
}
