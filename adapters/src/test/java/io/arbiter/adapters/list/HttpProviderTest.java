package io.arbiter.adapters.list;

import static io.arbiter.adapters.testing.Stages.failure;
import static io.arbiter.adapters.testing.Stages.value;
import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.arbiter.engine.testing.MutableClock;
import io.arbiter.adapters.testing.TestContext;
import io.arbiter.engine.metrics.Metrics;
import io.arbiter.engine.spi.Instance;
import io.arbiter.engine.spi.Params;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.System.Logger.Level;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** An HTTP provider, against a real server on a loopback port. */
class HttpProviderTest {
  private static final String SUCCESSES =
      "arbiter_list_refreshes_total{handler=\"acl\",result=\"success\"}";
  private static final String FAILURES =
      "arbiter_list_refreshes_total{handler=\"acl\",result=\"failure\"}";

  /** What the server does with one request. */
  private interface Responder {
    void respond(HttpExchange exchange) throws IOException, InterruptedException;
  }

  private final AtomicReference<Responder> responder = new AtomicReference<>();
  private final AtomicInteger requests = new AtomicInteger();
  private final CountDownLatch release = new CountDownLatch(1);
  private ExecutorService serverThreads;
  private HttpServer server;
  private ScheduledThreadPoolExecutor scheduler;
  private HttpClient client;
  private TestContext ctx;
  private String url;

  @BeforeEach
  void setUp() throws IOException {
    serverThreads = Executors.newCachedThreadPool();
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.setExecutor(serverThreads);
    server.createContext(
        "/list",
        exchange -> {
          requests.incrementAndGet();
          try {
            responder.get().respond(exchange);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          } finally {
            exchange.close();
          }
        });
    server.start();
    url = "http://127.0.0.1:" + server.getAddress().getPort() + "/list";
    scheduler = new ScheduledThreadPoolExecutor(1);
    scheduler.setRemoveOnCancelPolicy(true);
    client = HttpClient.newHttpClient();
    ctx =
        new TestContext("acl", Path.of("."), new MutableClock(), scheduler, client, new Metrics());
  }

  @AfterEach
  void tearDown() {
    release.countDown();
    server.stop(0);
    serverThreads.shutdownNow();
    scheduler.shutdownNow();
  }

  private static Responder ok(String body) {
    return exchange -> {
      byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
      exchange.sendResponseHeaders(200, bytes.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(bytes);
      }
    };
  }

  private static Responder chunked(String body) {
    return exchange -> {
      exchange.sendResponseHeaders(200, 0);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(body.getBytes(StandardCharsets.UTF_8));
      }
    };
  }

  private static Responder status(int code) {
    return exchange -> exchange.sendResponseHeaders(code, -1);
  }

  /** Sends nothing until the test releases it, then answers with {@code then}. */
  private Responder hang(Responder then) {
    return exchange -> {
      release.await();
      then.respond(exchange);
    };
  }

  /** Sends headers and part of the body, then stalls until the test ends. */
  private Responder stallBody() {
    return exchange -> {
      exchange.sendResponseHeaders(200, 100);
      OutputStream out = exchange.getResponseBody();
      out.write("alice\nbo".getBytes(StandardCharsets.UTF_8));
      out.flush();
      release.await();
    };
  }

  private ListHandler handler(Map<String, Object> extra) {
    Map<String, Object> params = new HashMap<>();
    params.put("providerUrl", url);
    params.put("refreshInterval", "1h");
    params.put("ttl", "2h");
    params.put("fetchTimeout", "200ms");
    params.putAll(extra);
    return (ListHandler) new ListAdapter().create(new Params(params), ctx);
  }

  private boolean allowed(ListHandler h, String value) {
    return value(h.check(new Instance.ListEntry("v", value))).allowed();
  }

  private ListHandler loaded(String body, Map<String, Object> extra) {
    responder.set(ok(body));
    ListHandler h = handler(extra);
    value(h.initialized());
    return h;
  }

  @Test
  void loadsTheListAndSchedulesTheNextRefresh() {
    ListHandler h =
        loaded("# from http\nalice\r\nbob\n", Map.of("entries", java.util.List.of("x")));

    assertThat(allowed(h, "alice")).isTrue();
    assertThat(allowed(h, "bob")).isTrue();
    assertThat(allowed(h, "x")).isTrue();
    assertThat(allowed(h, "carol")).isFalse();
    assertThat(ctx.counter(SUCCESSES)).isEqualTo(1);
    assertThat(ctx.gauge("arbiter_list_entries{handler=\"acl\"}")).isEqualTo(3);
    assertThat(scheduler.getQueue())
        .singleElement()
        .satisfies(
            t ->
                assertThat(((java.util.concurrent.Delayed) t).getDelay(TimeUnit.MINUTES))
                    .isGreaterThan(50));
  }

  @Test
  void checksFailUntilTheFirstFetchEnds() {
    responder.set(hang(ok("alice\n")));
    ListHandler h = handler(Map.of("fetchTimeout", "30s"));

    assertThat(failure(h.check(new Instance.ListEntry("v", "alice"))))
        .isInstanceOf(ListUnavailableException.class)
        .hasMessage("list 'acl' not loaded yet: the first fetch from " + url + " has not ended");
    assertThat(h.initialized().toCompletableFuture()).isNotDone();

    release.countDown();
    value(h.initialized());

    assertThat(allowed(h, "alice")).isTrue();
  }

  @Test
  void aFailedFirstFetchCompletesInitializationAndChecksFailWithTheReason() {
    responder.set(status(503));
    ListHandler h = handler(Map.of());
    value(h.initialized());

    assertThat(failure(h.check(new Instance.ListEntry("v", "alice"))))
        .isInstanceOf(ListUnavailableException.class)
        .hasMessage("list 'acl' not loaded yet: HTTP 503 from " + url);
    assertThat(ctx.counter(FAILURES)).isEqualTo(1);
    assertThat(ctx.gauge("arbiter_list_entries{handler=\"acl\"}")).isEqualTo(0);

    responder.set(ok("alice\n"));
    value(h.refresh());
    assertThat(allowed(h, "alice")).isTrue();
  }

  @Test
  void serverErrorKeepsTheLastGoodListAndRecovers() {
    ListHandler h = loaded("alice\n", Map.of());

    responder.set(status(500));
    value(h.refresh());

    assertThat(allowed(h, "alice")).isTrue();
    assertThat(ctx.counter(FAILURES)).isEqualTo(1);
    assertThat(ctx.logger().messages(Level.WARNING))
        .singleElement()
        .satisfies(m -> assertThat(m).contains("keeping the list loaded at").contains("HTTP 500"));

    responder.set(ok("bob\n"));
    value(h.refresh());

    assertThat(allowed(h, "bob")).isTrue();
    assertThat(allowed(h, "alice")).isFalse();
    assertThat(ctx.counter(SUCCESSES)).isEqualTo(2);
  }

  @Test
  void aServerThatDoesNotAnswerTimesOutAndTheLastGoodListIsKept() {
    ListHandler h = loaded("alice\n", Map.of());

    responder.set(hang(ok("bob\n")));
    value(h.refresh());

    assertThat(ctx.counter(FAILURES)).isEqualTo(1);
    assertThat(allowed(h, "alice")).isTrue();
    assertThat(allowed(h, "bob")).isFalse();
    assertThat(ctx.logger().messages(Level.WARNING))
        .singleElement()
        .satisfies(
            m -> assertThat(m).contains("no complete response from " + url + " within 200ms"));

    responder.set(ok("bob\n"));
    value(h.refresh());
    assertThat(allowed(h, "bob")).isTrue();
  }

  @Test
  void aBodyThatStallsIsCutOffByTheFetchTimeout() {
    ListHandler h = loaded("alice\n", Map.of());

    responder.set(stallBody());
    value(h.refresh());

    assertThat(ctx.counter(FAILURES)).isEqualTo(1);
    assertThat(allowed(h, "alice")).isTrue();
    assertThat(ctx.logger().messages(Level.WARNING))
        .singleElement()
        .satisfies(
            m -> assertThat(m).contains("no complete response from " + url + " within 200ms"));
  }

  @Test
  void bodiesOverMaxBytesFail() {
    ListHandler h = loaded("alice\n", Map.of("maxBytes", 64));
    String big = "entry\n".repeat(100);

    responder.set(ok(big));
    value(h.refresh());
    responder.set(chunked(big));
    value(h.refresh());

    assertThat(ctx.counter(FAILURES)).isEqualTo(2);
    assertThat(allowed(h, "alice")).isTrue();
    assertThat(allowed(h, "entry")).isFalse();
    assertThat(ctx.logger().messages(Level.WARNING))
        .satisfiesExactly(
            m -> assertThat(m).contains("is 600 bytes, more than maxBytes 64"),
            m -> assertThat(m).contains("bytes, more than maxBytes 64"));
  }

  @Test
  void listExpiresAfterTtlWhileTheServerFails() {
    ListHandler h = loaded("alice\n", Map.of("refreshInterval", "1m", "ttl", "5m"));

    responder.set(status(404));
    ctx.mutableClock().advance(Duration.ofMinutes(5).plusSeconds(1));
    value(h.refresh());

    assertThat(failure(h.check(new Instance.ListEntry("v", "alice"))))
        .isInstanceOf(ListUnavailableException.class)
        .hasMessageContaining("list 'acl' expired")
        .hasMessageContaining("HTTP 404 from " + url);
  }

  @Test
  void aRefreshInFlightWhenClosedInstallsNothingAndSchedulesNothing() {
    ListHandler h = loaded("alice\n", Map.of("fetchTimeout", "30s"));
    responder.set(hang(ok("zoe\n")));
    int before = requests.get();

    var inFlight = h.refresh();
    h.close();
    release.countDown();
    value(inFlight);

    assertThat(requests.get()).isGreaterThanOrEqualTo(before);
    assertThat(ctx.counter(SUCCESSES)).isEqualTo(1);
    assertThat(ctx.counter(FAILURES)).isZero();
    assertThat(allowed(h, "zoe")).isFalse();
    // The HTTP client runs its own work on this scheduler too (it may still be handling the
    // hanging response just released); what must not be left is a timed task: a refresh or a
    // fetch deadline.
    assertThat(scheduler.getQueue())
        .as("no refresh or deadline left")
        .noneMatch(t -> ((java.util.concurrent.Delayed) t).getDelay(TimeUnit.MILLISECONDS) > 0);
  }
}
