package io.arbiter.extauthz;

import static io.arbiter.engine.AttributeNames.CONNECTION_MTLS;
import static io.arbiter.engine.AttributeNames.CONNECTION_PEER_CERTIFICATE;
import static io.arbiter.engine.AttributeNames.CONNECTION_REQUESTED_SERVER_NAME;
import static io.arbiter.engine.AttributeNames.CONTEXT_EXTENSIONS;
import static io.arbiter.engine.AttributeNames.CONTEXT_METADATA;
import static io.arbiter.engine.AttributeNames.CONTEXT_PROTOCOL;
import static io.arbiter.engine.AttributeNames.CONTEXT_REPORTER_KIND;
import static io.arbiter.engine.AttributeNames.CONTEXT_ROUTE_METADATA;
import static io.arbiter.engine.AttributeNames.DESTINATION_IP;
import static io.arbiter.engine.AttributeNames.DESTINATION_LABELS;
import static io.arbiter.engine.AttributeNames.DESTINATION_PORT;
import static io.arbiter.engine.AttributeNames.DESTINATION_PRINCIPAL;
import static io.arbiter.engine.AttributeNames.DESTINATION_SERVICE_HOST;
import static io.arbiter.engine.AttributeNames.REQUEST_BODY;
import static io.arbiter.engine.AttributeNames.REQUEST_HEADERS;
import static io.arbiter.engine.AttributeNames.REQUEST_HOST;
import static io.arbiter.engine.AttributeNames.REQUEST_ID;
import static io.arbiter.engine.AttributeNames.REQUEST_METHOD;
import static io.arbiter.engine.AttributeNames.REQUEST_PATH;
import static io.arbiter.engine.AttributeNames.REQUEST_PROTOCOL;
import static io.arbiter.engine.AttributeNames.REQUEST_QUERY_PARAMS;
import static io.arbiter.engine.AttributeNames.REQUEST_SCHEME;
import static io.arbiter.engine.AttributeNames.REQUEST_SIZE;
import static io.arbiter.engine.AttributeNames.REQUEST_TIME;
import static io.arbiter.engine.AttributeNames.REQUEST_USERAGENT;
import static io.arbiter.engine.AttributeNames.SOURCE_IP;
import static io.arbiter.engine.AttributeNames.SOURCE_LABELS;
import static io.arbiter.engine.AttributeNames.SOURCE_PORT;
import static io.arbiter.engine.AttributeNames.SOURCE_PRINCIPAL;

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
