package io.arbiter.envoyconfigs;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.DynamicMessage;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.util.Durations;
import io.arbiter.engine.config.Settings;
import io.arbiter.envoyconfigs.SnippetValidator.Parsed;
import io.arbiter.server.ArbiterServer;
import io.envoyproxy.envoy.config.bootstrap.v3.Bootstrap;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.Address;
import io.envoyproxy.envoy.config.core.v3.ApiVersion;
import io.envoyproxy.envoy.config.core.v3.GrpcService;
import io.envoyproxy.envoy.config.core.v3.HealthCheck;
import io.envoyproxy.envoy.config.endpoint.v3.LbEndpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LocalityLbEndpoints;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.ratelimit.v3.RateLimitServiceConfig;
import io.envoyproxy.envoy.extensions.access_loggers.grpc.v3.CommonGrpcAccessLogConfig;
import io.envoyproxy.envoy.extensions.filters.http.ext_authz.v3.ExtAuthz;
import io.envoyproxy.envoy.extensions.filters.http.ext_authz.v3.ExtAuthzPerRoute;
import io.envoyproxy.envoy.extensions.filters.http.ext_authz.v3.HttpService;
import io.envoyproxy.envoy.extensions.filters.http.ratelimit.v3.RateLimit;
import io.envoyproxy.envoy.extensions.filters.http.router.v3.Router;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions;
import io.envoyproxy.envoy.service.auth.v3.AuthorizationGrpc;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Checks that a snippet wires Envoy to Arbiter the way Arbiter serves: what Envoy's schema
 * cannot say. Every ext_authz filter uses the v3 transport and fails closed; a gRPC-mode filter
 * names (with {@code envoy_grpc}) a cluster that exists, points at Arbiter's gRPC port and speaks
 * HTTP/2, and whose health checks ask grpc.health.v1 for a service Arbiter reports; an
 * HTTP-mode filter names a cluster on Arbiter's HTTP-mode port with path prefix {@code /check};
 * timeouts leave Arbiter's handler deadline room; the router is the last HTTP filter and
 * ext_authz comes before it; per-route ext_authz settings are keyed by an ext_authz filter's
 * name; a rate-limit filter uses the v3 transport, fails closed, sets a timeout above the handler
 * deadline, sits before the router and calls Arbiter's gRPC port like ext_authz; and a bootstrap
 * keeps its admin API on loopback, off Arbiter's ports.
 *
 * <p>Access loggers (gRPC HTTP and TCP, OpenTelemetry): their {@code common_config} uses the v3
 * transport and names, with {@code envoy_grpc}, a cluster on Arbiter's gRPC port that speaks
 * HTTP/2.
 *
 * <p>Where the clusters come from: a bootstrap's own {@code static_resources.clusters}; for
 * a filter snippet, the module's cluster snippets (which an operator copies alongside).
 */
final class ArbiterWiring {

  static final int GRPC_PORT = ArbiterServer.Options.defaults().grpcPort();
  static final int ADMIN_PORT = ArbiterServer.Options.defaults().adminPort();
  // Arbiter's default HTTP-mode check port
  static final int HTTP_CHECK_PORT = 9192;
  static final String HTTP_CHECK_PATH_PREFIX = "/check";
  static final Duration HANDLER_TIMEOUT = Settings.DEFAULT.handlerTimeout();
  static final int MAX_BODY_BYTES = Settings.DEFAULT.maxBodyBytes();
  /** The gRPC health service names Arbiter reports ("" is the server as a whole). */
  static final Set<String> HEALTH_SERVICES = Set.of("", AuthorizationGrpc.SERVICE_NAME);

  private static final String HTTP_PROTOCOL_OPTIONS =
      HttpProtocolOptions.getDescriptor().getFullName();
  private static final Set<String> LOOPBACK = Set.of("127.0.0.1", "::1", "localhost");

  private final EnvoySchema schema;
  private final Map<String, Cluster> moduleClusters;
  private final Map<String, ExtAuthz> moduleHttpFilters;

  /**
   * @param module every snippet of the module: its Cluster snippets and ext_authz HTTP filter
   *     snippets are what filter and route snippets are checked against
   */
  ArbiterWiring(EnvoySchema schema, Collection<Parsed> module) {
    this.schema = schema;
    this.moduleClusters = new LinkedHashMap<>();
    this.moduleHttpFilters = new LinkedHashMap<>();
    for (Parsed p : module) {
      if (p.messageType().equals(Cluster.getDescriptor().getFullName())) {
        Cluster c = typed(p.message(), Cluster.getDefaultInstance());
        moduleClusters.put(c.getName(), c);
      } else if (p.messageType().equals(HttpFilter.getDescriptor().getFullName())) {
        HttpFilter f = typed(p.message(), HttpFilter.getDefaultInstance());
        if (f.getTypedConfig().is(ExtAuthz.class)) {
          // Both the gRPC- and the HTTP-mode snippet use the canonical name; a route snippet's
          // settings are meant for the gRPC one (context_extensions reach only gRPC mode).
          ExtAuthz x = unpack(f.getTypedConfig(), ExtAuthz.getDefaultInstance());
          moduleHttpFilters.merge(f.getName(), x, (old, now) -> old.hasGrpcService() ? old : now);
        }
      }
    }
  }

  /** Every wiring problem of one snippet, each starting with its path. */
  List<String> check(Parsed snippet) {
    List<String> problems = new ArrayList<>();
    Message root = snippet.message();
    Map<String, Cluster> clusters;
    String clusterScope;
    if (snippet.messageType().equals(Bootstrap.getDescriptor().getFullName())) {
      Bootstrap b = typed(root, Bootstrap.getDefaultInstance());
      clusters = new LinkedHashMap<>();
      for (Cluster c : b.getStaticResources().getClustersList()) {
        if (clusters.put(c.getName(), c) != null) {
          problems.add("static_resources.clusters: two clusters are named '" + c.getName() + "'");
        }
      }
      clusterScope = "this bootstrap's static_resources.clusters";
      checkBootstrap(b, problems);
    } else {
      clusters = moduleClusters;
      clusterScope = "the module's cluster snippets " + moduleClusters.keySet();
    }

    for (At<ExtAuthz> a : find(root, ExtAuthz.getDefaultInstance())) {
      ExtAuthz x = a.value();
      checkCommon(a.path(), x.getTransportApiVersion(), x.getFailureModeAllow(), problems);
      if (x.hasWithRequestBody() && x.getWithRequestBody().getMaxRequestBytes() > MAX_BODY_BYTES) {
        problems.add(a.path() + ".with_request_body.max_request_bytes: above Arbiter's default"
            + " settings.maxBodyBytes (" + MAX_BODY_BYTES + "): such checks would be denied");
      }
      switch (x.getServicesCase()) {
        case GRPC_SERVICE -> checkGrpc(a.path() + ".grpc_service", x.getGrpcService(), clusters,
            clusterScope, problems);
        case HTTP_SERVICE -> checkHttp(a.path() + ".http_service", x.getHttpService(), clusters,
            clusterScope, problems);
        default -> problems.add(a.path() + ": names no grpc_service or http_service");
      }
    }
    for (At<io.envoyproxy.envoy.extensions.filters.network.ext_authz.v3.ExtAuthz> a : find(root,
        io.envoyproxy.envoy.extensions.filters.network.ext_authz.v3.ExtAuthz.getDefaultInstance())) {
      var x = a.value();
      checkCommon(a.path(), x.getTransportApiVersion(), x.getFailureModeAllow(), problems);
      if (!x.hasGrpcService()) {
        problems.add(a.path() + ": names no grpc_service");
      } else {
        checkGrpc(a.path() + ".grpc_service", x.getGrpcService(), clusters, clusterScope, problems);
      }
    }
    for (At<RateLimit> a : find(root, RateLimit.getDefaultInstance())) {
      checkRateLimit(a.path(), a.value(), clusters, clusterScope, problems);
    }
    for (At<CommonGrpcAccessLogConfig> a :
        find(root, CommonGrpcAccessLogConfig.getDefaultInstance())) {
      checkAccessLog(a.path(), a.value(), clusters, clusterScope, problems);
    }
    List<At<HttpConnectionManager>> hcms = find(root, HttpConnectionManager.getDefaultInstance());
    for (At<HttpConnectionManager> a : hcms) {
      Map<String, ExtAuthz> extAuthz = checkFilterOrder(a.path(), a.value(), problems);
      checkPerRoute(a.path(), a.value(), extAuthz, problems);
    }
    if (hcms.isEmpty()) {
      checkPerRoute("", root, moduleHttpFilters, problems); // a route or virtual host snippet
    }
    for (At<Cluster> a : find(root, Cluster.getDefaultInstance())) {
      for (Map.Entry<String, Any> e : a.value().getTypedExtensionProtocolOptionsMap().entrySet()) {
        String type = e.getValue().getTypeUrl().substring(e.getValue().getTypeUrl().lastIndexOf('/') + 1);
        if (!e.getKey().equals(type)) {
          problems.add(a.path() + ".typed_extension_protocol_options[" + e.getKey() + "]: the key"
              + " must be the options' type name, " + type + ", or Envoy ignores them");
        }
      }
      Cluster c = a.value();
      if (c.hasLoadAssignment() && !c.getLoadAssignment().getClusterName().equals(c.getName())) {
        problems.add(a.path() + ".load_assignment.cluster_name: '"
            + c.getLoadAssignment().getClusterName() + "' is not the cluster's name '"
            + c.getName() + "'");
      }
    }
    return problems;
  }

  // --- the pieces -------------------------------------------------------------------------------

  private static void checkCommon(String path, ApiVersion version, boolean failOpen,
      List<String> problems) {
    if (version != ApiVersion.V3) {
      problems.add(path + ".transport_api_version: must be V3 (Arbiter serves"
          + " envoy.service.auth.v3 only), is " + version);
    }
    if (failOpen) {
      problems.add(path + ".failure_mode_allow: snippets we ship fail closed (false); the"
          + " comment tells operators how to change it");
    }
  }

  private void checkGrpc(String path, GrpcService gs, Map<String, Cluster> clusters, String scope,
      List<String> problems) {
    checkTimeout(path + ".timeout", gs.hasTimeout() ? gs.getTimeout() : null, problems);
    checkGrpcCluster(path, gs, clusters, scope, problems);
  }

  /**
   * The rate-limit filter: v3 transport, fails closed, its own {@code timeout} (the one Envoy
   * uses for the call; 20ms by default) above Arbiter's handler deadline, and a gRPC cluster like
   * ext_authz's.
   */
  private void checkRateLimit(String path, RateLimit r, Map<String, Cluster> clusters,
      String scope, List<String> problems) {
    RateLimitServiceConfig rls = r.getRateLimitService();
    if (rls.getTransportApiVersion() != ApiVersion.V3) {
      problems.add(path + ".rate_limit_service.transport_api_version: must be V3 (Arbiter serves"
          + " envoy.service.ratelimit.v3 only), is " + rls.getTransportApiVersion());
    }
    if (!r.getFailureModeDeny()) {
      problems.add(path + ".failure_mode_deny: snippets we ship fail closed (true); the comment"
          + " tells operators how to change it");
    }
    if (!r.hasTimeout()) {
      problems.add(path + ".timeout: set it explicitly (Envoy's default is 20ms), above Arbiter's"
          + " handler timeout " + HANDLER_TIMEOUT.toMillis() + "ms");
    } else {
      checkTimeout(path + ".timeout", r.getTimeout(), problems);
    }
    if (!rls.hasGrpcService()) {
      problems.add(path + ".rate_limit_service: names no grpc_service");
      return;
    }
    checkGrpcCluster(path + ".rate_limit_service.grpc_service", rls.getGrpcService(), clusters,
        scope, problems);
  }

  /** An access logger's common config: v3, and Arbiter's gRPC cluster (no timeout: a stream). */
  private void checkAccessLog(String path, CommonGrpcAccessLogConfig c,
      Map<String, Cluster> clusters, String scope, List<String> problems) {
    if (c.getTransportApiVersion() != ApiVersion.V3) {
      problems.add(path + ".transport_api_version: must be V3 (Arbiter serves"
          + " envoy.service.accesslog.v3 only), is " + c.getTransportApiVersion());
    }
    if (!c.hasGrpcService()) {
      problems.add(path + ": names no grpc_service");
      return;
    }
    checkGrpcCluster(path + ".grpc_service", c.getGrpcService(), clusters, scope, problems);
  }

  private void checkGrpcCluster(String path, GrpcService gs, Map<String, Cluster> clusters,
      String scope, List<String> problems) {
    if (!gs.hasEnvoyGrpc()) {
      problems.add(path + ": use envoy_grpc (a cluster: HTTP/2, health checks and circuit"
          + " breakers come from it), not google_grpc");
      return;
    }
    String name = gs.getEnvoyGrpc().getClusterName();
    Cluster c = clusters.get(name);
    if (c == null) {
      problems.add(path + ".envoy_grpc.cluster_name: no cluster '" + name + "' in " + scope);
      return;
    }
    String cp = "cluster '" + name + "'";
    checkPorts(cp, c, GRPC_PORT, "Arbiter's gRPC port", problems);
    if (!http2(c)) {
      problems.add(cp + ": gRPC needs HTTP/2: set typed_extension_protocol_options."
          + HTTP_PROTOCOL_OPTIONS + ".explicit_http_config.http2_protocol_options");
    }
    for (int i = 0; i < c.getHealthChecksCount(); i++) {
      HealthCheck hc = c.getHealthChecks(i);
      if (!hc.hasGrpcHealthCheck()) {
        problems.add(cp + ".health_checks[" + i + "]: Arbiter's gRPC port answers"
            + " grpc.health.v1 only: use grpc_health_check");
      } else if (!HEALTH_SERVICES.contains(hc.getGrpcHealthCheck().getServiceName())) {
        problems.add(cp + ".health_checks[" + i + "].grpc_health_check.service_name: Arbiter"
            + " reports only " + HEALTH_SERVICES + ", not '"
            + hc.getGrpcHealthCheck().getServiceName() + "' (it would answer NOT_FOUND: unhealthy)");
      }
    }
  }

  private void checkHttp(String path, HttpService hs, Map<String, Cluster> clusters, String scope,
      List<String> problems) {
    if (!hs.getPathPrefix().equals(HTTP_CHECK_PATH_PREFIX)) {
      problems.add(path + ".path_prefix: Arbiter's HTTP-mode endpoint is under '"
          + HTTP_CHECK_PATH_PREFIX + "', not '" + hs.getPathPrefix() + "'");
    }
    checkTimeout(path + ".server_uri.timeout",
        hs.getServerUri().hasTimeout() ? hs.getServerUri().getTimeout() : null, problems);
    try {
      int uriPort = URI.create(hs.getServerUri().getUri()).getPort();
      if (uriPort != -1 && uriPort != HTTP_CHECK_PORT) {
        problems.add(path + ".server_uri.uri: port " + uriPort + " is not Arbiter's HTTP-mode"
            + " port " + HTTP_CHECK_PORT);
      }
    } catch (IllegalArgumentException e) {
      problems.add(path + ".server_uri.uri: not a URI: " + e.getMessage());
    }
    String name = hs.getServerUri().getCluster();
    Cluster c = clusters.get(name);
    if (c == null) {
      problems.add(path + ".server_uri.cluster: no cluster '" + name + "' in " + scope);
      return;
    }
    String cp = "cluster '" + name + "'";
    checkPorts(cp, c, HTTP_CHECK_PORT, "Arbiter's HTTP-mode port", problems);
    if (http2(c)) {
      problems.add(cp + ": Arbiter's HTTP-mode port speaks HTTP/1.1; drop http2_protocol_options");
    }
  }

  private static void checkTimeout(String path, com.google.protobuf.Duration t,
      List<String> problems) {
    if (t == null) {
      problems.add(path + ": set it explicitly (Envoy's default is 200ms), above Arbiter's"
          + " handler timeout " + HANDLER_TIMEOUT.toMillis() + "ms");
      return;
    }
    Duration d = Duration.ofSeconds(t.getSeconds(), t.getNanos());
    if (d.compareTo(HANDLER_TIMEOUT) <= 0) {
      problems.add(path + ": " + Durations.toString(t) + " is not above Arbiter's handler timeout ("
          + HANDLER_TIMEOUT.toMillis() + "ms): Envoy would give up before Arbiter answers");
    }
  }

  private static void checkPorts(String cp, Cluster c, int port, String what,
      List<String> problems) {
    int n = 0;
    for (LocalityLbEndpoints l : c.getLoadAssignment().getEndpointsList()) {
      for (LbEndpoint e : l.getLbEndpointsList()) {
        n++;
        Address a = e.getEndpoint().getAddress();
        if (!a.hasSocketAddress()) {
          problems.add(cp + ": an endpoint that is not a socket address: " + a);
        } else if (a.getSocketAddress().getPortValue() != port) {
          problems.add(cp + ": endpoint " + a.getSocketAddress().getAddress() + ":"
              + a.getSocketAddress().getPortValue() + " is not on " + what + " " + port);
        }
      }
    }
    if (n == 0) {
      problems.add(cp + ": has no endpoints in load_assignment");
    }
  }

  private static boolean http2(Cluster c) {
    Any options = c.getTypedExtensionProtocolOptionsMap().get(HTTP_PROTOCOL_OPTIONS);
    if (options == null || !options.is(HttpProtocolOptions.class)) {
      return false;
    }
    HttpProtocolOptions o = unpack(options, HttpProtocolOptions.getDefaultInstance());
    return o.hasExplicitHttpConfig() && o.getExplicitHttpConfig().hasHttp2ProtocolOptions();
  }

  /** Router last, every ext_authz before it; returns the ext_authz filters by name. */
  private static Map<String, ExtAuthz> checkFilterOrder(String path, HttpConnectionManager hcm,
      List<String> problems) {
    Map<String, ExtAuthz> extAuthz = new LinkedHashMap<>();
    List<HttpFilter> filters = hcm.getHttpFiltersList();
    int router = -1;
    for (int i = 0; i < filters.size(); i++) {
      HttpFilter f = filters.get(i);
      if (f.getTypedConfig().is(Router.class)) {
        router = i;
      } else if (f.getTypedConfig().is(RateLimit.class) && router >= 0) {
        problems.add(path + ".http_filters[" + i + "]: the rate-limit filter after the router"
            + " never runs; put it before envoy.filters.http.router");
      } else if (f.getTypedConfig().is(ExtAuthz.class)) {
        if (router >= 0) {
          problems.add(path + ".http_filters[" + i + "]: ext_authz after the router never runs;"
              + " put it before envoy.filters.http.router");
        }
        if (extAuthz.put(f.getName(), unpack(f.getTypedConfig(), ExtAuthz.getDefaultInstance())) != null) {
          problems.add(path + ".http_filters[" + i + "]: two filters are named '" + f.getName() + "'");
        }
      }
    }
    if (router != filters.size() - 1) {
      problems.add(path + ".http_filters: the last filter must be the router"
          + " (envoy.extensions.filters.http.router.v3.Router)");
    }
    return extAuthz;
  }

  /** Per-route ExtAuthzPerRoute settings must be keyed by an ext_authz filter's name. */
  private void checkPerRoute(String base, Message root, Map<String, ExtAuthz> extAuthz,
      List<String> problems) {
    walk(root, base, (path, m) -> {
      FieldDescriptor f = m.getDescriptorForType().findFieldByName("typed_per_filter_config");
      if (f == null || !f.isMapField()) {
        return;
      }
      for (Object o : SchemaRules.values(m, f)) {
        Message entry = (Message) o;
        Descriptor ed = entry.getDescriptorForType();
        String key = (String) entry.getField(ed.findFieldByName("key"));
        Message any = (Message) entry.getField(ed.findFieldByName("value"));
        String url = (String) any.getField(any.getDescriptorForType().findFieldByName("type_url"));
        boolean perRoute = url.endsWith("/" + ExtAuthzPerRoute.getDescriptor().getFullName());
        String p = SnippetValidator.join(path, "typed_per_filter_config[" + key + "]");
        ExtAuthz filter = extAuthz.get(key);
        if (perRoute && filter == null) {
          problems.add(p + ": no ext_authz HTTP filter is named '" + key + "' (there are "
              + extAuthz.keySet() + "): Envoy would not apply these settings");
        } else if (!perRoute && filter != null) {
          problems.add(p + ": settings for ext_authz filter '" + key + "' must be "
              + ExtAuthzPerRoute.getDescriptor().getFullName());
        } else if (perRoute) {
          ByteString bytes = (ByteString) any.getField(any.getDescriptorForType().findFieldByName("value"));
          ExtAuthzPerRoute pr = parse(bytes, ExtAuthzPerRoute.getDefaultInstance());
          if (pr.getCheckSettings().getContextExtensionsCount() > 0 && !filter.hasGrpcService()) {
            problems.add(p + ".check_settings.context_extensions: only a gRPC-mode filter sends"
                + " them; '" + key + "' is in HTTP mode");
          }
        }
      }
    });
  }

  private static void checkBootstrap(Bootstrap b, List<String> problems) {
    Set<Integer> arbiterPorts = Set.of(GRPC_PORT, ADMIN_PORT, HTTP_CHECK_PORT);
    if (!b.hasAdmin() || !b.getAdmin().getAddress().hasSocketAddress()) {
      problems.add("admin: give the admin API an address on loopback (or remove the section)");
    } else {
      var sa = b.getAdmin().getAddress().getSocketAddress();
      if (!LOOPBACK.contains(sa.getAddress())) {
        problems.add("admin.address: the admin API can stop Envoy; bind it to loopback, not "
            + sa.getAddress());
      }
      if (arbiterPorts.contains(sa.getPortValue())) {
        problems.add("admin.address: port " + sa.getPortValue() + " is one of Arbiter's default"
            + " ports " + arbiterPorts + " (a sidecar shares the host)");
      }
    }
    Set<Integer> seen = new HashSet<>();
    for (Listener l : b.getStaticResources().getListenersList()) {
      int port = l.getAddress().getSocketAddress().getPortValue();
      if (arbiterPorts.contains(port)) {
        problems.add("listener '" + l.getName() + "': port " + port + " is one of Arbiter's default"
            + " ports " + arbiterPorts);
      }
      if (!seen.add(port) || (b.hasAdmin()
          && b.getAdmin().getAddress().getSocketAddress().getPortValue() == port)) {
        problems.add("listener '" + l.getName() + "': port " + port + " is used twice");
      }
    }
  }

  // --- finding things in a config tree, through every Any ----------------------------------------

  record At<T>(String path, T value) {}

  interface Visitor {
    void visit(String path, Message m);
  }

  /** Every message of {@code prototype}'s type in the tree, unpacking Anys, as that type. */
  <T extends Message> List<At<T>> find(Message root, T prototype) {
    String name = prototype.getDescriptorForType().getFullName();
    List<At<T>> out = new ArrayList<>();
    walk(root, "", (path, m) -> {
      if (m.getDescriptorForType().getFullName().equals(name)) {
        out.add(new At<>(path.isEmpty() ? "(" + shortName(name) + ")" : path, typed(m, prototype)));
      }
    });
    return out;
  }

  void walk(Message m, String path, Visitor v) {
    v.visit(path, m);
    Descriptor d = m.getDescriptorForType();
    if (d.getFullName().equals("google.protobuf.Any")) {
      String url = (String) m.getField(d.findFieldByName("type_url"));
      ByteString bytes = (ByteString) m.getField(d.findFieldByName("value"));
      Descriptor inner = schema.resolveTypeUrl(url);
      if (inner != null) {
        try {
          walk(DynamicMessage.parseFrom(inner, bytes), path, v);
        } catch (InvalidProtocolBufferException e) {
          // reported by SchemaRules
        }
      }
      return;
    }
    for (Map.Entry<FieldDescriptor, Object> e : m.getAllFields().entrySet()) {
      FieldDescriptor f = e.getKey();
      if (f.getJavaType() != FieldDescriptor.JavaType.MESSAGE) {
        continue;
      }
      String p = SnippetValidator.join(path, f.getName());
      if (f.isMapField()) {
        for (Object o : (List<?>) e.getValue()) {
          Message entry = (Message) o;
          Descriptor ed = entry.getDescriptorForType();
          if (entry.getField(ed.findFieldByName("value")) instanceof Message value) {
            walk(value, p + "[" + entry.getField(ed.findFieldByName("key")) + "]", v);
          }
        }
      } else if (f.isRepeated()) {
        List<?> items = (List<?>) e.getValue();
        for (int i = 0; i < items.size(); i++) {
          walk((Message) items.get(i), p + "[" + i + "]", v);
        }
      } else {
        walk((Message) e.getValue(), p, v);
      }
    }
  }

  private static String shortName(String fullName) {
    return fullName.substring(fullName.lastIndexOf('.') + 1);
  }

  @SuppressWarnings("unchecked")
  static <T extends Message> T typed(Message m, T prototype) {
    if (prototype.getClass().isInstance(m)) {
      return (T) m;
    }
    return parse(m.toByteString(), prototype);
  }

  @SuppressWarnings("unchecked")
  private static <T extends Message> T parse(ByteString bytes, T prototype) {
    try {
      return (T) prototype.getParserForType().parseFrom(bytes);
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException(e);
    }
  }

  private static <T extends Message> T unpack(Any any, T prototype) {
    return parse(any.getValue(), prototype);
  }
}
