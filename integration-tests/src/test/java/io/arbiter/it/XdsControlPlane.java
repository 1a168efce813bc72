package io.arbiter.it;

import com.google.protobuf.Any;
import com.google.protobuf.util.Durations;
import io.envoyproxy.controlplane.cache.v3.SimpleCache;
import io.envoyproxy.controlplane.cache.v3.Snapshot;
import io.envoyproxy.controlplane.server.DiscoveryServerCallbacks;
import io.envoyproxy.controlplane.server.V3DiscoveryServer;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.AggregatedConfigSource;
import io.envoyproxy.envoy.config.core.v3.Address;
import io.envoyproxy.envoy.config.core.v3.ApiVersion;
import io.envoyproxy.envoy.config.core.v3.ConfigSource;
import io.envoyproxy.envoy.config.core.v3.GrpcService;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.endpoint.v3.Endpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LbEndpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LocalityLbEndpoints;
import io.envoyproxy.envoy.config.listener.v3.ApiListener;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteAction;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.RouteMatch;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.extensions.filters.http.ext_authz.v3.ExtAuthz;
import io.envoyproxy.envoy.extensions.filters.http.router.v3.Router;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.Rds;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;

/**
 * A java-control-plane ADS server on a free loopback port, serving one snapshot to every node: the
 * client-side xDS configuration of one gRPC service whose calls go through Envoy's ext_authz HTTP
 * filter to Arbiter. The resources are what an operator's control plane would send a proxyless
 * gRPC client:
 *
 * <ul>
 *   <li>Listener {@code <service>}: an API listener whose HttpConnectionManager takes its routes
 *       over RDS and runs {@code envoy.filters.http.ext_authz} (gRPC service {@code google_grpc}
 *       with the Arbiter target; grpc-java supports no {@code envoy_grpc}) and then the router.
 *   <li>RouteConfiguration {@code <service>-routes}: every path to cluster {@code
 *       <service>-cluster}.
 *   <li>Cluster {@code <service>-cluster} (EDS over ADS) and its ClusterLoadAssignment: the
 *       backend's loopback port.
 * </ul>
 */
final class XdsControlPlane implements AutoCloseable {
  private static final String GROUP = "arbiter-it";

  private final Server server;
  private final SimpleCache<String> cache;
  private final Queue<String> requests = new ConcurrentLinkedQueue<>();

  private XdsControlPlane(SimpleCache<String> cache, Server server) {
    this.cache = cache;
    this.server = server;
  }

  /** Starts an ADS server on a free loopback port, serving nothing until {@link #serve}. */
  static XdsControlPlane start() throws Exception {
    SimpleCache<String> cache = new SimpleCache<>(node -> GROUP);
    XdsControlPlane[] self = new XdsControlPlane[1];
    DiscoveryServerCallbacks callbacks = new DiscoveryServerCallbacks() {
      @Override
      public void onV3StreamRequest(long streamId, DiscoveryRequest request) {
        self[0].requests.add(request.getTypeUrl() + " " + request.getResourceNamesList()
            + (request.hasErrorDetail() ? " NACK: " + request.getErrorDetail().getMessage() : ""));
      }

      @Override
      public void onV3StreamDeltaRequest(long streamId, DeltaDiscoveryRequest request) {
        self[0].requests.add("delta " + request.getTypeUrl());
      }
    };
    V3DiscoveryServer discovery = new V3DiscoveryServer(callbacks, cache);
    Server server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
        .addService(discovery.getAggregatedDiscoveryServiceImpl())
        .build()
        .start();
    self[0] = new XdsControlPlane(cache, server);
    return self[0];
  }

  int port() {
    return server.getPort();
  }

  /** Every discovery request received so far, one line each, NACKs with their error. */
  List<String> requests() {
    return List.copyOf(requests);
  }

  /**
   * Serves the resources of {@code service} (the name clients dial as {@code xds:///<service>}):
   * its calls checked by {@code authzTarget} (a gRPC target URI, e.g. {@code
   * dns:///127.0.0.1:9191}) and routed to {@code backendPort} on loopback.
   */
  void serve(String service, String authzTarget, int backendPort) {
    String routes = service + "-routes";
    String cluster = service + "-cluster";
    ConfigSource ads = ConfigSource.newBuilder()
        .setAds(AggregatedConfigSource.getDefaultInstance())
        .setResourceApiVersion(ApiVersion.V3)
        .build();

    ExtAuthz extAuthz = ExtAuthz.newBuilder()
        .setTransportApiVersion(ApiVersion.V3)
        .setGrpcService(GrpcService.newBuilder()
            .setGoogleGrpc(GrpcService.GoogleGrpc.newBuilder()
                .setTargetUri(authzTarget)
                .setStatPrefix("arbiter"))
            .setTimeout(Durations.fromSeconds(10)))
        .setFailureModeAllow(false)
        .build();
    HttpConnectionManager hcm = HttpConnectionManager.newBuilder()
        .setStatPrefix(service)
        .setRds(Rds.newBuilder().setConfigSource(ads).setRouteConfigName(routes))
        .addHttpFilters(HttpFilter.newBuilder()
            .setName("envoy.filters.http.ext_authz")
            .setTypedConfig(Any.pack(extAuthz)))
        .addHttpFilters(HttpFilter.newBuilder()
            .setName("envoy.filters.http.router")
            .setTypedConfig(Any.pack(Router.getDefaultInstance())))
        .build();
    Listener listener = Listener.newBuilder()
        .setName(service)
        .setApiListener(ApiListener.newBuilder().setApiListener(Any.pack(hcm)))
        .build();

    RouteConfiguration routeConfig = RouteConfiguration.newBuilder()
        .setName(routes)
        .addVirtualHosts(VirtualHost.newBuilder()
            .setName(service)
            .addDomains("*")
            .addRoutes(Route.newBuilder()
                .setMatch(RouteMatch.newBuilder().setPrefix(""))
                .setRoute(RouteAction.newBuilder().setCluster(cluster))))
        .build();

    Cluster edsCluster = Cluster.newBuilder()
        .setName(cluster)
        .setType(Cluster.DiscoveryType.EDS)
        .setEdsClusterConfig(Cluster.EdsClusterConfig.newBuilder().setEdsConfig(ads))
        .setLbPolicy(Cluster.LbPolicy.ROUND_ROBIN)
        .setConnectTimeout(Durations.fromSeconds(5))
        .build();
    ClusterLoadAssignment endpoints = ClusterLoadAssignment.newBuilder()
        .setClusterName(cluster)
        .addEndpoints(LocalityLbEndpoints.newBuilder()
            .setLoadBalancingWeight(com.google.protobuf.UInt32Value.of(1))
            .addLbEndpoints(LbEndpoint.newBuilder()
                .setEndpoint(Endpoint.newBuilder()
                    .setAddress(Address.newBuilder()
                        .setSocketAddress(SocketAddress.newBuilder()
                            .setAddress("127.0.0.1")
                            .setPortValue(backendPort))))))
        .build();

    cache.setSnapshot(GROUP, Snapshot.create(
        List.of(edsCluster), List.of(endpoints), List.of(listener), List.of(routeConfig),
        List.of(), "1"));
  }

  @Override
  public void close() {
    server.shutdownNow();
    try {
      server.awaitTermination(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
