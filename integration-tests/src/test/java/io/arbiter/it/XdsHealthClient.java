package io.arbiter.it;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.stub.MetadataUtils;
import java.util.concurrent.TimeUnit;

/**
 * The proxyless gRPC client of {@link XdsExtAuthzIT}, run in its own JVM so that its environment
 * is exactly an operator's: {@code GRPC_XDS_BOOTSTRAP_CONFIG} (grpc-java reads the bootstrap once
 * per JVM and caches it) and {@code GRPC_EXPERIMENTAL_XDS_EXT_AUTHZ_ON_CLIENT=true}.
 *
 * <p>{@code XdsHealthClient TARGET TENANT...} calls {@code grpc.health.v1.Health/Check} on {@code
 * TARGET} (e.g. {@code xds:///backend.test}) once per tenant, in order, sending the header {@code
 * x-tenant: TENANT} ({@code -} sends none), and prints one JSON line per call: {@code tenant},
 * {@code code} (the gRPC status code name), {@code description}, {@code trailers} (ASCII trailers
 * of a failed call) and {@code serving} (the health status of a successful one). Exit 0 when every
 * call was made, whatever its outcome.
 */
public final class XdsHealthClient {
  private static final Metadata.Key<String> TENANT =
      Metadata.Key.of("x-tenant", Metadata.ASCII_STRING_MARSHALLER);

  public static void main(String[] args) throws Exception {
    if (args.length < 2) {
      System.err.println("usage: XdsHealthClient TARGET TENANT...");
      System.exit(2);
    }
    ManagedChannel channel =
        Grpc.newChannelBuilder(args[0], InsecureChannelCredentials.create()).build();
    try {
      for (int i = 1; i < args.length; i++) {
        System.out.println(call(channel, args[i]));
        System.out.flush();
      }
    } finally {
      channel.shutdownNow();
      channel.awaitTermination(10, TimeUnit.SECONDS);
    }
  }

  private static JsonObject call(ManagedChannel channel, String tenant) {
    Metadata headers = new Metadata();
    if (!tenant.equals("-")) {
      headers.put(TENANT, tenant);
    }
    JsonObject out = new JsonObject();
    out.addProperty("tenant", tenant);
    try {
      // waitForReady: the first call waits for the xDS resources instead of failing fast while
      // the channel is still resolving. The deadline bounds a hang; it measures nothing.
      HealthCheckResponse response = HealthGrpc.newBlockingStub(channel)
          .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers))
          .withWaitForReady()
          .withDeadlineAfter(30, TimeUnit.SECONDS)
          .check(HealthCheckRequest.getDefaultInstance());
      out.addProperty("code", Status.Code.OK.name());
      out.addProperty("serving", response.getStatus().name());
    } catch (StatusRuntimeException e) {
      out.addProperty("code", e.getStatus().getCode().name());
      out.addProperty("description", e.getStatus().getDescription());
      if (e.getStatus().getCause() != null) {
        out.addProperty("cause", e.getStatus().getCause().toString());
      }
      JsonObject trailers = new JsonObject();
      Metadata t = e.getTrailers();
      if (t != null) {
        for (String key : t.keys()) {
          if (!key.endsWith(Metadata.BINARY_HEADER_SUFFIX)) {
            JsonArray values = new JsonArray();
            t.getAll(Metadata.Key.of(key, Metadata.ASCII_STRING_MARSHALLER)).forEach(values::add);
            trailers.add(key, values);
          }
        }
      }
      out.add("trailers", trailers);
    }
    return out;
  }

  private XdsHealthClient() {}
}
