package io.arbiter.server.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.arbiter.engine.PolicyEngine;
import io.arbiter.engine.spi.Adapter;
import io.arbiter.engine.spi.AdapterContext;
import io.arbiter.engine.spi.CheckHandler;
import io.arbiter.engine.spi.CheckResult;
import io.arbiter.engine.spi.Handler;
import io.arbiter.engine.spi.Params;
import io.arbiter.engine.spi.Template;
import io.arbiter.engine.testing.TestEngines;
import io.arbiter.extauthz.HttpCheckService;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The HTTP check listener over a real loopback socket, with the JDK's HTTP client. */
class HttpCheckServerTest {
  private static final String RULES =
      """
      settings: {handlerTimeout: 30s}
      handlers:
      - {name: gate, adapter: gate}
      rules:
      - name: admin-needs-user
        match: "request.path.startsWith('/admin') && !('x-user' in request.headers)"
        deny: "true"
        denial: {message: forbidden, body: "who are you?"}
      - name: tag-user
        match: "'x-user' in request.headers"
        requestHeadersToAdd: {x-arbiter-user: "request.headers['x-user']"}
      - name: echo
        match: "request.path.startsWith('/echo') || request.path == '/'"
        requestHeadersToAdd:
          x-path: request.path
          x-q: "request.query_params[?'a'].orValue('-')"
          x-method: request.method
          x-body: request.body
      - name: no-deletes
        match: "request.method == 'DELETE'"
        deny: "true"
      - name: slow
        match: "request.path == '/slow'"
        actions: [{handler: gate}]
      """;

  private final HttpClient client = HttpClient.newHttpClient();
  private final Gate gate = new Gate();
  private PolicyEngine engine;
  private HttpCheckServer server;

  @AfterEach
  void stop() {
    if (server != null) {
      server.close();
    }
    if (engine != null) {
      engine.close();
      engine.services().close();
    }
  }

  private void start(String prefix, int maxBodyBytes) throws Exception {
    engine = TestEngines.engine(RULES, gate);
    server =
        new HttpCheckServer(new InetSocketAddress("127.0.0.1", 0), prefix, new HttpCheckService(engine),
            2, maxBodyBytes);
    server.start();
  }

  private HttpResponse<String> send(String method, String target, String body, String... headers)
      throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + target))
            .timeout(Duration.ofSeconds(30))
            .method(method, body == null
                ? HttpRequest.BodyPublishers.noBody()
                : HttpRequest.BodyPublishers.ofString(body));
    if (headers.length > 0) {
      b.headers(headers);
    }
    return client.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private HttpResponse<String> get(String target, String... headers) throws Exception {
    return send("GET", target, null, headers);
  }

  @Test
  void aCheckThatWaitedForAThreadPastMaxQueueTimeIsShed() throws Exception {
    engine = TestEngines.engine(RULES.replace("settings: {handlerTimeout: 30s}",
        "settings: {handlerTimeout: 30s, overload: {maxQueueTime: 50ms}}"), gate);
    server = new HttpCheckServer(new InetSocketAddress("127.0.0.1", 0), "", new HttpCheckService(engine),
        1, 1 << 20);
    server.start();
    // The one thread reads a body that does not come yet: the next exchange waits for the thread.
    try (java.net.Socket stalled = new java.net.Socket("127.0.0.1", server.port())) {
      var out = stalled.getOutputStream();
      out.write(("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\n")
          .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
      out.flush();
      Thread.sleep(100); // the stalled exchange now holds the thread
      var waiting = client.sendAsync(
          HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/echo")).GET().build(),
          HttpResponse.BodyHandlers.ofString());
      Thread.sleep(120); // longer than maxQueueTime
      out.write("body".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
      out.flush();
      HttpResponse<String> shed = waiting.get(30, java.util.concurrent.TimeUnit.SECONDS);
      assertThat(shed.statusCode()).as("fail-closed").isEqualTo(403);
      assertThat(engine.services().metrics().counter("arbiter_checks_shed_total", "", "reason", "queue").getCount())
          .isEqualTo(1);
    }
    assertThat(get("/echo").statusCode()).as("an idle server decides again").isEqualTo(200);
  }

  @Test
  void answersChecksUnderThePrefixWithTheDecision() throws Exception {
    start("/check", 1 << 20);

    HttpResponse<String> allowed = get("/check/admin/users", "X-User", "alice");
    HttpResponse<String> denied = get("/check/admin/users");
    HttpResponse<String> delete = send("DELETE", "/check/items/7", null);

    assertThat(allowed.statusCode()).isEqualTo(200);
    assertThat(allowed.headers().firstValue("x-arbiter-user")).hasValue("alice");
    assertThat(allowed.headers().firstValue("x-arbiter-matched-rules")).hasValue("tag-user");
    assertThat(allowed.body()).isEmpty();
    assertThat(denied.statusCode()).isEqualTo(403);
    assertThat(denied.body()).isEqualTo("who are you?");
    assertThat(denied.headers().firstValue("x-arbiter-decision-id")).hasValueSatisfying(
        id -> assertThat(id).matches("[0-9a-f]{16}"));
    assertThat(denied.headers().firstValue("x-arbiter-user")).isEmpty();
    assertThat(delete.statusCode()).isEqualTo(403);
  }

  @Test
  void stripsThePrefixAndKeepsTheQueryAndMethod() throws Exception {
    start("/check/", 1 << 20);

    HttpResponse<String> echo = send("PUT", "/check/echo/a%20b?a=1&b=2", "hi");
    HttpResponse<String> root = get("/check");
    HttpResponse<String> rootWithQuery = get("/check?a=x");

    assertThat(echo.statusCode()).isEqualTo(200);
    assertThat(echo.headers().firstValue("x-path")).hasValue("/echo/a%20b");
    assertThat(echo.headers().firstValue("x-q")).hasValue("1");
    assertThat(echo.headers().firstValue("x-method")).hasValue("PUT");
    assertThat(echo.headers().firstValue("x-body")).hasValue("hi");
    assertThat(root.headers().firstValue("x-path")).hasValue("/");
    assertThat(rootWithQuery.headers().firstValue("x-path")).hasValue("/");
    assertThat(rootWithQuery.headers().firstValue("x-q")).hasValue("x");
  }

  @Test
  void otherPathsAreNotChecks() throws Exception {
    start("/check", 1 << 20);

    assertThat(get("/checkout").statusCode()).isEqualTo(404);
    assertThat(get("/").statusCode()).isEqualTo(404);
    assertThat(get("/echo").statusCode()).isEqualTo(404);
    assertThat(get("/echo").body()).contains("/check/");
  }

  @Test
  void anEmptyPrefixMakesEveryPathACheck() throws Exception {
    start("", 1 << 20);

    HttpResponse<String> echo = get("/echo/x?a=2");

    assertThat(echo.statusCode()).isEqualTo(200);
    assertThat(echo.headers().firstValue("x-path")).hasValue("/echo/x");
    assertThat(echo.headers().firstValue("x-q")).hasValue("2");
  }

  @Test
  void aBodyOverTheTransportLimitIsRefusedBeforeEvaluation() throws Exception {
    start("/check", 16);

    HttpResponse<String> small = send("POST", "/check/echo", "0123456789abcdef");
    HttpResponse<String> large = send("POST", "/check/echo", "0123456789abcdefX");

    assertThat(small.statusCode()).isEqualTo(200);
    assertThat(small.headers().firstValue("x-body")).hasValue("0123456789abcdef");
    assertThat(large.statusCode()).isEqualTo(413);
    assertThat(large.headers().firstValue("x-arbiter-decision-id")).isEmpty();
    assertThat(large.body()).isEqualTo("request body is larger than the limit of 16 bytes\n");
  }

  @Test
  void headerValuesAreUtf8BothWays() throws Exception {
    start("/check", 1 << 20);

    String reply;
    try (Socket s = new Socket("127.0.0.1", server.port())) {
      s.setSoTimeout(30_000);
      OutputStream out = s.getOutputStream();
      out.write("GET /check/ HTTP/1.1\r\nHost: shop\r\nX-User: Jos\u00e9 \u2713\r\nConnection: close\r\n\r\n"
          .getBytes(StandardCharsets.UTF_8));
      out.flush();
      InputStream in = s.getInputStream();
      ByteArrayOutputStream all = new ByteArrayOutputStream();
      in.transferTo(all);
      reply = all.toString(StandardCharsets.UTF_8);
    }

    assertThat(reply).startsWith("HTTP/1.1 200 ");
    assertThat(reply.toLowerCase(java.util.Locale.ROOT)).contains("x-arbiter-user: jos\u00e9 \u2713\r\n");
  }

  @Test
  void headRequestsGetTheStatusWithoutABody() throws Exception {
    start("/check", 1 << 20);

    HttpResponse<String> head = send("HEAD", "/check/admin", null);

    assertThat(head.statusCode()).isEqualTo(403);
    assertThat(head.body()).isEmpty();
  }

  @Test
  void closeAnswersChecksInFlightAndRefusesNewOnes() throws Exception {
    start("/check", 1 << 20);
    CompletableFuture<HttpResponse<String>> inFlight =
        client.sendAsync(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/check/slow"))
                .timeout(Duration.ofSeconds(30)).build(),
            HttpResponse.BodyHandlers.ofString());
    CompletableFuture<CheckResult> pending = gate.pending.poll(30, TimeUnit.SECONDS);
    assertThat(pending).as("the slow check reached its handler").isNotNull();

    CompletableFuture<Void> closing =
        CompletableFuture.runAsync(() -> server.close(Duration.ofSeconds(30)));
    HttpResponse<String> refused;
    do {
      refused = get("/check/echo");
    } while (refused.statusCode() == 200 && !closing.isDone());
    assertThat(refused.statusCode()).isEqualTo(503);
    assertThat(refused.headers().firstValue("connection")).hasValue("close");
    assertThat(closing).isNotDone();

    pending.complete(CheckResult.ok());
    assertThat(inFlight.get(30, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
    closing.get(30, TimeUnit.SECONDS);
    assertThatThrownBy(() -> get("/check/echo")).isInstanceOf(ConnectException.class);
  }

  /** A test adapter named {@code gate}: each check waits for the test to complete its future. */
  private static final class Gate implements Adapter {
    final BlockingQueue<CompletableFuture<CheckResult>> pending = new LinkedBlockingQueue<>();

    @Override
    public String name() {
      return "gate";
    }

    @Override
    public Set<Template> templates() {
      return Set.of(Template.CHECKNOTHING);
    }

    @Override
    public Handler create(Params params, AdapterContext context) {
      params.validate();
      return (CheckHandler) instance -> {
        CompletableFuture<CheckResult> f = new CompletableFuture<>();
        pending.add(f);
        return f;
      };
    }
  }
}
