package io.arbiter.accesslog;

import io.arbiter.frontend.QueryStrings;
import io.arbiter.frontend.Structs;
import io.arbiter.frontend.Texts;
import io.arbiter.engine.AttributeBag;
import io.arbiter.engine.AttributeType;
import io.arbiter.engine.Vocabulary;
import io.arbiter.engine.spi.Durations;
import io.grpc.Status;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.YAMLException;

/**
 * How key/value pairs an operator chose become attributes of the vocabulary: the attributes (and a
 * key/value body) of the log records Envoy's OpenTelemetry access logger sends, their resource
 * attributes, and the {@code custom_tags} of Envoy's gRPC access loggers. Envoy sends whatever
 * keys its config names, with values made by command operators ({@code %RESPONSE_CODE%}), so the
 * keys are a convention between that config and this mapping.
 *
 * <h2>Keys</h2>
 *
 * <ul>
 *   <li>Every vocabulary name is a key for itself ({@code request.path}, {@code
 *       context.reporter.kind}, …), as are the two address targets below.
 *   <li>The {@linkplain #defaults() defaults} add conventional keys: Istio's access-log names
 *       ({@code method}, {@code path}, {@code response_code}, {@code upstream_host}, …), the
 *       OpenTelemetry semantic conventions ({@code http.request.method}, {@code url.path}, {@code
 *       http.response.status_code}, {@code user_agent.original}, …) and Envoy's resource labels
 *       ({@code node_name}, {@code cluster_name}, {@code log_name}). {@link #defaultTable()} lists
 *       them.
 *   <li>A key starting with {@code http.request.header.} or {@code request.headers.} is one
 *       request header (the rest of the key, lowercased) in {@code request.headers}; likewise
 *       {@code http.response.header.}/{@code response.headers.} for {@code response.headers}.
 *   <li>Any other key is ignored.
 * </ul>
 *
 * <h2>Targets and values</h2>
 *
 * A key maps to one or more targets: a vocabulary attribute, {@code source.address} or {@code
 * destination.address} (an address as Envoy prints it, {@code 10.0.0.1:8080}, {@code
 * [::1]:8080} or an IP alone, split into {@code .ip} and {@code .port}), or {@code
 * request.headers.NAME}/{@code response.headers.NAME} (one header). Values are converted to the
 * target's type: Envoy's placeholder {@code -} and the empty string mean absent; an INT takes a
 * number or decimal text; a BOOL {@code true}/{@code false}; a DURATION a number of milliseconds
 * (Envoy's {@code %DURATION%}) or text with a unit ({@code 1.5s}, {@code 250ms}); a TIMESTAMP
 * ISO-8601 text ({@code %START_TIME%}) or seconds since the epoch; a map a key/value list.
 * {@code request.path} keeps the part before {@code ?} and puts the query into {@code
 * request.query_params} (text given to {@code request.query_params} is parsed as a query string);
 * {@code response.grpc_status} also takes a code's name in any of Envoy's forms ({@code NotFound},
 * {@code NOT_FOUND}). A value that does not convert leaves its attribute absent and is reported by
 * {@link Collector#invalid()}.
 *
 * <p>When several keys give one attribute, the first value met wins (a log record's own
 * attributes come before its body, which comes before its resource's attributes).
 *
 * <p>Immutable and thread-safe.
 */
public final class AttributeMapping {
  /** Target: an address split into {@code source.ip} and {@code source.port}. */
  public static final String SOURCE_ADDRESS = "source.address";

  /** Target: an address split into {@code destination.ip} and {@code destination.port}. */
  public static final String DESTINATION_ADDRESS = "destination.address";

  private static final String REQUEST_HEADERS = "request.headers";
  private static final String RESPONSE_HEADERS = "response.headers";
  /** Key prefixes that name one header, and the map the header goes to. */
  private static final String[][] HEADER_KEY_PREFIXES = {
    {"http.request.header.", REQUEST_HEADERS},
    {"request.headers.", REQUEST_HEADERS},
    {"http.response.header.", RESPONSE_HEADERS},
    {"response.headers.", RESPONSE_HEADERS},
  };

  private static final Map<String, List<String>> DEFAULT_TABLE = defaultTableSpec();
  private static final AttributeMapping DEFAULTS = build(DEFAULT_TABLE, Map.of());

  /** Where a value goes. */
  private sealed interface Target permits Attr, Address, Header {}

  private record Attr(String name, AttributeType type) implements Target {}

  private record Address(String ip, String port) implements Target {}

  private record Header(String map, String header) implements Target {}

  private final Map<String, List<Target>> keys;
  private final Map<String, List<String>> table;

  private AttributeMapping(Map<String, List<Target>> keys, Map<String, List<String>> table) {
    this.keys = keys;
    this.table = table;
  }

  /** The default mapping (see the class comment and {@link #defaultTable()}). */
  public static AttributeMapping defaults() {
    return DEFAULTS;
  }

  /**
   * The conventional keys of the defaults and their targets, in documentation order (vocabulary
   * names, which map to themselves, are not listed).
   */
  public static Map<String, List<String>> defaultTable() {
    return DEFAULT_TABLE;
  }

  /**
   * The defaults with {@code overrides} applied: each key maps to the given target (a String) or
   * targets (a list of Strings) instead of its default; a null value or an empty list removes a
   * default key.
   *
   * @throws IllegalArgumentException naming every bad key and target at once
   */
  public static AttributeMapping withOverrides(Map<String, ?> overrides) {
    List<String> errors = new ArrayList<>();
    Map<String, List<String>> parsed = new LinkedHashMap<>();
    for (Map.Entry<String, ?> e : overrides.entrySet()) {
      String key = e.getKey();
      Object v = e.getValue();
      if (key == null || key.isBlank()) {
        errors.add("an empty key");
        continue;
      }
      List<String> targets = new ArrayList<>();
      if (v instanceof String s) {
        targets.add(s);
      } else if (v instanceof List<?> list) {
        for (Object o : list) {
          if (o instanceof String s) {
            targets.add(s);
          } else {
            errors.add("'" + key + "': a target must be a string, not " + o);
          }
        }
      } else if (v != null) {
        errors.add("'" + key + "': the target must be an attribute name or a list of them, not " + v);
        continue;
      }
      for (String t : targets) {
        if (target(t) == null) {
          errors.add("'" + key + "': '" + t + "' is not an attribute of the vocabulary, "
              + SOURCE_ADDRESS + ", " + DESTINATION_ADDRESS + ", request.headers.NAME or"
              + " response.headers.NAME");
        }
      }
      parsed.put(key, targets);
    }
    if (!errors.isEmpty()) {
      throw new IllegalArgumentException("invalid attribute mapping: " + String.join("; ", errors));
    }
    return build(DEFAULT_TABLE, parsed);
  }

  /**
   * Reads a YAML file of overrides, a map from key to target or list of targets:
   *
   * <pre>{@code
   * status: response.code
   * client: [source.address]
   * tenant: request.headers.x-tenant
   * method: ~                 # drops a default key
   * }</pre>
   *
   * @throws IOException if the file cannot be read
   * @throws IllegalArgumentException if it is not such a map, naming the file and every problem
   */
  public static AttributeMapping load(Path file) throws IOException {
    String text = Files.readString(file, StandardCharsets.UTF_8);
    Object doc;
    try {
      doc = new Yaml(new SafeConstructor(new LoaderOptions())).load(text);
    } catch (YAMLException e) {
      throw new IllegalArgumentException(file + ": not YAML: " + e.getMessage(), e);
    }
    if (doc == null) {
      return defaults();
    }
    if (!(doc instanceof Map<?, ?> map)) {
      throw new IllegalArgumentException(file + ": must be a map from attribute key to"
          + " vocabulary name, not " + doc.getClass().getSimpleName());
    }
    Map<String, Object> overrides = new LinkedHashMap<>();
    for (Map.Entry<?, ?> e : map.entrySet()) {
      overrides.put(String.valueOf(e.getKey()), e.getValue());
    }
    try {
      return withOverrides(overrides);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
    }
  }

  /** Every key this mapping knows by name and its targets (header prefixes aside). */
  public Map<String, List<String>> table() {
    return table;
  }

  /** Whether {@code key} maps to anything. */
  public boolean knows(String key) {
    return targets(key) != null;
  }

  /** A collector for the values of one entry. Not thread-safe; one per entry. */
  public Collector collector() {
    return new Collector(this);
  }

  private List<Target> targets(String key) {
    List<Target> t = keys.get(key);
    if (t != null) {
      return t.isEmpty() ? null : t;
    }
    for (String[] p : HEADER_KEY_PREFIXES) {
      if (key.length() > p[0].length() && key.startsWith(p[0])) {
        return List.of(new Header(p[1], Texts.lowerAscii(key.substring(p[0].length()))));
      }
    }
    return null;
  }

  private static Target target(String name) {
    if (name.equals(SOURCE_ADDRESS)) {
      return new Address("source.ip", "source.port");
    }
    if (name.equals(DESTINATION_ADDRESS)) {
      return new Address("destination.ip", "destination.port");
    }
    for (String map : List.of(REQUEST_HEADERS, RESPONSE_HEADERS)) {
      if (name.length() > map.length() + 1 && name.startsWith(map + ".")) {
        return new Header(map, Texts.lowerAscii(name.substring(map.length() + 1)));
      }
    }
    AttributeType type = Vocabulary.typeOf(name).orElse(null);
    return type == null ? null : new Attr(name, type);
  }

  private static AttributeMapping build(
      Map<String, List<String>> defaults, Map<String, List<String>> overrides) {
    Map<String, List<String>> table = new LinkedHashMap<>();
    for (String name : Vocabulary.attributes().keySet()) {
      table.put(name, List.of(name));
    }
    table.put(SOURCE_ADDRESS, List.of(SOURCE_ADDRESS));
    table.put(DESTINATION_ADDRESS, List.of(DESTINATION_ADDRESS));
    table.putAll(defaults);
    overrides.forEach((k, v) -> {
      if (v.isEmpty()) {
        table.remove(k);
      } else {
        table.put(k, List.copyOf(v));
      }
    });
    Map<String, List<Target>> keys = new LinkedHashMap<>();
    for (Map.Entry<String, List<String>> e : table.entrySet()) {
      List<Target> targets = new ArrayList<>();
      for (String name : e.getValue()) {
        Target t = target(name);
        if (t == null) {
          throw new IllegalStateException("bad default target " + name);
        }
        targets.add(t);
      }
      keys.put(e.getKey(), List.copyOf(targets));
    }
    // Removed keys stay as empty lists, so that a header prefix does not bring them back.
    overrides.forEach((k, v) -> {
      if (v.isEmpty()) {
        keys.put(k, List.of());
      }
    });
    return new AttributeMapping(
        Collections.unmodifiableMap(keys), Collections.unmodifiableMap(table));
  }

  private static Map<String, List<String>> defaultTableSpec() {
    Map<String, List<String>> m = new LinkedHashMap<>();
    alias(m, "request.method", "method", "http.request.method", "http.method");
    alias(m, "request.path", "path", "url.path", "http.target");
    alias(m, "request.query_params", "url.query");
    alias(m, List.of("request.host", "destination.service.host"),
        "authority", "host", "http.host", "server.address");
    alias(m, "request.scheme", "scheme", "url.scheme", "http.scheme");
    alias(m, "request.protocol", "protocol", "http.flavor");
    alias(m, "request.useragent", "user_agent", "user_agent.original", "http.user_agent");
    alias(m, "request.id", "request_id", "x-request-id", "x_request_id");
    alias(m, "request.size", "bytes_received", "http.request.body.size");
    alias(m, "request.time", "start_time");
    alias(m, "response.code", "response_code", "http.response.status_code", "http.status_code");
    alias(m, "response.size", "bytes_sent", "http.response.body.size");
    alias(m, "response.duration", "duration");
    alias(m, "response.flags", "response_flags");
    alias(m, "response.grpc_status", "grpc_status", "rpc.grpc.status_code");
    alias(m, "route.name", "route_name");
    alias(m, "upstream.cluster", "upstream_cluster");
    alias(m, List.of("upstream.address", DESTINATION_ADDRESS),
        "upstream_host", "upstream_remote_address");
    alias(m, SOURCE_ADDRESS, "downstream_remote_address", "client.address");
    alias(m, "source.port", "client.port");
    alias(m, "source.principal", "downstream_peer_uri_san");
    alias(m, "destination.principal", "downstream_local_uri_san");
    alias(m, "connection.requested_server_name", "requested_server_name");
    alias(m, "request.headers.x-forwarded-for", "x_forwarded_for", "x-forwarded-for");
    alias(m, "request.headers.referer", "referer");
    alias(m, "request.headers.content-type", "content-type", "content_type");
    alias(m, "context.reporter.node", "node_name");
    alias(m, "context.reporter.cluster", "cluster_name");
    alias(m, "context.reporter.name", "log_name");
    return Collections.unmodifiableMap(m);
  }

  private static void alias(Map<String, List<String>> m, String target, String... keys) {
    alias(m, List.of(target), keys);
  }

  private static void alias(Map<String, List<String>> m, List<String> targets, String... keys) {
    for (String k : keys) {
      m.put(k, targets);
    }
  }

  /**
   * Collects the mapped values of one entry, then puts them into a bag. The first value given for
   * an attribute (or header) wins.
   */
  public static final class Collector {
    private final AttributeMapping mapping;
    private final Map<String, Object> values = new LinkedHashMap<>();
    private Map<String, String> requestHeaders;
    private Map<String, String> responseHeaders;
    private List<String> invalid;
    private int known;

    private Collector(AttributeMapping mapping) {
      this.mapping = mapping;
    }

    /**
     * Maps one key/value pair. {@code value} is a String, Long, Double, Boolean, a {@code
     * Map<String, Object>} (a key/value list) or a {@code List<Object>} (an array).
     *
     * @return whether the mapping knows {@code key} (whatever became of the value)
     */
    public boolean add(String key, Object value) {
      List<Target> targets = mapping.targets(key);
      if (targets == null) {
        return false;
      }
      known++;
      if (value == null || isPlaceholder(value)) {
        return true;
      }
      for (Target t : targets) {
        try {
          apply(t, value);
        } catch (IllegalArgumentException e) {
          if (invalid == null) {
            invalid = new ArrayList<>(2);
          }
          invalid.add(name(t));
        }
      }
      return true;
    }

    /** How many of the keys given were known to the mapping. */
    public int known() {
      return known;
    }

    /**
     * The targets whose value did not convert, by name ({@code response.code}; a header's map,
     * {@code request.headers}).
     */
    public List<String> invalid() {
      return invalid == null ? List.of() : invalid;
    }

    /** Whether an attribute got a value. */
    public boolean has(String name) {
      return values.containsKey(name);
    }

    /** The value an attribute got, or null. */
    public Object get(String name) {
      return values.get(name);
    }

    /** A request header's value, or null. */
    public String requestHeader(String lowercaseName) {
      if (requestHeaders != null && requestHeaders.containsKey(lowercaseName)) {
        return requestHeaders.get(lowercaseName);
      }
      return values.get(REQUEST_HEADERS) instanceof Map<?, ?> m
          && m.get(lowercaseName) instanceof String s ? s : null;
    }

    /** Puts every collected value into {@code bag}; headers merge into their maps. */
    public void into(AttributeBag.Builder bag) {
      values.forEach(bag::put);
      putHeaders(bag, REQUEST_HEADERS, requestHeaders);
      putHeaders(bag, RESPONSE_HEADERS, responseHeaders);
    }

    private void putHeaders(AttributeBag.Builder bag, String name, Map<String, String> single) {
      if (single == null) {
        return;
      }
      Object whole = values.get(name);
      if (whole instanceof Map<?, ?> w) {
        Map<String, String> merged = new LinkedHashMap<>(single);
        for (Map.Entry<?, ?> e : w.entrySet()) {
          merged.putIfAbsent((String) e.getKey(), (String) e.getValue());
        }
        bag.put(name, Collections.unmodifiableMap(merged));
      } else {
        bag.put(name, Collections.unmodifiableMap(single));
      }
    }

    private void apply(Target t, Object value) {
      if (t instanceof Header h) {
        Map<String, String> map;
        if (h.map().equals(REQUEST_HEADERS)) {
          map = requestHeaders == null ? (requestHeaders = new LinkedHashMap<>()) : requestHeaders;
        } else {
          map = responseHeaders == null ? (responseHeaders = new LinkedHashMap<>()) : responseHeaders;
        }
        map.putIfAbsent(h.header(), text(value));
      } else if (t instanceof Address a) {
        String[] hostPort = Texts.splitHostPort(text(value));
        if (hostPort == null) {
          return;
        }
        Long port = hostPort[1] == null ? null : parseLong(hostPort[1]);
        values.putIfAbsent(a.ip(), hostPort[0]);
        if (port != null) {
          values.putIfAbsent(a.port(), port);
        }
      } else {
        Attr attr = (Attr) t;
        if (values.containsKey(attr.name())) {
          return;
        }
        switch (attr.name()) {
          case "request.path" -> {
            String target = text(value);
            int end = QueryStrings.pathEnd(target);
            values.put("request.path", target.substring(0, end));
            Map<String, String> query = QueryStrings.parameters(target);
            if (!query.isEmpty()) {
              values.putIfAbsent("request.query_params", query);
            }
          }
          case "request.query_params" -> {
            if (value instanceof String s) {
              Map<String, String> query = QueryStrings.parameters(s.startsWith("?") ? s : "?" + s);
              if (!query.isEmpty()) {
                values.put("request.query_params", query);
              }
            } else {
              values.put("request.query_params", stringMap(value));
            }
          }
          case "response.grpc_status" -> values.put(attr.name(), grpcStatus(value));
          default -> {
            Object v = convert(attr.type(), value);
            if (v != null) {
              values.put(attr.name(), v);
            }
          }
        }
      }
    }

    private static String name(Target t) {
      if (t instanceof Attr a) {
        return a.name();
      } else if (t instanceof Address a) {
        return a.ip().startsWith("source") ? SOURCE_ADDRESS : DESTINATION_ADDRESS;
      }
      return ((Header) t).map(); // not the header's name: the names a record brings are unbounded
    }
  }

  // --- conversions --------------------------------------------------------------------------------

  private static boolean isPlaceholder(Object v) {
    return v instanceof String s && (s.isEmpty() || s.equals("-"));
  }

  /** A value as text: strings as they are, integral numbers without a fraction. */
  static String text(Object v) {
    if (v instanceof String s) {
      return s;
    }
    if (v instanceof Double d && d == Math.rint(d) && !d.isInfinite() && Math.abs(d) < 1e15) {
      return Long.toString(d.longValue());
    }
    if (v instanceof Map<?, ?> || v instanceof List<?>) {
      throw new IllegalArgumentException("not a scalar");
    }
    return String.valueOf(v);
  }

  private static Object convert(AttributeType type, Object v) {
    return switch (type) {
      case STRING -> text(v);
      case INT -> toLong(v);
      case DOUBLE -> v instanceof Number n ? n.doubleValue() : parseDouble(text(v));
      case BOOL -> toBool(v);
      case TIMESTAMP -> toInstant(v);
      case DURATION -> toDuration(v);
      case STRING_MAP -> stringMap(v);
      case DYN_MAP -> dynMap(v);
    };
  }

  private static Long toLong(Object v) {
    if (v instanceof Long l) {
      return l;
    }
    if (v instanceof Double d) {
      if (d != Math.rint(d) || d.isInfinite()) {
        throw new IllegalArgumentException("not an integer");
      }
      return d.longValue();
    }
    if (v instanceof String s) {
      return parseLong(s);
    }
    throw new IllegalArgumentException("not an integer");
  }

  private static Long parseLong(String s) {
    try {
      return Long.parseLong(s.strip());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("not an integer: " + s);
    }
  }

  private static double parseDouble(String s) {
    try {
      return Double.parseDouble(s.strip());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("not a number: " + s);
    }
  }

  private static Boolean toBool(Object v) {
    if (v instanceof Boolean b) {
      return b;
    }
    if (v instanceof String s) {
      if (s.equalsIgnoreCase("true")) {
        return true;
      }
      if (s.equalsIgnoreCase("false")) {
        return false;
      }
    }
    throw new IllegalArgumentException("not a boolean");
  }

  private static Instant toInstant(Object v) {
    if (v instanceof Number n) {
      return epochSeconds(n.doubleValue());
    }
    if (v instanceof String s) {
      String t = s.strip();
      try {
        return Instant.parse(t);
      } catch (DateTimeParseException e) {
        try {
          return OffsetDateTime.parse(t).toInstant();
        } catch (DateTimeParseException e2) {
          return epochSeconds(parseDouble(t));
        }
      }
    }
    throw new IllegalArgumentException("not a timestamp");
  }

  private static Instant epochSeconds(double seconds) {
    long whole = (long) Math.floor(seconds);
    long nanos = Math.round((seconds - whole) * 1e9);
    return Instant.ofEpochSecond(whole, nanos);
  }

  /** A number is milliseconds, as Envoy's {@code %DURATION%}; text may carry a unit. */
  private static Duration toDuration(Object v) {
    if (v instanceof Number n) {
      return millis(n.doubleValue());
    }
    if (v instanceof String s) {
      String t = s.strip();
      if (!t.isEmpty() && (Character.isDigit(t.charAt(t.length() - 1)))) {
        return millis(parseDouble(t));
      }
      return Durations.parse(t);
    }
    throw new IllegalArgumentException("not a duration");
  }

  private static Duration millis(double ms) {
    if (ms < 0 || Double.isNaN(ms) || Double.isInfinite(ms)) {
      throw new IllegalArgumentException("not a duration");
    }
    return Duration.ofNanos(Math.round(ms * 1_000_000d));
  }

  private static Map<String, String> stringMap(Object v) {
    if (!(v instanceof Map<?, ?> m)) {
      throw new IllegalArgumentException("not a key/value list");
    }
    Map<String, String> out = Structs.newMap(m.size());
    for (Map.Entry<?, ?> e : m.entrySet()) {
      if (e.getValue() != null) {
        out.put(Texts.lowerAscii((String) e.getKey()), text(e.getValue()));
      }
    }
    return Collections.unmodifiableMap(out);
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> dynMap(Object v) {
    if (!(v instanceof Map<?, ?>)) {
      throw new IllegalArgumentException("not a key/value list");
    }
    return (Map<String, Object>) jsonLike(v);
  }

  /** A DYN_MAP value holds maps, lists, strings, doubles and booleans: integers become doubles. */
  private static Object jsonLike(Object v) {
    if (v instanceof Long l) {
      return l.doubleValue();
    }
    if (v instanceof Map<?, ?> m) {
      Map<String, Object> out = Structs.newMap(m.size());
      m.forEach((k, x) -> out.put((String) k, jsonLike(x)));
      return Collections.unmodifiableMap(out);
    }
    if (v instanceof List<?> l) {
      List<Object> out = new ArrayList<>(l.size());
      l.forEach(x -> out.add(jsonLike(x)));
      return Collections.unmodifiableList(out);
    }
    return v;
  }

  /** A gRPC status code from its number or its name in Envoy's forms (OK, NotFound, NOT_FOUND). */
  static Long grpcStatus(Object v) {
    if (v instanceof Number) {
      return toLong(v);
    }
    String s = text(v).strip();
    if (!s.isEmpty() && Character.isDigit(s.charAt(0))) {
      return parseLong(s);
    }
    String key = s.replace("_", "").toLowerCase(Locale.ROOT);
    for (Status.Code c : Status.Code.values()) {
      if (c.name().replace("_", "").toLowerCase(Locale.ROOT).equals(key)) {
        return (long) c.value();
      }
    }
    // Envoy's CAMEL_STRING form spells two codes its own way.
    if (key.equals("canceled")) {
      return (long) Status.Code.CANCELLED.value();
    }
    throw new IllegalArgumentException("not a gRPC status: " + s);
  }
}
