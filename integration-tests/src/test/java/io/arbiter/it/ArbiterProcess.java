package io.arbiter.it;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real Arbiter process ({@code java -jar server/target/arbiter.jar serve ...}) on free loopback
 * ports, started and stopped by a test. Its output goes to a log file under {@code target/} that
 * a failing test can print.
 */
public final class ArbiterProcess implements AutoCloseable {
  private final Process process;
  private final Path log;
  public final int grpcPort;
  public final int adminPort;
  /** The HTTP-mode check port (on all interfaces, the default {@code --http-host}). */
  public final int httpPort;

  private ArbiterProcess(Process process, Path log, int grpcPort, int adminPort, int httpPort) {
    this.process = process;
    this.log = log;
    this.grpcPort = grpcPort;
    this.adminPort = adminPort;
    this.httpPort = httpPort;
  }

  /** The shaded jar the build made (system property {@code arbiter.jar}, set by the pom). */
  public static Path jar() {
    String p = System.getProperty("arbiter.jar", "../server/target/arbiter.jar");
    return Path.of(p).toAbsolutePath().normalize();
  }

  /** The repository root (system property {@code arbiter.root}). */
  public static Path root() {
    return Path.of(System.getProperty("arbiter.root", "..")).toAbsolutePath().normalize();
  }

  /** A port free on loopback right now. */
  public static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      s.setReuseAddress(true);
      return s.getLocalPort();
    }
  }

  /**
   * Starts {@code serve} with {@code config} (null: the embedded default) plus extra arguments,
   * and waits until {@code /readyz} answers 200.
   */
  public static ArbiterProcess start(Path config, String... extraArgs) throws Exception {
    int grpc = freePort();
    int admin = freePort();
    int http = freePort();
    List<String> cmd = new ArrayList<>(List.of(
        javaBin(), "-Xmx256m", "-jar", jar().toString(), "serve",
        "--grpc-host", "127.0.0.1", "--grpc-port", String.valueOf(grpc),
        "--admin-port", String.valueOf(admin), "--http-port", String.valueOf(http)));
    if (config != null) {
      cmd.addAll(List.of("--config", config.toString()));
    }
    cmd.addAll(List.of(extraArgs));
    Path logDir = Path.of("target", "it-logs");
    Files.createDirectories(logDir);
    Path log = Files.createTempFile(logDir, "arbiter-", ".log");
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    ArbiterProcess ap = new ArbiterProcess(p, log, grpc, admin, http);
    try {
      ap.awaitReady(Duration.ofSeconds(60));
    } catch (Exception e) {
      ap.close();
      throw new IllegalStateException("arbiter did not become ready; its log:\n" + ap.log(), e);
    }
    return ap;
  }

  private static String javaBin() {
    return Path.of(System.getProperty("java.home"), "bin", "java").toString();
  }

  private void awaitReady(Duration timeout) throws Exception {
    HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new IllegalStateException("exited with " + process.exitValue());
      }
      try {
        HttpResponse<String> r = client.send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + adminPort + "/readyz"))
                .timeout(Duration.ofSeconds(1)).build(),
            HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() == 200) {
          return;
        }
      } catch (IOException e) {
        // not listening yet
      }
      Thread.sleep(100);
    }
    throw new IllegalStateException("not ready within " + timeout);
  }

  /** GETs an admin path and returns the body. */
  public String admin(String path) throws Exception {
    return HttpClient.newHttpClient().send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + adminPort + path)).build(),
        HttpResponse.BodyHandlers.ofString()).body();
  }

  /** What the process printed so far. */
  public String log() {
    try {
      return Files.readString(log);
    } catch (IOException e) {
      return "(cannot read " + log + ": " + e + ")";
    }
  }

  public boolean isAlive() {
    return process.isAlive();
  }

  /** Stops it with SIGTERM (graceful), then kills it if it is still running after 15 s. */
  @Override
  public void close() throws InterruptedException {
    process.destroy();
    if (!process.waitFor(15, TimeUnit.SECONDS)) {
      process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
    }
  }
}
