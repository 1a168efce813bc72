package io.arbiter.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.grpc.ForwardingServerCallListener.SimpleForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Arbiter behind grpc-java's own xDS ext_authz client ({@code io.grpc.xds.ExtAuthzFilter},
 * grpc-xds 1.85.1): a java-control-plane ADS server hands a proxyless gRPC client a Listener whose
 * HttpConnectionManager runs Envoy's ext_authz HTTP filter pointed at Arbiter, then the router; the
 * client ({@link XdsHealthClient}, in its own JVM with {@code GRPC_XDS_BOOTSTRAP_CONFIG} and {@code
 * GRPC_EXPERIMENTAL_XDS_EXT_AUTHZ_ON_CLIENT=true}) calls {@code grpc.health.v1.Health/Check} on a
 * backend in this JVM. The client asks Arbiter before every call, sending the call's metadata only
 * in {@code header_map} as {@code raw_value} bytes, so the denials prove Arbiter reads headers
 * from there.
 */
class XdsExtAuthzIT {
  private static final String SERVICE = "backend.test";

  private static ArbiterProcess arbiter;
  private static Server backend;
  private static XdsControlPlane controlPlane;
  private static final Queue<String> backendCalls = new ConcurrentLinkedQueue<>();
  private static List<JsonObject> calls;

  @BeforeAll
  static void run() throws Exception {
    arbiter = ArbiterProcess.start(
        Path.of(XdsExtAuthzIT.class.getResource("/xds-policy.yaml").toURI()));
    HealthStatusManager health = new HealthStatusManager();
    backend = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
        .addService(ServerInterceptors.intercept(health.getHealthService(), new Recorder()))
        .build()
        .start();
    controlPlane = XdsControlPlane.start();
    String authzTarget = "dns:///127.0.0.1:" + arbiter.grpcPort;
    controlPlane.serve(SERVICE, authzTarget, backend.getPort());

    try {
      calls = runClient(bootstrap(controlPlane.port(), authzTarget),
          "xds:///" + SERVICE, "globex", "-", "acme");
    } catch (AssertionError e) {
      throw new AssertionError(e.getMessage() + "\nxDS requests: " + controlPlane.requests()
          + "\narbiter log:\n" + arbiter.log(), e);
    }
  }

  @AfterAll
  static void stop() throws Exception {
    try {
      if (controlPlane != null) {
        controlPlane.close();
      }
      if (backend != null) {
        backend.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
      }
    } finally {
      if (arbiter != null) {
        arbiter.close();
      }
    }
  }

  @Test
  void controlPlaneConfigWasAcceptedWithTheExtAuthzFilter() {
    // A client without GRPC_EXPERIMENTAL_XDS_EXT_AUTHZ_ON_CLIENT, or a filter config grpc-java
    // cannot parse, NACKs the Listener: every call would then fail UNAVAILABLE.
    assertThat(controlPlane.requests()).as("discovery requests").isNotEmpty()
        .noneMatch(r -> r.contains("NACK"))
        .anyMatch(r -> r.startsWith("type.googleapis.com/envoy.config.listener.v3.Listener"))
        .anyMatch(r -> r.startsWith("type.googleapis.com/envoy.config.endpoint.v3."));
  }

  @Test
  void wrongTenantIsPermissionDeniedWithArbitersMessageAndHeaders() {
    JsonObject call = call("globex");
    assertThat(call.get("code").getAsString()).as("%s", call).isEqualTo("PERMISSION_DENIED");
    // CheckResponseHandler: "RPC denied by external authorization server: " + status.message,
    // with the gRPC code mapped from denied_response.status (403).
    assertThat(call.get("description").getAsString())
        .isEqualTo("RPC denied by external authorization server: "
            + "tenant may not call the health service");
    // denied_response.headers come back as the failed call's trailers.
    JsonObject trailers = call.getAsJsonObject("trailers");
    assertThat(trailers.getAsJsonArray("x-arbiter-reason").get(0).getAsString())
        .isEqualTo("tenant-not-allowed");
    assertThat(trailers.getAsJsonArray("x-arbiter-decision-id").get(0).getAsString())
        .matches("[0-9a-f]{8,}");
  }

  @Test
  void missingTenantIsUnauthenticatedBecauseArbiterAnswers401() {
    JsonObject call = call("-");
    assertThat(call.get("code").getAsString()).as("%s", call).isEqualTo("UNAUTHENTICATED");
    assertThat(call.get("description").getAsString())
        .isEqualTo("RPC denied by external authorization server: x-tenant is required");
    JsonObject trailers = call.getAsJsonObject("trailers");
    assertThat(trailers.keySet()).containsExactly("x-arbiter-decision-id");
    assertThat(trailers.getAsJsonArray("x-arbiter-decision-id").get(0).getAsString())
        .isNotEqualTo(call("globex").getAsJsonObject("trailers")
            .getAsJsonArray("x-arbiter-decision-id").get(0).getAsString());
  }

  @Test
  void arbiterCountedEveryCheckAndDeniedCallsNeverReachedTheBackend() throws Exception {
    String metrics = arbiter.admin("/metrics");
    // Both denials depended on x-tenant, which grpc-java sends only in header_map (raw_value):
    // one matched 'x-tenant' in request.headers, the other its absence.
    assertThat(metrics).contains(
        "arbiter_checks_total{result=\"deny\"} 2",
        "arbiter_checks_total{result=\"allow\"} 1",
        "arbiter_rule_matches_total{rule=\"health-needs-tenant\"} 1",
        "arbiter_rule_matches_total{rule=\"health-only-for-acme\"} 2",
        "arbiter_rule_matches_total{rule=\"tag-tenant\"} 1");
    assertThat(List.copyOf(backendCalls)).as("calls the backend saw")
        .noneMatch(c -> c.contains("x-tenant=globex") || c.contains("x-tenant=null"));
  }

  /**
   * Arbiter allows {@code acme} (counted above), and grpc-java 1.85.1 then forwards the call with
   * Arbiter's header mutation applied, but cancels it: {@code ExtAuthzClientCall.start} runs the
   * Check call inside its own {@code CancellableContext} ({@code authzContext.run(...)}), so
   * {@code AuthzCallbackObserver.onNext} creates the forwarded call ({@code next.newCall}) with
   * that context as current, and {@code onCompleted}, which follows right after, calls {@code
   * authzContext.close()}: the forwarded call is cancelled with "io.grpc.Context was cancelled
   * without error" (before or after it reached the backend; which one is a race). The classes came
   * with grpc/grpc-java#12897 ("xds: Add ExtAuthzClientCall"). This test pins that behaviour and
   * also accepts the fixed one (OK, SERVING, the backend completing the call), so a grpc-java
   * upgrade that fixes it keeps it green; anything else, a denial in particular, fails it.
   */
  @Test
  void allowedTenantIsForwardedButGrpcJava1851CancelsTheForwardedCall() {
    JsonObject call = call("acme");
    String code = call.get("code").getAsString();
    List<String> seen = List.copyOf(backendCalls).stream()
        .filter(c -> c.contains("x-tenant=acme")).toList();
    if (code.equals("OK")) {
      assertThat(call.get("serving").getAsString()).isEqualTo("SERVING");
      assertThat(seen).allMatch(c -> c.startsWith(
          "grpc.health.v1.Health/Check x-tenant=acme x-arbiter-tenant=acme "));
    } else {
      assertThat(code).as("%s", call).isEqualTo("CANCELLED");
      assertThat(call.get("description").getAsString())
          .isEqualTo("io.grpc.Context was cancelled without error");
      // If the forwarded call got to the backend first, it carried Arbiter's added header.
      assertThat(seen).allMatch(c -> c.equals(
          "grpc.health.v1.Health/Check x-tenant=acme x-arbiter-tenant=acme cancelled"));
    }
  }

  private static JsonObject call(String tenant) {
    return calls.stream()
        .filter(c -> c.get("tenant").getAsString().equals(tenant))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no call for tenant " + tenant + " in " + calls));
  }

  /**
   * The bootstrap of an untrusted control plane (no {@code trusted_xds_server}): grpc-java then
   * takes the ext_authz service's channel credentials only from {@code allowed_grpc_services},
   * keyed by the exact target URI the xDS config names (gRFC A102).
   */
  private static String bootstrap(int xdsPort, String authzTarget) {
    return """
        {
          "xds_servers": [{
            "server_uri": "127.0.0.1:%d",
            "channel_creds": [{"type": "insecure"}],
            "server_features": ["xds_v3"]
          }],
          "node": {"id": "xds-ext-authz-it", "cluster": "arbiter-it"},
          "allowed_grpc_services": {
            "%s": {"channel_creds": [{"type": "insecure"}]}
          }
        }
        """.formatted(xdsPort, authzTarget);
  }

  private static List<JsonObject> runClient(String bootstrap, String target, String... tenants)
      throws Exception {
    String classpath = System.getProperty("surefire.test.class.path",
        System.getProperty("java.class.path"));
    List<String> cmd = new ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx256m",
        "-cp", classpath, XdsHealthClient.class.getName(), target));
    cmd.addAll(List.of(tenants));
    Path logDir = Path.of("target", "it-logs");
    Files.createDirectories(logDir);
    Path err = Files.createTempFile(logDir, "xds-client-", ".log");
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(err.toFile());
    pb.environment().remove("GRPC_XDS_BOOTSTRAP");
    pb.environment().put("GRPC_XDS_BOOTSTRAP_CONFIG", bootstrap);
    pb.environment().put("GRPC_EXPERIMENTAL_XDS_EXT_AUTHZ_ON_CLIENT", "true");
    Process p = pb.start();
    try {
      p.getOutputStream().close();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!p.waitFor(3, TimeUnit.MINUTES)) {
        throw new AssertionError("the xDS client did not finish");
      }
      String clientLog = Files.readString(err);
      List<JsonObject> results = new ArrayList<>();
      for (String line : out.split("\n")) {
        if (!line.isBlank()) {
          results.add(JsonParser.parseString(line).getAsJsonObject());
        }
      }
      assertThat(results).as("one result per call; exit %s, stderr:\n%s", p.exitValue(), clientLog)
          .hasSize(tenants.length);
      return results;
    } finally {
      if (p.isAlive()) {
        p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
    }
  }

  private static String header(Metadata headers, String name) {
    return headers.get(Metadata.Key.of(name, Metadata.ASCII_STRING_MARSHALLER));
  }

  /** Records, on the backend, each call that reached it and how it ended. */
  private static final class Recorder implements ServerInterceptor {
    @Override
    public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(
        ServerCall<ReqT, RespT> call, Metadata headers, ServerCallHandler<ReqT, RespT> next) {
      String name = call.getMethodDescriptor().getFullMethodName()
          + " x-tenant=" + header(headers, "x-tenant")
          + " x-arbiter-tenant=" + header(headers, "x-arbiter-tenant");
      return new SimpleForwardingServerCallListener<>(next.startCall(call, headers)) {
        @Override
        public void onComplete() {
          backendCalls.add(name + " completed");
          super.onComplete();
        }

        @Override
        public void onCancel() {
          backendCalls.add(name + " cancelled");
          super.onCancel();
        }
      };
    }
  }
}
