package io.arbiter.it;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real {@code redis-server} on a free loopback port, without persistence, that the test starts,
 * stops and restarts (on the same port). Its output goes to a log under {@code target/it-logs}.
 */
final class RedisProcess implements AutoCloseable {
  private final int port;
  private final Path log;
  private Process process;

  private RedisProcess(int port, Path log) {
    this.port = port;
    this.log = log;
  }

  /** Why redis-server cannot run here, or null if it can. */
  static String unavailableReason() {
    String path = System.getenv("PATH");
    for (String dir : (path == null ? "" : path).split(File.pathSeparator)) {
      if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, "redis-server"))) {
        return null;
      }
    }
    if (Files.isExecutable(Path.of("/usr/bin/redis-server"))) {
      return null;
    }
    return "redis-server is not installed (Debian: apt-get install -y redis-server)";
  }

  static RedisProcess start() throws Exception {
    Path logDir = Path.of("target", "it-logs");
    Files.createDirectories(logDir);
    RedisProcess r =
        new RedisProcess(ArbiterProcess.freePort(), Files.createTempFile(logDir, "redis-", ".log"));
    r.startProcess();
    return r;
  }

  int port() {
    return port;
  }

  String url() {
    return "redis://127.0.0.1:" + port;
  }

  void stop() throws InterruptedException {
    if (process == null) {
      return;
    }
    process.destroy();
    if (!process.waitFor(10, TimeUnit.SECONDS)) {
      process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
    process = null;
  }

  /** Starts it again on the same port, empty. */
  void restart() throws Exception {
    stop();
    startProcess();
  }

  /**
   * How many times Redis ran {@code command} since it started (or since {@code CONFIG RESETSTAT}):
   * {@code calls} of {@code cmdstat_<command>} in {@code INFO commandstats}, 0 if never.
   */
  long commandCalls(String command) throws Exception {
    for (String line : redisCli("INFO", "commandstats").lines().toList()) {
      if (line.startsWith("cmdstat_" + command + ":")) {
        for (String field : line.substring(line.indexOf(':') + 1).split(",")) {
          if (field.startsWith("calls=")) {
            return Long.parseLong(field.substring("calls=".length()).trim());
          }
        }
      }
    }
    return 0;
  }

  /** Runs {@code redis-cli} against this server; its trimmed output. */
  String redisCli(String... args) throws Exception {
    List<String> cmd = new java.util.ArrayList<>(
        List.of("redis-cli", "-h", "127.0.0.1", "-p", Integer.toString(port)));
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
    if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IOException("redis-cli " + List.of(args) + " failed: " + out);
    }
    return out;
  }

  @Override
  public void close() throws InterruptedException {
    stop();
  }

  private void startProcess() throws Exception {
    process = new ProcessBuilder(List.of(
            "redis-server", "--port", Integer.toString(port), "--bind", "127.0.0.1",
            "--save", "", "--appendonly", "no"))
        .redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
        .start();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new IOException("redis-server exited: " + Files.readString(log));
      }
      if (answersPing()) {
        return;
      }
      Thread.sleep(20);
    }
    throw new IOException("redis-server did not answer within 10 s: " + Files.readString(log));
  }

  private boolean answersPing() {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 200);
      s.setSoTimeout(500);
      OutputStream out = s.getOutputStream();
      out.write("PING\r\n".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      InputStream in = s.getInputStream();
      byte[] buf = new byte[16];
      int n = in.read(buf);
      return n > 0 && new String(buf, 0, n, StandardCharsets.US_ASCII).startsWith("+PONG");
    } catch (IOException e) {
      return false;
    }
  }
}
