package io.arbiter.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Arbiter's {@code Authorization/Check} against an independent, non-Java client: Node's {@code
 * @grpc/grpc-js} with {@code @grpc/proto-loader} loading Envoy's own {@code .proto} sources (see
 * {@code integration-tests/js/check.js}). The requests are shaped like the ones Envoy's ext_authz
 * filter sends; each rule of {@code grpcjs-policy.yaml} depends on one part of them, so the
 * headers and denials that come back prove that part was read and that the response decodes, field
 * by field, in a client that shares no code with Arbiter.
 *
 * <p>Skipped (with the reason) when {@code node} or {@code js/node_modules} is missing, except on
 * CI where that fails; install them with {@code npm ci} in {@code integration-tests/js}.
 */
class GrpcJsCheckIT {
  private static final String FRONTEND = "spiffe://cluster.local/ns/default/sa/frontend";
  private static final String API = "spiffe://cluster.local/ns/default/sa/api";

  @RegisterExtension static final NodeClientsSetup node = new NodeClientsSetup();

  private static ArbiterProcess arbiter;

  @BeforeAll
  static void start() throws Exception {
    if (node.available()) {
      arbiter = ArbiterProcess.start(resource("grpcjs-policy.yaml"));
    }
  }

  @AfterAll
  static void stop() throws Exception {
    if (arbiter != null) {
      arbiter.close();
    }
  }

  /**
   * An mTLS request as Envoy's filter sends it: peers with socket addresses and ports, the peer
   * certificate's SPIFFE id as {@code source.principal}, the SNI, the {@code headers} map (a
   * repeated header already joined with {@code ','}, as Envoy joins it), a query string in {@code
   * path}, and the route's {@code context_extensions}.
   */
  private static JsonObject envoyRequest(String principal, String sni, String path, String tier) {
    JsonObject r = json("""
        {"attributes": {
          "source": {
            "address": {"socket_address": {"address": "10.0.0.5", "port_value": 43210}},
            "principal": "%s"},
          "destination": {
            "address": {"socket_address": {"address": "10.0.0.9", "port_value": 8443}},
            "principal": "%s"},
          "request": {
            "time": {"seconds": "1700000000", "nanos": 5000},
            "http": {
              "id": "10794278457377034515",
              "method": "GET",
              "path": "%s",
              "host": "api.example.com",
              "scheme": "https",
              "protocol": "HTTP/2",
              "headers": {
                ":authority": "api.example.com",
                ":method": "GET",
                ":path": "%s",
                ":scheme": "https",
                "authorization": "Bearer abc.def.ghi",
                "x-forwarded-for": "203.0.113.7,198.51.100.2",
                "x-request-id": "5d1e8f00-2f7c-4d41-9d0e-3c1b1a8b7f10",
                "user-agent": "curl/8.5.0"}}},
          "tls_session": {"sni": "%s"}}}
        """.formatted(principal, API, path, path, sni));
    if (tier != null) {
      JsonObject ext = new JsonObject();
      ext.addProperty("tier", tier);
      r.getAsJsonObject("attributes").add("context_extensions", ext);
    }
    return r;
  }

  @Test
  void allowedRequestGetsHeadersAndMetadataThatProveEveryPartWasRead() throws Exception {
    GrpcJsClient.Run run = check(
        envoyRequest(FRONTEND, "api.example.com", "/admin/reports?debug=1&format=csv", "gold"));

    assertThat(run.exitCode()).as(run.stdout()).isZero();
    JsonObject response = run.response(0);
    // google.rpc.Status code 0 is the default: with defaults:false it decodes as an empty status.
    assertThat(response.getAsJsonObject("status").has("code")).as("status %s", response).isFalse();
    assertThat(response.get("http_response").getAsString()).isEqualTo("ok_response");
    JsonObject ok = response.getAsJsonObject("ok_response");

    Map<String, JsonObject> headers = headerOptions(ok.getAsJsonArray("headers"));
    assertThat(headers).containsOnlyKeys("x-arbiter-peer", "x-arbiter-sni", "x-arbiter-tier",
        "x-arbiter-debug", "x-arbiter-forwarded-for");
    assertThat(value(headers.get("x-arbiter-peer")))
        .isEqualTo(FRONTEND + " 10.0.0.5:43210 -> " + API + " 10.0.0.9:8443");
    assertThat(value(headers.get("x-arbiter-sni"))).isEqualTo("api.example.com");
    assertThat(value(headers.get("x-arbiter-tier"))).isEqualTo("gold");
    assertThat(value(headers.get("x-arbiter-debug"))).isEqualTo("on; format=csv");
    assertThat(value(headers.get("x-arbiter-forwarded-for"))).isEqualTo("203.0.113.7,198.51.100.2");
    for (Map.Entry<String, JsonObject> h : headers.entrySet()) {
      assertAppendExplicitlyFalse(h.getKey(), h.getValue());
    }
    assertThat(strings(ok.getAsJsonArray("query_parameters_to_remove"))).containsExactly("debug");
    assertThat(ok.has("headers_to_remove")).isFalse();

    JsonObject md = response.getAsJsonObject("dynamic_metadata");
    assertThat(metadataStrings(md, "matched_rules")).containsExactly(
        "admin-needs-frontend", "tag-peer", "tag-sni", "tag-gold", "debug-query",
        "echo-forwarded-for");
    assertThat(metadataString(md, "decision_id")).isNotBlank();
    assertThat(metadataString(md, "config_version")).isEqualTo(configVersion());
    assertThat(md.getAsJsonObject("fields").has("error")).isFalse();
  }

  @Test
  void wrongPeerIdentityIsDeniedWith403BodyAndHeaders() throws Exception {
    GrpcJsClient.Run run = check(
        envoyRequest("spiffe://cluster.local/ns/default/sa/backend", "api.example.com",
            "/admin/reports", null));

    JsonObject response = run.response(0);
    assertDenied(response, 7, "admin is for the frontend on api.example.com", "Forbidden",
        "forbidden by arbiter\n", Map.of("x-arbiter-reason", "admin-needs-frontend"));
    assertThat(metadataStrings(response.getAsJsonObject("dynamic_metadata"), "matched_rules"))
        .containsExactly("admin-needs-frontend", "tag-sni", "echo-forwarded-for");
  }

  @Test
  void wrongServerNameIsDeniedEvenForTheRightPeer() throws Exception {
    GrpcJsClient.Run run =
        check(envoyRequest(FRONTEND, "other.example.com", "/admin/reports", "gold"));

    JsonObject response = run.response(0);
    assertDenied(response, 7, "admin is for the frontend on api.example.com", "Forbidden",
        "forbidden by arbiter\n", Map.of("x-arbiter-reason", "admin-needs-frontend"));
    assertThat(metadataStrings(response.getAsJsonObject("dynamic_metadata"), "matched_rules"))
        .containsExactly("admin-needs-frontend", "tag-peer", "tag-gold", "echo-forwarded-for");
  }

  @Test
  void missingCredentialsAreUnauthenticatedWith401() throws Exception {
    JsonObject request = envoyRequest(FRONTEND, "api.example.com", "/api/orders?debug=0", null);
    request.getAsJsonObject("attributes").getAsJsonObject("request").getAsJsonObject("http")
        .getAsJsonObject("headers").remove("authorization");
    GrpcJsClient.Run run = check(request);

    JsonObject response = run.response(0);
    assertDenied(response, 16, "credentials required", "Unauthorized",
        "{\"error\":\"unauthenticated\"}", Map.of("www-authenticate", "Bearer realm=\"api\""));
    assertThat(metadataStrings(response.getAsJsonObject("dynamic_metadata"), "matched_rules"))
        .containsExactly("require-credentials", "tag-peer", "tag-sni", "echo-forwarded-for");
  }

  /**
   * Headers only in {@code header_map}, as {@code raw_value} bytes (Envoy with {@code
   * encode_raw_headers: true}, and grpc-java's client): a repeated header arrives as two entries
   * and is joined, UTF-8 bytes are decoded, and a header only present there ({@code authorization})
   * satisfies the credentials rule.
   */
  @Test
  void headerMapRawValuesAreReadJoinedAndDecoded() throws Exception {
    JsonArray entries = new JsonArray();
    for (String[] h : List.of(
        new String[] {":authority", "orders.internal:50051"},
        new String[] {":method", "POST"},
        new String[] {":path", "/orders.v1.Orders/Get"},
        new String[] {"content-type", "application/grpc"},
        new String[] {"te", "trailers"},
        new String[] {"authorization", "Bearer raw-token"},
        new String[] {"x-forwarded-for", "203.0.113.7"},
        new String[] {"x-forwarded-for", "198.51.100.2"},
        new String[] {"x-user", "zoë"})) {
      JsonObject e = new JsonObject();
      e.addProperty("key", h[0]);
      e.addProperty("raw_value",
          Base64.getEncoder().encodeToString(h[1].getBytes(StandardCharsets.UTF_8)));
      entries.add(e);
    }
    JsonObject request = json("""
        {"attributes": {
          "source": {"address": {"socket_address": {"address": "127.0.0.1", "port_value": 40001}}},
          "destination": {
            "address": {"socket_address": {"address": "127.0.0.1", "port_value": 50051}}},
          "request": {"http": {
            "method": "POST", "path": "/api/orders.v1.Orders/Get", "host": "orders.internal:50051",
            "scheme": "http", "protocol": "HTTP/2", "header_map": {}}}}}
        """);
    request.getAsJsonObject("attributes").getAsJsonObject("request").getAsJsonObject("http")
        .getAsJsonObject("header_map").add("headers", entries);

    GrpcJsClient.Run run = check(request);

    JsonObject response = run.response(0);
    assertThat(response.get("http_response").getAsString()).isEqualTo("ok_response");
    Map<String, JsonObject> headers =
        headerOptions(response.getAsJsonObject("ok_response").getAsJsonArray("headers"));
    assertThat(headers).containsOnlyKeys(
        "x-arbiter-forwarded-for", "x-arbiter-user", "x-arbiter-protocol");
    assertThat(value(headers.get("x-arbiter-forwarded-for"))).isEqualTo("203.0.113.7,198.51.100.2");
    assertThat(value(headers.get("x-arbiter-user"))).isEqualTo("zoë");
    assertThat(value(headers.get("x-arbiter-protocol")))
        .isEqualTo("grpc POST /api/orders.v1.Orders/Get");
    // The rule asks for append: true, so the wrapper carries value true here.
    assertThat(headers.get("x-arbiter-user").getAsJsonObject("append").get("value").getAsBoolean())
        .isTrue();
    // APPEND_IF_EXISTS_OR_ADD is the enum's zero value: on the wire it is absent, so decoding with
    // defaults:false leaves append_action out; the wrapper above is what says "append".
    assertThat(headers.get("x-arbiter-user").has("append_action"))
        .as("append_action of %s", headers.get("x-arbiter-user")).isFalse();
    assertAppendExplicitlyFalse("x-arbiter-protocol", headers.get("x-arbiter-protocol"));
    assertThat(metadataStrings(response.getAsJsonObject("dynamic_metadata"), "matched_rules"))
        .containsExactly("echo-forwarded-for", "tag-user", "tag-grpc");
  }

  // --- helpers ---

  private static GrpcJsClient.Run check(JsonObject... requests) throws Exception {
    JsonArray array = new JsonArray();
    for (JsonObject r : requests) {
      array.add(r);
    }
    try {
      GrpcJsClient.Run run =
          GrpcJsClient.check(node.protoDir(), "127.0.0.1:" + arbiter.grpcPort, array);
      assertThat(run.results()).as(run.stdout()).hasSize(requests.length);
      return run;
    } catch (AssertionError | RuntimeException e) {
      throw new AssertionError(e.getMessage() + "\narbiter log:\n" + arbiter.log(), e);
    }
  }

  private static void assertDenied(JsonObject response, int grpcCode, String message,
      String httpStatusName, String body, Map<String, String> extraHeaders) {
    JsonObject status = response.getAsJsonObject("status");
    assertThat(status.get("code").getAsInt()).as("status %s", status).isEqualTo(grpcCode);
    assertThat(status.get("message").getAsString()).isEqualTo(message);
    assertThat(response.get("http_response").getAsString()).isEqualTo("denied_response");
    JsonObject denied = response.getAsJsonObject("denied_response");
    // envoy.type.v3.HttpStatus.code is the StatusCode enum: enums:String gives its name.
    assertThat(denied.getAsJsonObject("status").get("code").getAsString())
        .isEqualTo(httpStatusName);
    assertThat(denied.get("body").getAsString()).isEqualTo(body);

    Map<String, JsonObject> headers = headerOptions(denied.getAsJsonArray("headers"));
    List<String> expectedNames = new ArrayList<>(extraHeaders.keySet());
    expectedNames.add("x-arbiter-decision-id");
    assertThat(headers).containsOnlyKeys(expectedNames);
    extraHeaders.forEach((k, v) -> assertThat(value(headers.get(k))).as(k).isEqualTo(v));
    for (Map.Entry<String, JsonObject> h : headers.entrySet()) {
      assertAppendExplicitlyFalse(h.getKey(), h.getValue());
    }
    String decisionId = metadataString(response.getAsJsonObject("dynamic_metadata"), "decision_id");
    assertThat(decisionId).isNotBlank();
    assertThat(value(headers.get("x-arbiter-decision-id"))).isEqualTo(decisionId);
    assertThat(metadataString(response.getAsJsonObject("dynamic_metadata"), "config_version"))
        .isEqualTo(configVersion());
  }

  /**
   * {@code append} is a {@code google.protobuf.BoolValue}. Set to false it is still on the wire (an
   * empty message), and grpc-js with {@code defaults: false} decodes it as {@code {}}: present,
   * without {@code value}. Unset, the key would be absent. So "explicitly false" is: the key is
   * there and its value is not true.
   */
  private static void assertAppendExplicitlyFalse(String name, JsonObject option) {
    assertThat(option.has("append")).as("%s sets append explicitly: %s", name, option).isTrue();
    JsonObject append = option.getAsJsonObject("append");
    assertThat(!append.has("value") || !append.get("value").getAsBoolean())
        .as("%s append is false: %s", name, option).isTrue();
    assertThat(option.get("append_action").getAsString())
        .as("%s append_action", name).isEqualTo("OVERWRITE_IF_EXISTS_OR_ADD");
  }

  /** HeaderValueOptions by header name; fails on a name that appears twice. */
  private static Map<String, JsonObject> headerOptions(JsonArray options) {
    Map<String, JsonObject> out = new LinkedHashMap<>();
    if (options == null) {
      return out;
    }
    for (JsonElement e : options) {
      JsonObject o = e.getAsJsonObject();
      String key = o.getAsJsonObject("header").get("key").getAsString();
      assertThat(out.put(key, o)).as("header %s appears once in %s", key, options).isNull();
    }
    return out;
  }

  private static String value(JsonObject option) {
    return option.getAsJsonObject("header").get("value").getAsString();
  }

  /*
   * dynamic_metadata is a google.protobuf.Struct. proto-loader decodes the well-known types with
   * protobufjs's bundled descriptors, whose field names are camelCase whatever keepCase says:
   * {"fields": {"decision_id": {"stringValue": ..., "kind": "stringValue"}}}.
   */
  private static String metadataString(JsonObject md, String field) {
    JsonObject v = md.getAsJsonObject("fields").getAsJsonObject(field);
    assertThat(v).as("dynamic_metadata.%s in %s", field, md).isNotNull();
    return v.get("stringValue").getAsString();
  }

  private static List<String> metadataStrings(JsonObject md, String field) {
    JsonObject v = md.getAsJsonObject("fields").getAsJsonObject(field);
    assertThat(v).as("dynamic_metadata.%s in %s", field, md).isNotNull();
    List<String> out = new ArrayList<>();
    JsonArray values = v.getAsJsonObject("listValue").getAsJsonArray("values");
    if (values != null) {
      for (JsonElement e : values) {
        out.add(e.getAsJsonObject().get("stringValue").getAsString());
      }
    }
    return out;
  }

  private static List<String> strings(JsonArray array) {
    List<String> out = new ArrayList<>();
    if (array != null) {
      array.forEach(e -> out.add(e.getAsString()));
    }
    return out;
  }

  /** The serving config's version, from the admin endpoint (not from the client). */
  private static String configVersion() {
    try {
      return JsonParser.parseString(arbiter.admin("/config")).getAsJsonObject()
          .get("version").getAsString();
    } catch (Exception e) {
      throw new AssertionError("cannot read /config: " + e, e);
    }
  }

  private static JsonObject json(String text) {
    return JsonParser.parseString(text).getAsJsonObject();
  }

  private static Path resource(String name) throws Exception {
    return Path.of(GrpcJsCheckIT.class.getResource("/" + name).toURI());
  }
}
