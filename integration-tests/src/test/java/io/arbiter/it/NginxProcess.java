package io.arbiter.it;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A real nginx, run by a test as the current user with everything under its own prefix directory:
 * {@code daemon off}, its pid file, error and access logs and every temp path inside the prefix,
 * so it needs no root and touches nothing of the machine's nginx. Stopped with SIGTERM (nginx's fast
 * shutdown, which also stops its workers), killed if that does not work.
 */
final class NginxProcess implements AutoCloseable {
  private static final List<Path> CANDIDATES =
      List.of(Path.of("/usr/sbin/nginx"), Path.of("/usr/local/sbin/nginx"),
          Path.of("/usr/local/nginx/sbin/nginx"), Path.of("/opt/homebrew/bin/nginx"));

  private final Process process;
  private final Path prefix;
  final int port;

  private NginxProcess(Process process, Path prefix, int port) {
    this.process = process;
    this.prefix = prefix;
    this.port = port;
  }

  /** The nginx binary on the PATH or in a usual place, or null. */
  static Path binary() {
    String path = System.getenv("PATH");
    List<Path> candidates = new ArrayList<>();
    if (path != null) {
      for (String dir : path.split(java.io.File.pathSeparator)) {
        if (!dir.isEmpty()) {
          candidates.add(Path.of(dir, "nginx"));
        }
      }
    }
    candidates.addAll(CANDIDATES);
    for (Path p : candidates) {
      if (Files.isRegularFile(p) && Files.isExecutable(p)) {
        return p;
      }
    }
    return null;
  }

  /**
   * Why this machine cannot run the test's nginx ({@code apt-get install nginx}), or null if it can:
   * the binary must exist and have the {@code auth_request} module.
   */
  static String unavailableReason() {
    Path nginx = binary();
    if (nginx == null) {
      return "nginx is not installed (apt-get install -y nginx)";
    }
    String v = version(nginx);
    if (!v.contains("--with-http_auth_request_module")) {
      return nginx + " was built without --with-http_auth_request_module: " + v.lines().findFirst().orElse("");
    }
    return null;
  }

  /** What {@code nginx -V} prints (on stderr). */
  static String version(Path nginx) {
    try {
      Process p = new ProcessBuilder(nginx.toString(), "-V").redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
      p.waitFor(10, TimeUnit.SECONDS);
      return out;
    } catch (IOException e) {
      return "cannot run " + nginx + " -V: " + e;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "interrupted";
    }
  }

  /**
   * The main part of a config for {@code prefix}: process settings, logs and temp paths in the
   * prefix, and an {@code http} block holding {@code httpBody} (server blocks).
   */
  static String config(Path prefix, String httpBody) {
    Path tmp = prefix.resolve("tmp");
    Path logs = prefix.resolve("logs");
    // As root, nginx would run its workers as "nobody", who may not reach this directory.
    String user = "root".equals(System.getProperty("user.name")) ? "user root;\n" : "";
    return user
        + "daemon off;\n"
        + "worker_processes 1;\n"
        + "pid " + prefix.resolve("nginx.pid") + ";\n"
        + "error_log " + logs.resolve("error.log") + " info;\n"
        + "events { worker_connections 128; }\n"
        + "http {\n"
        + "  access_log " + logs.resolve("access.log") + ";\n"
        + "  client_body_temp_path " + tmp.resolve("client_body") + ";\n"
        + "  proxy_temp_path " + tmp.resolve("proxy") + ";\n"
        + "  fastcgi_temp_path " + tmp.resolve("fastcgi") + ";\n"
        + "  uwsgi_temp_path " + tmp.resolve("uwsgi") + ";\n"
        + "  scgi_temp_path " + tmp.resolve("scgi") + ";\n"
        + httpBody
        + "}\n";
  }

  /**
   * Writes {@code conf} to {@code prefix/conf/nginx.conf}, starts nginx on it, and waits until it
   * accepts connections on {@code port} (which the config must listen on).
   */
  static NginxProcess start(Path prefix, String conf, int port) throws Exception {
    Path nginx = binary();
    if (nginx == null) {
      throw new IllegalStateException("nginx is not installed");
    }
    Files.createDirectories(prefix.resolve("conf"));
    Files.createDirectories(prefix.resolve("logs"));
    for (String log : List.of("error.log", "access.log", "stdout.log")) {
      Files.deleteIfExists(prefix.resolve("logs").resolve(log)); // from an earlier run
    }
    Files.createDirectories(prefix.resolve("tmp"));
    Path confFile = prefix.resolve("conf").resolve("nginx.conf");
    Files.writeString(confFile, conf);
    List<String> cmd = new ArrayList<>(List.of(nginx.toString(), "-p", prefix + "/", "-c", confFile.toString()));
    if (supportsErrorLogFlag(nginx)) {
      // Else nginx writes its first messages to the compiled-in log before reading the config.
      cmd.addAll(List.of("-e", prefix.resolve("logs").resolve("error.log").toString()));
    }
    Process p =
        new ProcessBuilder(cmd)
            .redirectErrorStream(true)
            .redirectOutput(prefix.resolve("logs").resolve("stdout.log").toFile())
            .start();
    NginxProcess np = new NginxProcess(p, prefix, port);
    try {
      np.awaitListening(Duration.ofSeconds(30));
    } catch (Exception e) {
      np.close();
      throw new IllegalStateException("nginx did not start; " + np.logs(), e);
    }
    return np;
  }

  /** {@code -e} (the error log used before the config is read) exists since nginx 1.19.5. */
  private static boolean supportsErrorLogFlag(Path nginx) {
    Matcher m = Pattern.compile("nginx/(\\d+)\\.(\\d+)\\.(\\d+)").matcher(version(nginx));
    if (!m.find()) {
      return false;
    }
    int major = Integer.parseInt(m.group(1));
    int minor = Integer.parseInt(m.group(2));
    int patch = Integer.parseInt(m.group(3));
    return major > 1 || (major == 1 && (minor > 19 || (minor == 19 && patch >= 5)));
  }

  private void awaitListening(Duration timeout) throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new IllegalStateException("nginx exited with " + process.exitValue());
      }
      try (Socket s = new Socket()) {
        s.connect(new InetSocketAddress("127.0.0.1", port), 1000);
        return;
      } catch (IOException e) {
        Thread.sleep(50);
      }
    }
    throw new IllegalStateException("nginx not listening on " + port + " within " + timeout);
  }

  /** The error log and what nginx printed, for a failing test's message. */
  String logs() {
    StringBuilder b = new StringBuilder();
    for (String name : List.of("error.log", "stdout.log")) {
      Path log = prefix.resolve("logs").resolve(name);
      b.append("--- nginx ").append(name).append(":\n");
      try {
        b.append(Files.exists(log) ? Files.readString(log) : "(none)\n");
      } catch (IOException e) {
        b.append("(cannot read: ").append(e).append(")\n");
      }
    }
    return b.toString();
  }

  @Override
  public void close() throws InterruptedException {
    process.destroy();
    if (!process.waitFor(15, TimeUnit.SECONDS)) {
      process.descendants().forEach(ProcessHandle::destroyForcibly); // the workers
      process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
    }
  }
}
