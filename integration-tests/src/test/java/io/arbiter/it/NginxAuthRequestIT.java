package io.arbiter.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Arbiter's HTTP-mode check endpoint behind a real nginx {@code auth_request}, which calls it the
 * way Envoy's {@code http_service} does: nginx sends each request's target (appended to {@code
 * /check}) and headers to Arbiter, lets it through on a 2xx with the headers Arbiter added copied
 * in ({@code auth_request_set}), and answers 401/403 itself otherwise, in front of a stub backend
 * that records what reaches it.
 *
 * <p>What nginx does, as these tests pin down: a 401 or 403 from Arbiter becomes nginx's own
 * 401/403 page (with Arbiter's {@code WWW-Authenticate} on a 401, but not its body); any other
 * status, such as 429, and an Arbiter that cannot be reached (connection refused: 502 for the
 * subrequest) become 500. The subrequest is a GET unless the config says {@code proxy_method
 * $request_method}, as this one does.
 *
 * <p>Skipped (with the reason) when nginx is not installed ({@code apt-get install -y nginx}).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class NginxAuthRequestIT {
  private static final String POLICY =
      """
      rules:
        - name: admin-needs-user
          match: "request.path.startsWith('/admin') && !('x-user' in request.headers)"
          deny: "true"
          denial: {message: "sign in first", body: "who are you?"}
        - name: tag-user
          match: "'x-user' in request.headers"
          requestHeadersToAdd: {x-arbiter-user: "request.headers['x-user']"}
        - name: no-deletes
          match: "request.method == 'DELETE'"
          deny: "true"
        - name: login
          match: "request.path == '/account'"
          deny: "!('authorization' in request.headers)"
          denial: {code: UNAUTHENTICATED, headers: {www-authenticate: 'Bearer realm="shop"'}}
        - name: throttled
          match: "request.path == '/busy'"
          deny: "true"
          denial: {code: RESOURCE_EXHAUSTED}
      """;

  private static String missing;
  private static Path dir;
  private static HttpServer backend;
  private static final List<Seen> seen = new CopyOnWriteArrayList<>();
  private static ArbiterProcess arbiter;
  private static NginxProcess nginx;
  private final HttpClient client =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

  /** A request the backend received: its method, target and headers (names lowercase). */
  record Seen(String method, String target, Map<String, List<String>> headers) {
    String header(String name) {
      List<String> v = headers.get(name);
      return v == null || v.isEmpty() ? null : v.get(0);
    }
  }

  @BeforeAll
  static void start() throws Exception {
    missing = NginxProcess.unavailableReason();
    if (missing != null) {
      System.err.println("NginxAuthRequestIT skipped: " + missing);
      return;
    }
    dir = Files.createDirectories(Path.of("target", "nginx-it").toAbsolutePath());
    Path policy = dir.resolve("policy.yaml");
    Files.writeString(policy, POLICY);

    backend = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 16);
    backend.createContext("/", ex -> {
      try (ex) {
        Map<String, List<String>> headers = new java.util.TreeMap<>();
        ex.getRequestHeaders().forEach((k, v) -> headers.put(k.toLowerCase(Locale.ROOT), List.copyOf(v)));
        seen.add(new Seen(ex.getRequestMethod(), ex.getRequestURI().toString(), headers));
        byte[] body = "backend\n".getBytes(StandardCharsets.UTF_8);
        ex.sendResponseHeaders(200, body.length);
        ex.getResponseBody().write(body);
      }
    });
    backend.start();

    arbiter = ArbiterProcess.start(policy);
    int port = ArbiterProcess.freePort();
    Path prefix = dir.resolve("nginx");
    String servers =
        """
          server {
            listen 127.0.0.1:%1$d;
            location / {
              auth_request /_arbiter;
              # Arbiter's answer headers are the subrequest's upstream response headers.
              auth_request_set $arbiter_user $upstream_http_x_arbiter_user;
              auth_request_set $arbiter_decision $upstream_http_x_arbiter_decision_id;
              # Set (or, when empty, removed): a client cannot send its own.
              proxy_set_header X-Arbiter-User $arbiter_user;
              proxy_set_header X-Arbiter-Decision-Id $arbiter_decision;
              proxy_pass http://127.0.0.1:%2$d;
            }
            location = /_arbiter {
              internal;
              proxy_pass http://127.0.0.1:%3$d/check$request_uri;
              proxy_method $request_method;
              proxy_pass_request_body off;
              proxy_set_header Content-Length "";
              proxy_set_header Host $host;
              proxy_set_header X-Forwarded-For $remote_addr;
              proxy_set_header X-Forwarded-Proto $scheme;
            }
          }
        """.formatted(port, backend.getAddress().getPort(), arbiter.httpPort);
    nginx = NginxProcess.start(prefix, NginxProcess.config(prefix, servers), port);
  }

  /** Per test, so that each is reported as skipped with the reason. */
  @BeforeEach
  void requireNginx() {
    Assumptions.assumeTrue(missing == null, () -> "nginx cannot run: " + missing);
  }

  @AfterAll
  static void stop() throws Exception {
    try {
      if (nginx != null) {
        nginx.close();
      }
    } finally {
      try {
        if (arbiter != null) {
          arbiter.close();
        }
      } finally {
        if (backend != null) {
          backend.stop(0);
        }
      }
    }
  }

  private HttpResponse<String> send(String method, String target, String... headers) throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + nginx.port + target))
            .timeout(Duration.ofSeconds(30))
            .method(method, HttpRequest.BodyPublishers.noBody());
    if (headers.length > 0) {
      b.headers(headers);
    }
    return client.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  /** A target no other request uses, to find (or not) in what the backend saw. */
  private static String unique(String path) {
    return path + "?n=" + UUID.randomUUID();
  }

  private static List<Seen> seenAt(String target) {
    List<Seen> out = new ArrayList<>();
    for (Seen s : seen) {
      if (s.target().equals(target)) {
        out.add(s);
      }
    }
    return out;
  }

  private static Supplier<String> logs() {
    return () -> "\n" + (nginx == null ? "" : nginx.logs())
        + "--- arbiter:\n" + (arbiter == null ? "" : arbiter.log());
  }

  @Test
  @Order(1)
  void anAllowedRequestReachesTheBackendWithTheHeaderArbiterAdded() throws Exception {
    String target = unique("/admin/users");

    HttpResponse<String> r = send("GET", target, "X-User", "alice");

    assertThat(r.statusCode()).as(logs()).isEqualTo(200);
    assertThat(r.body()).isEqualTo("backend\n");
    List<Seen> atBackend = seenAt(target);
    assertThat(atBackend).hasSize(1);
    assertThat(atBackend.get(0).header("x-arbiter-user")).isEqualTo("alice");
    assertThat(atBackend.get(0).header("x-arbiter-decision-id")).matches("[0-9a-f]{16}");
  }

  @Test
  @Order(2)
  void aDeniedRequestGets403FromNginxAndNeverReachesTheBackend() throws Exception {
    String target = unique("/admin/users");

    HttpResponse<String> r = send("GET", target);

    assertThat(r.statusCode()).as(logs()).isEqualTo(403);
    // nginx answers with its own error page: Arbiter's body stays between the two.
    assertThat(r.body()).contains("403 Forbidden").doesNotContain("who are you?");
    assertThat(seenAt(target)).isEmpty();
  }

  @Test
  @Order(3)
  void aClientCannotSendTheHeaderArbiterAdds() throws Exception {
    String target = unique("/public");

    HttpResponse<String> r = send("GET", target, "X-Arbiter-User", "mallory");

    assertThat(r.statusCode()).as(logs()).isEqualTo(200);
    assertThat(seenAt(target)).singleElement()
        .satisfies(s -> assertThat(s.headers()).doesNotContainKey("x-arbiter-user"));
  }

  @Test
  @Order(4)
  void arbiterSeesTheOriginalMethod() throws Exception {
    String target = unique("/items/7");

    HttpResponse<String> delete = send("DELETE", target);
    HttpResponse<String> get = send("GET", target);

    assertThat(delete.statusCode()).as(logs()).isEqualTo(403);
    assertThat(get.statusCode()).as(logs()).isEqualTo(200);
    assertThat(seenAt(target)).extracting(Seen::method).containsExactly("GET");
  }

  @Test
  @Order(5)
  void a401PassesWithItsChallengeAndOtherStatusesBecome500() throws Exception {
    String account = unique("/account");
    String busy = unique("/busy");

    HttpResponse<String> unauthenticated = send("GET", account);
    HttpResponse<String> signedIn = send("GET", account, "Authorization", "Bearer t");
    HttpResponse<String> throttled = send("GET", busy);

    assertThat(unauthenticated.statusCode()).as(logs()).isEqualTo(401);
    assertThat(unauthenticated.headers().firstValue("www-authenticate"))
        .hasValue("Bearer realm=\"shop\"");
    assertThat(signedIn.statusCode()).isEqualTo(200);
    // auth_request passes only 2xx, 401 and 403: Arbiter's 429 becomes nginx's 500.
    assertThat(throttled.statusCode()).as(logs()).isEqualTo(500);
    assertThat(seenAt(account)).hasSize(1);
    assertThat(seenAt(busy)).isEmpty();
  }

  @Test
  @Order(Integer.MAX_VALUE) // stops Arbiter: runs last
  void withArbiterStoppedNginxAnswers500AndLetsNothingThrough() throws Exception {
    arbiter.close();
    String target = unique("/public");

    HttpResponse<String> r = send("GET", target);

    // The subrequest's connection is refused (a 502 for it); auth_request turns that into 500.
    assertThat(r.statusCode()).as(logs()).isEqualTo(500);
    assertThat(seenAt(target)).isEmpty();
    assertThat(nginx.logs().lines())
        .anySatisfy(line -> assertThat(line)
            .contains("auth request unexpected status: 502").contains(target));
  }
}
