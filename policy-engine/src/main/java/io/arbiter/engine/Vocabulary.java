package io.arbiter.engine;

import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The attribute vocabulary: every attribute name a front end may set and an expression may read,
 * with its type. One vocabulary serves every front end (Mixer's names); an expression that names
 * anything else fails to compile.
 */
public final class Vocabulary {
  private static final Map<String, AttributeType> ATTRIBUTES;

  /** Attribute i's name and type, in documentation order; {@link #index} inverts NAMES. */
  static final String[] NAMES;
  static final AttributeType[] TYPES;
  private static final Map<String, Integer> INDEX;

  static {
    Map<String, AttributeType> m = new LinkedHashMap<>();
    m.put("source.ip", AttributeType.STRING);
    m.put("source.port", AttributeType.INT);
    m.put("source.principal", AttributeType.STRING);
    m.put("source.labels", AttributeType.STRING_MAP);
    m.put("destination.ip", AttributeType.STRING);
    m.put("destination.port", AttributeType.INT);
    m.put("destination.principal", AttributeType.STRING);
    m.put("destination.labels", AttributeType.STRING_MAP);
    m.put("destination.service.host", AttributeType.STRING);
    m.put("request.headers", AttributeType.STRING_MAP);
    m.put("request.id", AttributeType.STRING);
    m.put("request.method", AttributeType.STRING);
    m.put("request.path", AttributeType.STRING);
    m.put("request.host", AttributeType.STRING);
    m.put("request.scheme", AttributeType.STRING);
    m.put("request.protocol", AttributeType.STRING);
    m.put("request.query_params", AttributeType.STRING_MAP);
    m.put("request.size", AttributeType.INT);
    m.put("request.time", AttributeType.TIMESTAMP);
    m.put("request.useragent", AttributeType.STRING);
    m.put("request.body", AttributeType.STRING);
    m.put("request.auth.principal", AttributeType.STRING);
    m.put("request.auth.claims", AttributeType.STRING_MAP);
    m.put("response.code", AttributeType.INT);
    m.put("response.size", AttributeType.INT);
    m.put("response.duration", AttributeType.DURATION);
    m.put("response.headers", AttributeType.STRING_MAP);
    m.put("connection.mtls", AttributeType.BOOL);
    m.put("connection.requested_server_name", AttributeType.STRING);
    m.put("connection.peer_certificate", AttributeType.STRING);
    m.put("context.protocol", AttributeType.STRING);
    m.put("context.reporter.kind", AttributeType.STRING);
    m.put("context.extensions", AttributeType.STRING_MAP);
    m.put("context.metadata", AttributeType.DYN_MAP);
    m.put("context.route_metadata", AttributeType.DYN_MAP);
    m.put("context.reporter.name", AttributeType.STRING);
    m.put("context.reporter.node", AttributeType.STRING);
    m.put("context.reporter.cluster", AttributeType.STRING);
    m.put("route.name", AttributeType.STRING);
    m.put("upstream.cluster", AttributeType.STRING);
    m.put("upstream.address", AttributeType.STRING);
    m.put("response.flags", AttributeType.STRING);
    m.put("response.grpc_status", AttributeType.INT);
    m.put("check.cache_hit", AttributeType.BOOL);
    m.put("connection.received_bytes", AttributeType.INT);
    m.put("connection.sent_bytes", AttributeType.INT);
    m.put("ratelimit.domain", AttributeType.STRING);
    m.put("ratelimit.descriptor", AttributeType.STRING_MAP);
    m.put("ratelimit.hits_addend", AttributeType.INT);
    ATTRIBUTES = Collections.unmodifiableMap(m);
    NAMES = m.keySet().toArray(new String[0]);
    TYPES = m.values().toArray(new AttributeType[0]);
    INDEX = new HashMap<>(NAMES.length * 2);
    for (int i = 0; i < NAMES.length; i++) {
      INDEX.put(NAMES[i], i);
    }
  }


  private Vocabulary() {}

  /** Every attribute, in documentation order. */
  public static Map<String, AttributeType> attributes() {
    return ATTRIBUTES;
  }

  public static Optional<AttributeType> typeOf(String name) {
    return Optional.ofNullable(ATTRIBUTES.get(name));
  }

  /** The attribute's position in {@link #NAMES}, or -1: where a bag keeps its value. */
  static int index(String name) {
    Integer i = INDEX.get(name);
    return i == null ? -1 : i;
  }
}
