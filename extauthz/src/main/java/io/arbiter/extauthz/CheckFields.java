package io.arbiter.extauthz;

import com.google.protobuf.ByteString;
import io.arbiter.engine.AttributeBag;
import io.arbiter.frontend.QueryStrings;
import io.arbiter.frontend.Structs;
import io.arbiter.frontend.Texts;
import java.time.Instant;
import java.util.Map;

/**
 * What mapping reads from a {@code CheckRequest}, however it was read: from the generated message
 * ({@link CheckRequestMapper#map}) or straight off the wire ({@link CheckWireDecoder}). Turning
 * these fields into attributes happens once, here, so both readers give the same bag by
 * construction; what each reader must get right is only the fields. Mutable, one per call.
 */
final class CheckFields {
  private static final String GRPC_CONTENT_TYPE = "application/grpc";

  /** One peer of the connection. */
  static final class Peer {
    /** {@code socket_address.address}, or null when the address is not a socket address. */
    String ip;
    /** Whether the socket address has a {@code port_value} (not a named port). */
    boolean hasPort;
    /** {@code port_value}, a uint32 read as Java reads it (an int widened to long). */
    long port;
    String service = "";
    String principal = "";
    String certificate = "";
    Map<String, String> labels = Map.of();
  }

  /** Whether the request has {@code attributes.request.http} (false: the network filter). */
  boolean http;

  String method = "";
  String path = "";
  String host = "";
  String scheme = "";
  String protocol = "";
  long size;
  String body = "";
  ByteString rawBody = ByteString.EMPTY;

  /** Lowercased, repeated names joined with {@code ","}; empty without HTTP. */
  Map<String, String> headers = Map.of();

  /** Entries of both header fields before joining (set by the wire reader, which counts as it reads). */
  int headerCount;

  /** UTF-8 bytes of the header names and values, raw values by their size (the wire reader's). */
  long headerBytes;

  final Peer source = new Peer();
  final Peer destination = new Peer();
  String sni = "";
  boolean hasTime;
  long timeSeconds;
  int timeNanos;
  Map<String, String> contextExtensions = Map.of();
  /** {@code metadata_context}'s filter metadata as {@link Structs#filterMetadata} converts it. */
  Map<String, Object> metadataContext = Map.of();

  /** {@code route_metadata_context}'s, likewise. */
  Map<String, Object> routeMetadataContext = Map.of();

  /** The body's size as the limit counts it: {@code raw_body}'s when set, else {@code body}'s. */
  int bodyBytes() {
    return rawBody.isEmpty() ? Texts.utf8Length(body) : rawBody.size();
  }

  /** The attributes; see {@link CheckRequestMapper} for the vocabulary. */
  AttributeBag toBag() {
    AttributeBag.Builder bag = AttributeBag.builder();
    if (http) {
      httpAttributes(bag);
    } else {
      bag.put("context.protocol", "tcp");
    }
    peer(source, SOURCE, bag);
    peer(destination, DESTINATION, bag);
    bag.put("connection.mtls", !source.principal.isEmpty() || !source.certificate.isEmpty());
    bag.putNonEmpty("connection.peer_certificate", source.certificate);
    String serverName = sni.isEmpty() && !http ? destination.service : sni;
    bag.putNonEmpty("connection.requested_server_name", serverName);
    if (hasTime) {
      bag.put("request.time", Instant.ofEpochSecond(timeSeconds, timeNanos));
    }
    bag.put("context.reporter.kind", "inbound");
    if (!contextExtensions.isEmpty()) {
      bag.put("context.extensions", contextExtensions);
    }
    putNonEmpty(bag, "context.metadata", metadataContext);
    putNonEmpty(bag, "context.route_metadata", routeMetadataContext);
    return bag.build();
  }

  private void httpAttributes(AttributeBag.Builder bag) {
    bag.putNonEmpty("request.method", method);
    String target = path;
    if (!target.isEmpty()) {
      int end = QueryStrings.pathEnd(target);
      bag.put("request.path", end == target.length() ? target : target.substring(0, end));
      Map<String, String> query = QueryStrings.lazyParameters(target);
      if (!query.isEmpty()) {
        bag.put("request.query_params", query);
      }
    }
    bag.putNonEmpty("request.host", host);
    bag.putNonEmpty("destination.service.host", host);
    bag.putNonEmpty("request.scheme", scheme);
    bag.putNonEmpty("request.protocol", protocol);
    if (size >= 0) {
      bag.put("request.size", size);
    }
    if (!rawBody.isEmpty()) {
      bag.put("request.body", Texts.decodeUtf8(rawBody));
    } else {
      bag.putNonEmpty("request.body", body);
    }
    if (!headers.isEmpty()) {
      bag.put("request.headers", headers);
    }
    bag.putNonEmpty("request.id", headers.get("x-request-id"));
    bag.putNonEmpty("request.useragent", headers.get("user-agent"));
    String contentType = headers.get("content-type");
    bag.put(
        "context.protocol",
        contentType != null
                && contentType.regionMatches(true, 0, GRPC_CONTENT_TYPE, 0, GRPC_CONTENT_TYPE.length())
            ? "grpc"
            : "http");
  }

  /** The attribute names of one peer, so no name is built per call. */
  private record PeerNames(String ip, String port, String principal, String labels) {}

  private static final PeerNames SOURCE =
      new PeerNames("source.ip", "source.port", "source.principal", "source.labels");
  private static final PeerNames DESTINATION =
      new PeerNames(
          "destination.ip", "destination.port", "destination.principal", "destination.labels");

  private static void peer(Peer peer, PeerNames names, AttributeBag.Builder bag) {
    if (peer.ip != null) {
      bag.putNonEmpty(names.ip(), peer.ip);
    }
    if (peer.hasPort) {
      bag.put(names.port(), peer.port);
    }
    bag.putNonEmpty(names.principal(), peer.principal);
    if (!peer.labels.isEmpty()) {
      bag.put(names.labels(), peer.labels);
    }
  }

  private static void putNonEmpty(AttributeBag.Builder bag, String name, Map<String, Object> value) {
    if (!value.isEmpty()) {
      bag.put(name, value);
    }
  }
}
