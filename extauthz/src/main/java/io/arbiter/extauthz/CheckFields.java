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

  // Resolved once: every call sets most of them.
  private static final AttributeBag.Name CONNECTION_MTLS = AttributeBag.name("connection.mtls");
  private static final AttributeBag.Name CONNECTION_PEER_CERTIFICATE = AttributeBag.name("connection.peer_certificate");
  private static final AttributeBag.Name CONNECTION_REQUESTED_SERVER_NAME = AttributeBag.name("connection.requested_server_name");
  private static final AttributeBag.Name CONTEXT_EXTENSIONS = AttributeBag.name("context.extensions");
  private static final AttributeBag.Name CONTEXT_METADATA = AttributeBag.name("context.metadata");
  private static final AttributeBag.Name CONTEXT_PROTOCOL = AttributeBag.name("context.protocol");
  private static final AttributeBag.Name CONTEXT_REPORTER_KIND = AttributeBag.name("context.reporter.kind");
  private static final AttributeBag.Name CONTEXT_ROUTE_METADATA = AttributeBag.name("context.route_metadata");
  private static final AttributeBag.Name DESTINATION_IP = AttributeBag.name("destination.ip");
  private static final AttributeBag.Name DESTINATION_LABELS = AttributeBag.name("destination.labels");
  private static final AttributeBag.Name DESTINATION_PORT = AttributeBag.name("destination.port");
  private static final AttributeBag.Name DESTINATION_PRINCIPAL = AttributeBag.name("destination.principal");
  private static final AttributeBag.Name DESTINATION_SERVICE_HOST = AttributeBag.name("destination.service.host");
  private static final AttributeBag.Name REQUEST_BODY = AttributeBag.name("request.body");
  private static final AttributeBag.Name REQUEST_HEADERS = AttributeBag.name("request.headers");
  private static final AttributeBag.Name REQUEST_HOST = AttributeBag.name("request.host");
  private static final AttributeBag.Name REQUEST_ID = AttributeBag.name("request.id");
  private static final AttributeBag.Name REQUEST_METHOD = AttributeBag.name("request.method");
  private static final AttributeBag.Name REQUEST_PATH = AttributeBag.name("request.path");
  private static final AttributeBag.Name REQUEST_PROTOCOL = AttributeBag.name("request.protocol");
  private static final AttributeBag.Name REQUEST_QUERY_PARAMS = AttributeBag.name("request.query_params");
  private static final AttributeBag.Name REQUEST_SCHEME = AttributeBag.name("request.scheme");
  private static final AttributeBag.Name REQUEST_SIZE = AttributeBag.name("request.size");
  private static final AttributeBag.Name REQUEST_TIME = AttributeBag.name("request.time");
  private static final AttributeBag.Name REQUEST_USERAGENT = AttributeBag.name("request.useragent");
  private static final AttributeBag.Name SOURCE_IP = AttributeBag.name("source.ip");
  private static final AttributeBag.Name SOURCE_LABELS = AttributeBag.name("source.labels");
  private static final AttributeBag.Name SOURCE_PORT = AttributeBag.name("source.port");
  private static final AttributeBag.Name SOURCE_PRINCIPAL = AttributeBag.name("source.principal");

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
      bag.put(CONTEXT_PROTOCOL, "tcp");
    }
    peer(source, SOURCE, bag);
    peer(destination, DESTINATION, bag);
    bag.put(CONNECTION_MTLS, !source.principal.isEmpty() || !source.certificate.isEmpty());
    bag.putNonEmpty(CONNECTION_PEER_CERTIFICATE, source.certificate);
    String serverName = sni.isEmpty() && !http ? destination.service : sni;
    bag.putNonEmpty(CONNECTION_REQUESTED_SERVER_NAME, serverName);
    if (hasTime) {
      bag.put(REQUEST_TIME, Instant.ofEpochSecond(timeSeconds, timeNanos));
    }
    bag.put(CONTEXT_REPORTER_KIND, "inbound");
    if (!contextExtensions.isEmpty()) {
      bag.put(CONTEXT_EXTENSIONS, contextExtensions);
    }
    putNonEmpty(bag, CONTEXT_METADATA, metadataContext);
    putNonEmpty(bag, CONTEXT_ROUTE_METADATA, routeMetadataContext);
    return bag.build();
  }

  private void httpAttributes(AttributeBag.Builder bag) {
    bag.putNonEmpty(REQUEST_METHOD, method);
    String target = path;
    if (!target.isEmpty()) {
      int end = QueryStrings.pathEnd(target);
      bag.put(REQUEST_PATH, end == target.length() ? target : target.substring(0, end));
      Map<String, String> query = QueryStrings.lazyParameters(target);
      if (!query.isEmpty()) {
        bag.put(REQUEST_QUERY_PARAMS, query);
      }
    }
    bag.putNonEmpty(REQUEST_HOST, host);
    bag.putNonEmpty(DESTINATION_SERVICE_HOST, host);
    bag.putNonEmpty(REQUEST_SCHEME, scheme);
    bag.putNonEmpty(REQUEST_PROTOCOL, protocol);
    if (size >= 0) {
      bag.put(REQUEST_SIZE, size);
    }
    if (!rawBody.isEmpty()) {
      bag.put(REQUEST_BODY, Texts.decodeUtf8(rawBody));
    } else {
      bag.putNonEmpty(REQUEST_BODY, body);
    }
    if (!headers.isEmpty()) {
      bag.put(REQUEST_HEADERS, headers);
    }
    bag.putNonEmpty(REQUEST_ID, headers.get("x-request-id"));
    bag.putNonEmpty(REQUEST_USERAGENT, headers.get("user-agent"));
    String contentType = headers.get("content-type");
    bag.put(
        CONTEXT_PROTOCOL,
        contentType != null
                && contentType.regionMatches(true, 0, GRPC_CONTENT_TYPE, 0, GRPC_CONTENT_TYPE.length())
            ? "grpc"
            : "http");
  }

  /** The attribute names of one peer, so no name is built per call. */
  private record PeerNames(
      AttributeBag.Name ip, AttributeBag.Name port, AttributeBag.Name principal, AttributeBag.Name labels) {}

  private static final PeerNames SOURCE =
      new PeerNames(SOURCE_IP, SOURCE_PORT, SOURCE_PRINCIPAL, SOURCE_LABELS);
  private static final PeerNames DESTINATION =
      new PeerNames(
          DESTINATION_IP, DESTINATION_PORT, DESTINATION_PRINCIPAL, DESTINATION_LABELS);

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

  private static void putNonEmpty(
      AttributeBag.Builder bag, AttributeBag.Name name, Map<String, Object> value) {
    if (!value.isEmpty()) {
      bag.put(name, value);
    }
  }
}
