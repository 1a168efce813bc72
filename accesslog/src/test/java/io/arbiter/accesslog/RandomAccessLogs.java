package io.arbiter.accesslog;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import com.google.protobuf.Duration;
import com.google.protobuf.ListValue;
import com.google.protobuf.Message;
import com.google.protobuf.NullValue;
import com.google.protobuf.Struct;
import com.google.protobuf.Timestamp;
import com.google.protobuf.UInt32Value;
import com.google.protobuf.UnknownFieldSet;
import com.google.protobuf.Value;
import io.envoyproxy.envoy.config.core.v3.Address;
import io.envoyproxy.envoy.config.core.v3.EnvoyInternalAddress;
import io.envoyproxy.envoy.config.core.v3.Metadata;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.config.core.v3.Pipe;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.envoyproxy.envoy.data.accesslog.v3.AccessLogCommon;
import io.envoyproxy.envoy.data.accesslog.v3.ConnectionProperties;
import io.envoyproxy.envoy.data.accesslog.v3.HTTPAccessLogEntry;
import io.envoyproxy.envoy.data.accesslog.v3.HTTPRequestProperties;
import io.envoyproxy.envoy.data.accesslog.v3.HTTPResponseProperties;
import io.envoyproxy.envoy.data.accesslog.v3.ResponseFlags;
import io.envoyproxy.envoy.data.accesslog.v3.TCPAccessLogEntry;
import io.envoyproxy.envoy.data.accesslog.v3.TLSProperties;
import io.envoyproxy.envoy.service.accesslog.v3.StreamAccessLogsMessage;
import java.util.SplittableRandom;

/**
 * Random {@code StreamAccessLogsMessage}s for differential tests: every field the mapping reads
 * and most it does not, each set with some probability to a value drawn from a pool of ordinary
 * and awkward ones (empty, {@code -}, mixed case, non-ASCII, out-of-range numbers, unknown enum
 * values), with unknown fields sprinkled in. Deterministic for a seed.
 */
final class RandomAccessLogs {
  private static final String[] TEXT = {
    "", "-", "a", "orders", "Orders.Example.COM", "é", "日本語", "\uD83D\uDE00", "x y", "10.0.0.1",
    "::1", "fe80::1%eth0", "spiffe://cluster.local/ns/default/sa/frontend", "frontend.internal",
  };
  private static final String[] HEADER_NAMES = {
    "content-type", "Content-Type", "x-user", "X-User", "grpc-status", "Grpc-Status", "user-agent",
    "referer", "x-forwarded-for", "x-request-id", "", "x-é",
  };
  private static final String[] HEADER_VALUES = {
    "", "alice", "application/grpc", "application/grpc+proto", "Application/GRPC-Web",
    "application/json", "0", "14", " 5 ", "abc", "99999999999999999999", "-3",
  };
  private static final String[] PATHS = {
    "", "/", "/a", "/api/v1/items/7?page=2&sort=price", "/q?a=1&a=2&b=%41%zz&+c=d+e", "/p#frag?x=1",
    "?only=query", "/é?ü=ö", "/shop.v1.Service/Get",
  };
  private static final String[] TAG_KEYS = {
    "context.reporter.kind", "node_name", "cluster_name", "log_name", "response_code", "duration",
    "start_time", "request.headers.x-tenant", "response.headers.x-r", "upstream_host",
    "downstream_remote_address", "grpc_status", "unknown.key", "request.path", "source.port",
    "check.cache_hit", "route_name", "request.size",
  };
  private static final String[] TAG_VALUES = {
    "", "-", "inbound", "outbound", "200", "abc", "1.5s", "250", "2024-01-02T03:04:05Z", "1.7e9",
    "10.0.0.1:8080", "[::1]:80", "NotFound", "true", "/x?y=z", "1e400",
  };
  private static final long[] LONGS = {
    0, 1, 80, 8080, 65535, 1_700_000_000L, -1, Integer.MAX_VALUE, 0xFFFF_FFFFL, Long.MAX_VALUE,
    Long.MIN_VALUE, 315_537_897_599L, 315_537_897_600L, -62_135_596_800L, 31_556_889_864_403_200L,
  };
  private static final int[] INTS = {0, 1, 5000, 999_999_999, 1_000_000_000, -1, Integer.MIN_VALUE};

  private final SplittableRandom random;

  RandomAccessLogs(long seed) {
    this.random = new SplittableRandom(seed);
  }

  boolean p(double probability) {
    return random.nextDouble() < probability;
  }

  int nextInt(int bound) {
    return random.nextInt(bound);
  }

  String text() {
    return TEXT[random.nextInt(TEXT.length)];
  }

  private long someLong() {
    return p(0.8) ? random.nextLong(0, 2_000_000_000L) : LONGS[random.nextInt(LONGS.length)];
  }

  private int someInt() {
    return p(0.8) ? random.nextInt(1_000_000_000) : INTS[random.nextInt(INTS.length)];
  }

  StreamAccessLogsMessage message() {
    StreamAccessLogsMessage.Builder m = StreamAccessLogsMessage.newBuilder();
    if (p(0.3)) {
      StreamAccessLogsMessage.Identifier.Builder id = StreamAccessLogsMessage.Identifier.newBuilder();
      if (p(0.9)) {
        Node.Builder node = Node.newBuilder();
        if (p(0.8)) {
          node.setId(text());
        }
        if (p(0.8)) {
          node.setCluster(text());
        }
        if (p(0.2)) {
          node.setUserAgentName(text());
        }
        id.setNode(node);
      }
      if (p(0.8)) {
        id.setLogName(text());
      }
      m.setIdentifier(id);
    }
    int kind = random.nextInt(10);
    if (kind < 7) {
      StreamAccessLogsMessage.HTTPAccessLogEntries.Builder logs =
          StreamAccessLogsMessage.HTTPAccessLogEntries.newBuilder();
      int n = random.nextInt(6);
      for (int i = 0; i < n; i++) {
        logs.addLogEntry(http());
      }
      m.setHttpLogs(unknown(logs));
    } else if (kind < 9) {
      StreamAccessLogsMessage.TCPAccessLogEntries.Builder logs =
          StreamAccessLogsMessage.TCPAccessLogEntries.newBuilder();
      int n = random.nextInt(4);
      for (int i = 0; i < n; i++) {
        TCPAccessLogEntry.Builder e = TCPAccessLogEntry.newBuilder();
        if (p(0.8)) {
          e.setCommonProperties(common());
        }
        if (p(0.7)) {
          e.setConnectionProperties(ConnectionProperties.newBuilder()
              .setReceivedBytes(someLong()).setSentBytes(someLong()));
        }
        logs.addLogEntry(e);
      }
      m.setTcpLogs(logs);
    }
    return unknown(m).build();
  }

  HTTPAccessLogEntry http() {
    HTTPAccessLogEntry.Builder e = HTTPAccessLogEntry.newBuilder();
    if (p(0.9)) {
      e.setCommonProperties(common());
    }
    if (p(0.8)) {
      e.setProtocolVersionValue(p(0.9) ? random.nextInt(5) : 7);
    }
    if (p(0.9)) {
      e.setRequest(request());
    }
    if (p(0.9)) {
      e.setResponse(response());
    }
    return unknown(e).build();
  }

  AccessLogCommon.Builder common() {
    AccessLogCommon.Builder c = AccessLogCommon.newBuilder();
    if (p(0.5)) {
      c.setSampleRate(random.nextDouble());
    }
    if (p(0.8)) {
      c.setDownstreamRemoteAddress(address());
    }
    if (p(0.7)) {
      c.setDownstreamLocalAddress(address());
    }
    if (p(0.6)) {
      c.setUpstreamRemoteAddress(address());
    }
    if (p(0.5)) {
      c.setUpstreamLocalAddress(address());
    }
    if (p(0.2)) {
      c.setDownstreamDirectRemoteAddress(address());
    }
    if (p(0.6)) {
      c.setTlsProperties(tls());
    }
    if (p(0.8)) {
      c.setStartTime(unknown(Timestamp.newBuilder().setSeconds(p(0.95) ? 1_700_000_000L + random.nextInt(1000)
          : LONGS[random.nextInt(LONGS.length)]).setNanos(someInt())));
    }
    if (p(0.4)) {
      c.setTimeToLastRxByte(duration());
    }
    if (p(0.3)) {
      c.setTimeToFirstUpstreamTxByte(duration());
    }
    if (p(0.3)) {
      c.setTimeToLastUpstreamTxByte(duration());
    }
    if (p(0.3)) {
      c.setTimeToFirstUpstreamRxByte(duration());
    }
    if (p(0.3)) {
      c.setTimeToLastUpstreamRxByte(duration());
    }
    if (p(0.3)) {
      c.setTimeToFirstDownstreamTxByte(duration());
    }
    if (p(0.6)) {
      c.setTimeToLastDownstreamTxByte(duration());
    }
    if (p(0.4)) {
      c.setDuration(duration());
    }
    if (p(0.6)) {
      c.setUpstreamCluster(text());
    }
    if (p(0.4)) {
      ResponseFlags.Builder f = ResponseFlags.newBuilder();
      for (Flag flag : Flag.ALL) {
        if (p(0.1)) {
          f.setField(flag.field(), true);
        }
      }
      if (p(0.1)) {
        f.setUnauthorizedDetails(ResponseFlags.Unauthorized.newBuilder().setReasonValue(random.nextInt(3)));
      }
      c.setResponseFlags(unknown(f));
    }
    if (p(0.5)) {
      c.setMetadata(metadata());
    }
    if (p(0.2)) {
      c.setUpstreamTransportFailureReason(text());
    }
    if (p(0.6)) {
      c.setRouteName(text());
    }
    if (p(0.1)) {
      c.putFilterStateObjects(text(), Any.newBuilder().setTypeUrl("type.googleapis.com/" + text())
          .setValue(ByteString.copyFromUtf8(text())).build());
    }
    if (p(0.4)) {
      int n = 1 + random.nextInt(4);
      for (int i = 0; i < n; i++) {
        c.putCustomTags(TAG_KEYS[random.nextInt(TAG_KEYS.length)], TAG_VALUES[random.nextInt(TAG_VALUES.length)]);
      }
    }
    if (p(0.3)) {
      c.setUpstreamRequestAttemptCount(random.nextInt(5));
    }
    if (p(0.2)) {
      c.setConnectionTerminationDetails(text());
    }
    if (p(0.5)) {
      c.setStreamId(text());
    }
    if (p(0.1)) {
      c.setIntermediateLogEntry(true);
    }
    if (p(0.1)) {
      c.setDownstreamTransportFailureReason(text());
    }
    if (p(0.3)) {
      c.setDownstreamWireBytesSent(someLong()).setDownstreamWireBytesReceived(someLong())
          .setUpstreamWireBytesSent(someLong()).setUpstreamWireBytesReceived(someLong());
    }
    if (p(0.3)) {
      c.setAccessLogTypeValue(random.nextInt(20));
    }
    return unknown(c);
  }

  Address address() {
    Address.Builder a = Address.newBuilder();
    int kind = random.nextInt(10);
    if (kind < 7) {
      SocketAddress.Builder s = SocketAddress.newBuilder();
      if (p(0.9)) {
        s.setAddress(p(0.7) ? "10." + random.nextInt(256) + ".0." + random.nextInt(256) : text());
      }
      int port = random.nextInt(10);
      if (port < 7) {
        s.setPortValue(p(0.9) ? random.nextInt(65536) : (int) LONGS[random.nextInt(LONGS.length)]);
      } else if (port < 9) {
        s.setNamedPort(text());
      }
      if (p(0.1)) {
        s.setProtocolValue(1).setResolverName(text()).setIpv4Compat(true)
            .setNetworkNamespaceFilepath(text());
      }
      a.setSocketAddress(unknown(s));
    } else if (kind < 8) {
      a.setPipe(Pipe.newBuilder().setPath(text()).setMode(random.nextInt(512)));
    } else if (kind < 9) {
      a.setEnvoyInternalAddress(EnvoyInternalAddress.newBuilder()
          .setServerListenerName(text()).setEndpointId(text()));
    }
    return unknown(a).build();
  }

  TLSProperties tls() {
    TLSProperties.Builder t = TLSProperties.newBuilder();
    if (p(0.5)) {
      t.setTlsVersionValue(random.nextInt(6));
    }
    if (p(0.3)) {
      t.setTlsCipherSuite(UInt32Value.of(random.nextInt(0x10000)));
    }
    if (p(0.7)) {
      t.setTlsSniHostname(text());
    }
    if (p(0.6)) {
      t.setLocalCertificateProperties(certificate());
    }
    if (p(0.6)) {
      t.setPeerCertificateProperties(certificate());
    }
    if (p(0.2)) {
      t.setTlsSessionId(text()).setJa3Fingerprint(text());
    }
    return unknown(t).build();
  }

  TLSProperties.CertificateProperties certificate() {
    TLSProperties.CertificateProperties.Builder c = TLSProperties.CertificateProperties.newBuilder();
    int sans = random.nextInt(4);
    for (int i = 0; i < sans; i++) {
      TLSProperties.CertificateProperties.SubjectAltName.Builder san =
          TLSProperties.CertificateProperties.SubjectAltName.newBuilder();
      int kind = random.nextInt(5);
      if (kind < 2) {
        san.setUri(p(0.2) ? "" : text());
      } else if (kind < 4) {
        san.setDns(p(0.2) ? "" : text());
      }
      c.addSubjectAltName(unknown(san));
    }
    if (p(0.5)) {
      c.setSubject(text());
    }
    if (p(0.3)) {
      c.setIssuer(text());
    }
    return unknown(c).build();
  }

  Duration duration() {
    return unknown(Duration.newBuilder()
        .setSeconds(p(0.95) ? random.nextInt(100) : LONGS[random.nextInt(LONGS.length)])
        .setNanos(someInt())).build();
  }

  Metadata metadata() {
    Metadata.Builder m = Metadata.newBuilder();
    int n = random.nextInt(3);
    for (int i = 0; i < n; i++) {
      String filter = p(0.6) ? "envoy.filters.http.ext_authz" : text().isEmpty() ? "f" : text();
      Struct.Builder s = Struct.newBuilder();
      if (p(0.5)) {
        s.putFields("decision_id", Value.newBuilder().setStringValue(Long.toHexString(random.nextLong())).build());
      }
      if (p(0.5)) {
        s.putFields("cache_hit", p(0.8) ? Value.newBuilder().setBoolValue(p(0.5)).build()
            : Value.newBuilder().setStringValue("true").build());
      }
      if (p(0.3)) {
        s.putFields("matched_rules", Value.newBuilder().setListValue(ListValue.newBuilder()
            .addValues(Value.newBuilder().setStringValue(text()))
            .addValues(Value.newBuilder().setNullValue(NullValue.NULL_VALUE))
            .addValues(Value.newBuilder().setNumberValue(random.nextDouble()))).build());
      }
      if (p(0.2)) {
        s.putFields(text(), Value.newBuilder().setStructValue(Struct.newBuilder()
            .putFields("n", Value.newBuilder().setNullValue(NullValue.NULL_VALUE).build())).build());
      }
      m.putFilterMetadata(filter, s.build());
    }
    if (p(0.1)) {
      m.putTypedFilterMetadata("typed", Any.newBuilder().setTypeUrl("type.googleapis.com/x").build());
    }
    return m.build();
  }

  HTTPRequestProperties request() {
    HTTPRequestProperties.Builder r = HTTPRequestProperties.newBuilder();
    if (p(0.9)) {
      r.setRequestMethodValue(p(0.9) ? random.nextInt(10) : 42);
    }
    if (p(0.7)) {
      r.setScheme(p(0.7) ? "https" : text());
    }
    if (p(0.8)) {
      r.setAuthority(text());
    }
    if (p(0.2)) {
      r.setPort(UInt32Value.of(random.nextInt(70000)));
    }
    if (p(0.8)) {
      r.setPath(PATHS[random.nextInt(PATHS.length)]);
    }
    if (p(0.5)) {
      r.setUserAgent(text());
    }
    if (p(0.4)) {
      r.setReferer(text());
    }
    if (p(0.4)) {
      r.setForwardedFor(text());
    }
    if (p(0.6)) {
      r.setRequestId(text());
    }
    if (p(0.2)) {
      r.setOriginalPath(text());
    }
    if (p(0.5)) {
      r.setRequestHeadersBytes(someLong());
    }
    if (p(0.7)) {
      r.setRequestBodyBytes(someLong());
    }
    int headers = random.nextInt(4);
    for (int i = 0; i < headers; i++) {
      r.putRequestHeaders(HEADER_NAMES[random.nextInt(HEADER_NAMES.length)],
          HEADER_VALUES[random.nextInt(HEADER_VALUES.length)]);
    }
    if (p(0.2)) {
      r.setUpstreamHeaderBytesSent(someLong()).setDownstreamHeaderBytesReceived(someLong());
    }
    return unknown(r).build();
  }

  HTTPResponseProperties response() {
    HTTPResponseProperties.Builder r = HTTPResponseProperties.newBuilder();
    if (p(0.8)) {
      r.setResponseCode(unknown(UInt32Value.newBuilder()
          .setValue(p(0.9) ? 100 + random.nextInt(500) : (int) LONGS[random.nextInt(LONGS.length)])));
    }
    if (p(0.5)) {
      r.setResponseHeadersBytes(someLong());
    }
    if (p(0.7)) {
      r.setResponseBodyBytes(someLong());
    }
    int headers = random.nextInt(4);
    for (int i = 0; i < headers; i++) {
      r.putResponseHeaders(HEADER_NAMES[random.nextInt(HEADER_NAMES.length)],
          HEADER_VALUES[random.nextInt(HEADER_VALUES.length)]);
    }
    int trailers = random.nextInt(3);
    for (int i = 0; i < trailers; i++) {
      r.putResponseTrailers(HEADER_NAMES[random.nextInt(HEADER_NAMES.length)],
          HEADER_VALUES[random.nextInt(HEADER_VALUES.length)]);
    }
    if (p(0.5)) {
      r.setResponseCodeDetails(text());
    }
    if (p(0.2)) {
      r.setUpstreamHeaderBytesReceived(someLong()).setDownstreamHeaderBytesSent(someLong());
    }
    return unknown(r).build();
  }

  /** Unknown fields (numbers past the schema's) of every wire type but groups, now and then. */
  @SuppressWarnings("unchecked")
  <B extends Message.Builder> B unknown(B b) {
    if (!p(0.1)) {
      return b;
    }
    UnknownFieldSet.Builder u = UnknownFieldSet.newBuilder();
    int n = 1 + random.nextInt(3);
    for (int i = 0; i < n; i++) {
      int number = 100 + random.nextInt(1000);
      UnknownFieldSet.Field.Builder f = UnknownFieldSet.Field.newBuilder();
      switch (random.nextInt(4)) {
        case 0 -> f.addVarint(random.nextLong());
        case 1 -> f.addFixed32(random.nextInt());
        case 2 -> f.addFixed64(random.nextLong());
        default -> f.addLengthDelimited(ByteString.copyFromUtf8(text() + "\u0000\u00ff"));
      }
      u.addField(number, f.build());
    }
    b.setUnknownFields(u.build());
    return b;
  }

  /** The bool flags of {@code ResponseFlags}. */
  private record Flag(com.google.protobuf.Descriptors.FieldDescriptor field) {
    static final java.util.List<Flag> ALL = ResponseFlags.getDescriptor().getFields().stream()
        .filter(f -> f.getType() == com.google.protobuf.Descriptors.FieldDescriptor.Type.BOOL)
        .map(Flag::new)
        .toList();
  }
}
