package io.arbiter.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The HTTP check listener as part of the whole server, and its command-line options. */
class ArbiterServerHttpTest {
  private final HttpClient http = HttpClient.newHttpClient();
  private ArbiterServer server;

  @AfterEach
  void stop() {
    if (server != null) {
      server.close();
    }
  }

  private ArbiterServer start(ArbiterServer.Options options) throws Exception {
    server = ArbiterServer.start(
        options
            .withConfig(new ConfigSource.Files(Path.of("..", "examples", "policy.yaml")))
            .withPorts(0, 0)
            .withHosts("127.0.0.1", "127.0.0.1")
            .withDrainTimeout(Duration.ofSeconds(5)));
    server.whenReady().get(10, TimeUnit.SECONDS);
    return server;
  }

  private HttpResponse<String> get(String path, String... headers) throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.httpPort() + path))
            .timeout(Duration.ofSeconds(10));
    if (headers.length > 0) {
      b.headers(headers);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void servesTheReadmeExamplePolicyOverHttp() throws Exception {
    start(ArbiterServer.Options.defaults().withHttp("127.0.0.1", 0, "/check"));

    HttpResponse<String> blocked = get("/check/", "X-Forwarded-For", "192.0.2.77");
    HttpResponse<String> noUser = get("/check/admin/users", "X-Forwarded-For", "10.0.0.1");
    HttpResponse<String> withUser =
        get("/check/admin/users", "X-Forwarded-For", "10.0.0.1", "X-User", "alice");

    assertThat(blocked.statusCode()).isEqualTo(403);
    assertThat(noUser.statusCode()).isEqualTo(403);
    assertThat(noUser.headers().firstValue("x-arbiter-decision-id")).isPresent();
    assertThat(withUser.statusCode()).isEqualTo(200);
    assertThat(withUser.headers().firstValue("x-arbiter-user")).hasValue("alice");
    assertThat(withUser.headers().firstValue("x-arbiter-matched-rules"))
        .hasValue("block-bad-networks,tag-user");
    String metrics =
        http.send(
                HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + server.adminPort() + "/metrics"))
                    .build(),
                HttpResponse.BodyHandlers.ofString())
            .body();
    assertThat(metrics).contains("arbiter_checks_total{result=\"allow\"} 1");
  }

  @Test
  void theListenerIsOffByDefaultInOptionsAndStopsWithTheServer() throws Exception {
    start(ArbiterServer.Options.defaults());
    assertThat(server.httpPort()).isEqualTo(-1);
    server.close();

    start(ArbiterServer.Options.defaults().withHttp("127.0.0.1", 0, "/check"));
    int port = server.httpPort();
    assertThat(port).isPositive();
    server.close();
    assertThatThrownBy(
            () -> http.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/check/")).build(),
                HttpResponse.BodyHandlers.ofString()))
        .isInstanceOf(ConnectException.class);
  }

  @Test
  void badHttpOptionsAreUsageErrors() {
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8);
    PrintStream out = new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);

    assertThat(Main.run(new String[] {"serve", "--http-port", "-2"}, out, e)).isEqualTo(2);
    assertThat(Main.run(new String[] {"serve", "--http-port", "70000"}, out, e)).isEqualTo(2);
    assertThat(Main.run(new String[] {"serve", "--http-path-prefix", "check"}, out, e)).isEqualTo(2);

    assertThat(err.toString(StandardCharsets.UTF_8))
        .contains("--http-port must be a port number 0..65535, was '-2', or -1 for off")
        .contains("--http-path-prefix: the HTTP check path prefix must start with '/'");
  }
}
