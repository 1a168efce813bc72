package io.arbiter.server.internal;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.arbiter.engine.PolicyEngine;
import io.arbiter.engine.config.ConfigDocument;
import io.arbiter.engine.config.ConfigSnapshot;
import io.arbiter.engine.metrics.Metrics;
import java.io.IOException;
import java.io.OutputStream;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Supplier;

/**
 * The admin HTTP endpoints, on their own port (loopback by default): {@code /metrics} (Prometheus
 * text), {@code /healthz} (the process is up), {@code /readyz} (a valid config is serving and its
 * handlers finished their first load), {@code /config} (the serving config and its version).
 */
public final class AdminServer implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger("arbiter.admin");

  private final HttpServer server;
  private final ExecutorService executor;
  private final PolicyEngine engine;
  private final Metrics metrics;
  private final Supplier<Optional<String>> notReadyReason;

  /**
   * @param notReadyReason empty when ready, else why not
   */
  public AdminServer(
      InetSocketAddress address,
      PolicyEngine engine,
      Metrics metrics,
      Supplier<Optional<String>> notReadyReason)
      throws IOException {
    this.engine = engine;
    this.metrics = metrics;
    this.notReadyReason = notReadyReason;
    this.server = HttpServer.create(address, 16);
    this.executor =
        Executors.newSingleThreadExecutor(
            r -> {
              Thread t = new Thread(r, "arbiter-admin");
              t.setDaemon(true);
              return t;
            });
    server.setExecutor(executor);
    server.createContext("/metrics", ex -> handle(ex, this::metrics));
    server.createContext("/healthz", ex -> handle(ex, () -> new Reply(200, "text/plain", "ok\n")));
    server.createContext("/readyz", ex -> handle(ex, this::ready));
    server.createContext("/config", ex -> handle(ex, this::config));
    server.createContext("/", ex -> handle(ex, () -> new Reply(404, "text/plain",
        "not found; try /metrics, /healthz, /readyz, /config\n")));
  }

  private record Reply(int status, String contentType, String body) {}

  public void start() {
    server.start();
  }

  public int port() {
    return server.getAddress().getPort();
  }

  private void handle(HttpExchange ex, Supplier<Reply> route) throws IOException {
    try (ex) {
      Reply r;
      String method = ex.getRequestMethod();
      if (!method.equals("GET") && !method.equals("HEAD")) {
        r = new Reply(405, "text/plain", "only GET and HEAD\n");
        ex.getResponseHeaders().add("Allow", "GET, HEAD");
      } else {
        try {
          r = route.get();
        } catch (RuntimeException e) {
          LOG.log(System.Logger.Level.ERROR, "admin " + ex.getRequestURI() + " failed", e);
          r = new Reply(500, "text/plain", "internal error: " + e + "\n");
        }
      }
      byte[] body = r.body.getBytes(StandardCharsets.UTF_8);
      ex.getResponseHeaders().add("Content-Type", r.contentType + "; charset=utf-8");
      if (method.equals("HEAD")) {
        ex.sendResponseHeaders(r.status, -1);
      } else {
        ex.sendResponseHeaders(r.status, body.length);
        try (OutputStream out = ex.getResponseBody()) {
          out.write(body);
        }
      }
    }
  }

  private Reply metrics() {
    StringWriter out = new StringWriter(8192);
    metrics.writePrometheus(out);
    return new Reply(200, "text/plain; version=0.0.4", out.toString());
  }

  private Reply ready() {
    return notReadyReason.get()
        .map(reason -> new Reply(503, "text/plain", "not ready: " + reason + "\n"))
        .orElse(new Reply(200, "text/plain", "ready\n"));
  }

  private Reply config() {
    Optional<ConfigSnapshot> s = engine.current();
    if (s.isEmpty()) {
      return new Reply(503, "application/json", "{\"error\":\"no config loaded\"}\n");
    }
    ConfigSnapshot snap = s.get();
    StringBuilder b = new StringBuilder("{");
    b.append("\"version\":").append(Json.quote(snap.version()));
    b.append(",\"loadedAt\":").append(Json.quote(snap.loadedAt().toString()));
    b.append(",\"summary\":").append(Json.quote(snap.summary()));
    b.append(",\"files\":[");
    boolean first = true;
    for (ConfigDocument d : snap.documents()) {
      b.append(first ? "" : ",").append("{\"name\":").append(Json.quote(d.name()))
          .append(",\"content\":").append(Json.quote(d.text())).append('}');
      first = false;
    }
    return new Reply(200, "application/json", b.append("]}\n").toString());
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
  }
}
