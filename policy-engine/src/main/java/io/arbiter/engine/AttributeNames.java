package io.arbiter.engine;

/**
 * The {@linkplain Vocabulary vocabulary} attributes the front ends set, resolved once ({@link
 * AttributeBag.Name}) and shared, so each front end's field holder ({@code CheckFields}, {@code AccessLogEntryFields})
 * names them without resolving them again. Constants are named after the attribute, dots as
 * underscores.
 */
public final class AttributeNames {
  public static final AttributeBag.Name CHECK_CACHE_HIT = AttributeBag.name("check.cache_hit");
  public static final AttributeBag.Name CONNECTION_MTLS = AttributeBag.name("connection.mtls");
  public static final AttributeBag.Name CONNECTION_PEER_CERTIFICATE = AttributeBag.name("connection.peer_certificate");
  public static final AttributeBag.Name CONNECTION_RECEIVED_BYTES = AttributeBag.name("connection.received_bytes");
  public static final AttributeBag.Name CONNECTION_REQUESTED_SERVER_NAME = AttributeBag.name("connection.requested_server_name");
  public static final AttributeBag.Name CONNECTION_SENT_BYTES = AttributeBag.name("connection.sent_bytes");
  public static final AttributeBag.Name CONTEXT_EXTENSIONS = AttributeBag.name("context.extensions");
  public static final AttributeBag.Name CONTEXT_METADATA = AttributeBag.name("context.metadata");
  public static final AttributeBag.Name CONTEXT_PROTOCOL = AttributeBag.name("context.protocol");
  public static final AttributeBag.Name CONTEXT_REPORTER_KIND = AttributeBag.name("context.reporter.kind");
  public static final AttributeBag.Name CONTEXT_ROUTE_METADATA = AttributeBag.name("context.route_metadata");
  public static final AttributeBag.Name DESTINATION_IP = AttributeBag.name("destination.ip");
  public static final AttributeBag.Name DESTINATION_LABELS = AttributeBag.name("destination.labels");
  public static final AttributeBag.Name DESTINATION_PORT = AttributeBag.name("destination.port");
  public static final AttributeBag.Name DESTINATION_PRINCIPAL = AttributeBag.name("destination.principal");
  public static final AttributeBag.Name DESTINATION_SERVICE_HOST = AttributeBag.name("destination.service.host");
  public static final AttributeBag.Name REQUEST_BODY = AttributeBag.name("request.body");
  public static final AttributeBag.Name REQUEST_HEADERS = AttributeBag.name("request.headers");
  public static final AttributeBag.Name REQUEST_HOST = AttributeBag.name("request.host");
  public static final AttributeBag.Name REQUEST_ID = AttributeBag.name("request.id");
  public static final AttributeBag.Name REQUEST_METHOD = AttributeBag.name("request.method");
  public static final AttributeBag.Name REQUEST_PATH = AttributeBag.name("request.path");
  public static final AttributeBag.Name REQUEST_PROTOCOL = AttributeBag.name("request.protocol");
  public static final AttributeBag.Name REQUEST_QUERY_PARAMS = AttributeBag.name("request.query_params");
  public static final AttributeBag.Name REQUEST_SCHEME = AttributeBag.name("request.scheme");
  public static final AttributeBag.Name REQUEST_SIZE = AttributeBag.name("request.size");
  public static final AttributeBag.Name REQUEST_TIME = AttributeBag.name("request.time");
  public static final AttributeBag.Name REQUEST_USERAGENT = AttributeBag.name("request.useragent");
  public static final AttributeBag.Name RESPONSE_CODE = AttributeBag.name("response.code");
  public static final AttributeBag.Name RESPONSE_DURATION = AttributeBag.name("response.duration");
  public static final AttributeBag.Name RESPONSE_FLAGS = AttributeBag.name("response.flags");
  public static final AttributeBag.Name RESPONSE_GRPC_STATUS = AttributeBag.name("response.grpc_status");
  public static final AttributeBag.Name RESPONSE_HEADERS = AttributeBag.name("response.headers");
  public static final AttributeBag.Name RESPONSE_SIZE = AttributeBag.name("response.size");
  public static final AttributeBag.Name ROUTE_NAME = AttributeBag.name("route.name");
  public static final AttributeBag.Name SOURCE_IP = AttributeBag.name("source.ip");
  public static final AttributeBag.Name SOURCE_LABELS = AttributeBag.name("source.labels");
  public static final AttributeBag.Name SOURCE_PORT = AttributeBag.name("source.port");
  public static final AttributeBag.Name SOURCE_PRINCIPAL = AttributeBag.name("source.principal");
  public static final AttributeBag.Name UPSTREAM_ADDRESS = AttributeBag.name("upstream.address");
  public static final AttributeBag.Name UPSTREAM_CLUSTER = AttributeBag.name("upstream.cluster");

  private AttributeNames() {}
}
