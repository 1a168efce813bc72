package io.arbiter.server.internal;

import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.arbiter.extauthz.HttpCheckRequest;
import io.arbiter.extauthz.HttpCheckResponse;
import io.arbiter.extauthz.HttpCheckService;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The HTTP-mode check listener (Envoy's {@code http_service}, nginx's {@code auth_request}) on the
 * JDK's HTTP/1.1 server.
 *
 * <p>A request whose path is the prefix, or starts with the prefix followed by {@code /} or {@code
 * ?}, is a check of the original target that follows the prefix ({@code /check/admin?x=1} checks
 * {@code /admin?x=1}; {@code /check} alone checks {@code /}); any method is accepted, since Envoy
 * forwards the original one. Other paths get 404. A body is read up to {@code maxBodyBytes}; a
 * longer one is refused with 413 before any evaluation (the transport's limit, like gRPC's message
 * size; the config's {@code maxBodyBytes} applies below it). Header values are decoded from the
 * wire as UTF-8, and response header values encoded so.
 *
 * <p>Threads: the JDK server's dispatcher accepts and parses; a fixed pool of {@code threads} reads
 * bodies, starts checks and writes answers, so no engine or handler thread ever writes to a socket.
 * Run with {@code -Dsun.net.httpserver.nodelay=true} ({@code Main} sets it): else a denial's body,
 * written after its headers, waits for the peer's delayed ACK on a kept-alive connection.
 *
 * <p>{@link #close(Duration)} drains: checks that arrive meanwhile get 503 with {@code Connection:
 * close} (Envoy treats a 5xx as an error and applies {@code failure_mode_allow}, as it does when
 * gRPC refuses a call), those in flight are answered, for up to the given time, then the listener
 * closes.
 */
public final class HttpCheckServer implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger("arbiter.http");

  private final HttpServer server;
  private final ExecutorService executor;
  /** How long the exchange this thread runs waited for it, in nanoseconds. */
  private static final ThreadLocal<Long> QUEUED = ThreadLocal.withInitial(() -> 0L);
  private final HttpCheckService service;
  private final String prefix;
  private final int maxBodyBytes;
  private final Object lock = new Object();
  private int inFlight;
  private boolean draining;

  /**
   * @param pathPrefix the path under which checks arrive, like Envoy's {@code path_prefix}; {@code
   *     ""} or {@code "/"} makes every path a check
   * @param threads the pool's size; 0 means one per core, at least 2
   */
  public HttpCheckServer(
      InetSocketAddress address, String pathPrefix, HttpCheckService service, int threads,
      int maxBodyBytes)
      throws IOException {
    if (maxBodyBytes < 0 || maxBodyBytes == Integer.MAX_VALUE) {
      throw new IllegalArgumentException("maxBodyBytes must be 0..2^31-2, was " + maxBodyBytes);
    }
    this.prefix = normalizePrefix(pathPrefix);
    this.service = service;
    this.maxBodyBytes = maxBodyBytes;
    this.server = HttpServer.create(address, 128);
    int n = threads > 0 ? threads : Math.max(2, Runtime.getRuntime().availableProcessors());
    AtomicInteger id = new AtomicInteger();
    this.executor =
        new ThreadPoolExecutor(n, n, 60, TimeUnit.SECONDS, new LinkedBlockingQueue<>(), r -> {
          Thread t = new Thread(r, "arbiter-http-" + id.incrementAndGet());
          t.setDaemon(true);
          return t;
        });
    // Each exchange notes how long it waited for a thread, for load shedding (settings.overload).
    server.setExecutor(task -> {
      long queuedAt = System.nanoTime();
      executor.execute(() -> {
        QUEUED.set(System.nanoTime() - queuedAt);
        task.run();
      });
    });
    server.createContext("/", this::handle);
  }

  /**
   * {@code prefix} without trailing slashes; it must start with {@code /} (or be empty).
   *
   * @throws IllegalArgumentException naming the bad prefix
   */
  public static String normalizePrefix(String prefix) {
    String p = prefix;
    while (p.endsWith("/")) {
      p = p.substring(0, p.length() - 1);
    }
    if (!p.isEmpty() && (!p.startsWith("/") || p.contains("?") || p.contains("#"))) {
      throw new IllegalArgumentException(
          "the HTTP check path prefix must start with '/' and hold no '?' or '#', was '" + prefix + "'");
    }
    return p;
  }

  public void start() {
    server.start();
  }

  public int port() {
    return server.getAddress().getPort();
  }

  /** The prefix checks arrive under, normalized: {@code ""} for every path. */
  public String prefix() {
    return prefix;
  }

  private void handle(HttpExchange ex) {
    boolean refuse;
    synchronized (lock) {
      refuse = draining;
      if (!refuse) {
        inFlight++;
      }
    }
    if (refuse) {
      ex.getResponseHeaders().add("Connection", "close");
      send(ex, 503, "shutting down\n");
      return;
    }
    CompletionStage<HttpCheckResponse> answer;
    try {
      String target = checkedTarget(ex.getRequestURI());
      if (target == null) {
        finish(ex, 404, "not found: checks go to " + (prefix.isEmpty() ? "/" : prefix) + "/...\n");
        return;
      }
      byte[] body;
      try (InputStream in = ex.getRequestBody()) {
        body = in.readNBytes(maxBodyBytes + 1);
      }
      if (body.length > maxBodyBytes) {
        ex.getResponseHeaders().add("Connection", "close");
        finish(ex, 413, "request body is larger than the limit of " + maxBodyBytes + " bytes\n");
        return;
      }
      answer =
          service.check(
              new HttpCheckRequest(
                  ex.getRequestMethod(), target, headers(ex.getRequestHeaders()), body,
                  ex.getRemoteAddress()),
              QUEUED.get());
    } catch (IOException | RuntimeException e) {
      LOG.log(System.Logger.Level.DEBUG, "HTTP check failed before evaluation", e);
      finish(ex, e instanceof IOException ? 400 : 500, "cannot read the check request\n");
      return;
    }
    answer.whenCompleteAsync((response, error) -> respond(ex, response, error), this::execute);
  }

  /** Runs on the pool; after {@link #close} (an answer past the drain), on the caller. */
  private void execute(Runnable task) {
    try {
      executor.execute(task);
    } catch (RejectedExecutionException e) {
      task.run();
    }
  }

  /** The original target after the prefix, or null if the path is not under it. */
  private String checkedTarget(URI uri) {
    String path = uri.getRawPath() == null ? "" : uri.getRawPath();
    String rest;
    if (prefix.isEmpty()) {
      rest = path;
    } else if (path.startsWith(prefix)
        && (path.length() == prefix.length() || path.charAt(prefix.length()) == '/')) {
      rest = path.substring(prefix.length());
    } else {
      return null;
    }
    if (rest.isEmpty()) {
      rest = "/";
    }
    String query = uri.getRawQuery();
    return query == null ? rest : rest + "?" + query;
  }

  /** The request headers with values decoded as UTF-8 (the JDK reads header bytes as Latin-1). */
  private static Map<String, List<String>> headers(Headers in) {
    Map<String, List<String>> out = new LinkedHashMap<>(in.size() * 2);
    for (Map.Entry<String, List<String>> e : in.entrySet()) {
      List<String> values = e.getValue().stream().map(HttpCheckServer::fromWire).toList();
      out.put(e.getKey(), values);
    }
    return out;
  }

  private static String fromWire(String latin1) {
    for (int i = 0; i < latin1.length(); i++) {
      if (latin1.charAt(i) >= 0x80) {
        return new String(latin1.getBytes(StandardCharsets.ISO_8859_1), StandardCharsets.UTF_8);
      }
    }
    return latin1;
  }

  private static String toWire(String text) {
    for (int i = 0; i < text.length(); i++) {
      if (text.charAt(i) >= 0x80) {
        return new String(text.getBytes(StandardCharsets.UTF_8), StandardCharsets.ISO_8859_1);
      }
    }
    return text;
  }

  private void respond(HttpExchange ex, HttpCheckResponse response, Throwable error) {
    if (error != null) {
      // HttpCheckService never fails its stage; this is a bug, answered like Envoy's own error.
      LOG.log(System.Logger.Level.ERROR, "HTTP check failed", error);
      finish(ex, 500, "internal error\n");
      return;
    }
    try (ex) {
      Headers out = ex.getResponseHeaders();
      for (HttpCheckResponse.Header h : response.headers()) {
        out.add(h.name(), toWire(h.value()));
      }
      boolean noBody = response.body().length == 0 || ex.getRequestMethod().equals("HEAD");
      ex.sendResponseHeaders(response.status(), noBody ? -1 : response.body().length);
      if (!noBody) {
        try (OutputStream os = ex.getResponseBody()) {
          os.write(response.body());
        }
      }
    } catch (IOException | RuntimeException e) {
      LOG.log(System.Logger.Level.DEBUG, "cannot send an HTTP check's answer (client gone?)", e);
    } finally {
      done();
    }
  }

  /** Answers with plain text and ends the in-flight check. */
  private void finish(HttpExchange ex, int status, String text) {
    try {
      send(ex, status, text);
    } finally {
      done();
    }
  }

  private static void send(HttpExchange ex, int status, String text) {
    try (ex) {
      byte[] body = text.getBytes(StandardCharsets.UTF_8);
      ex.getResponseHeaders().add("Content-Type", "text/plain; charset=utf-8");
      boolean head = ex.getRequestMethod().equals("HEAD");
      ex.sendResponseHeaders(status, head ? -1 : body.length);
      if (!head) {
        try (OutputStream os = ex.getResponseBody()) {
          os.write(body);
        }
      }
    } catch (IOException | RuntimeException e) {
      LOG.log(System.Logger.Level.DEBUG, "cannot send an HTTP answer (client gone?)", e);
    }
  }

  private void done() {
    synchronized (lock) {
      if (--inFlight == 0) {
        lock.notifyAll();
      }
    }
  }

  /**
   * Stops taking checks, answers those in flight for up to {@code drain}, then closes the
   * listener and its threads.
   */
  public void close(Duration drain) {
    long deadline = System.nanoTime() + drain.toNanos();
    synchronized (lock) {
      draining = true;
      try {
        long left;
        while (inFlight > 0 && (left = deadline - System.nanoTime()) > 0) {
          TimeUnit.NANOSECONDS.timedWait(lock, left);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      if (inFlight > 0) {
        LOG.log(System.Logger.Level.WARNING,
            "drain timeout passed; closing the HTTP check listener with {0} checks in flight", inFlight);
      }
    }
    server.stop(0);
    executor.shutdownNow();
  }

  @Override
  public void close() {
    close(Duration.ZERO);
  }
}
