package io.arbiter.server;

import io.arbiter.accesslog.AccessLogs;
import io.arbiter.accesslog.AttributeMapping;
import io.arbiter.accesslog.QueueSettings;
import io.arbiter.engine.EngineServices;
import io.arbiter.engine.PolicyEngine;
import io.arbiter.engine.config.ConfigError;
import io.arbiter.engine.config.ConfigException;
import io.arbiter.engine.config.ConfigSnapshot;
import io.arbiter.engine.spi.Durations;
import io.arbiter.server.internal.HttpCheckServer;
import io.arbiter.server.internal.JsonLogFormatter;
import io.arbiter.server.internal.ShutdownSafeLogManager;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.logging.Level;

/**
 * The command line: {@code serve}, {@code validate}, {@code check}. Exit codes: 0 success (for
 * {@code check}: allowed), 1 invalid config (for {@code check}: denied), 2 bad usage or input.
 */
public final class Main {
  static final String USAGE =
      """
      usage: arbiter <command> [options]

        serve [--config PATH] [--grpc-port N] [--admin-port N] [--grpc-host H] [--admin-host H]
              [--http-port N] [--http-host H] [--http-path-prefix /check]
              [--watch-interval 2s] [--drain-timeout 10s] [--log-level info]
              [--accesslog-queue 20000] [--accesslog-batch 512]
              [--accesslog-overflow DROP_OLDEST|SPILL] [--accesslog-spill-dir DIR]
              [--accesslog-spill-max 1g] [--otlp-mapping FILE] [--inline-calls false]
            Serve Envoy's ext_authz gRPC API (default port 9191), its HTTP mode and nginx's
            auth_request (checks under /check/ on port 9192, 0.0.0.0; --http-port -1 turns it
            off) and the admin HTTP endpoints (/metrics, /healthz, /readyz, /config; default
            127.0.0.1:9901). PATH is a YAML file or a directory of them, watched for changes;
            without it, the embedded default config allows every request and adds
            x-arbiter-decision: allow. The gRPC port also takes Envoy's access logs
            (AccessLogService) and OTLP logs; they queue for the report rules in memory
            (--accesslog-queue entries, dispatched --accesslog-batch at a time); a full queue
            drops its oldest entry, or with SPILL writes to --accesslog-spill-dir (at most
            --accesslog-spill-max bytes). --otlp-mapping names a YAML map of OTLP attribute
            keys to attribute names, applied over the defaults. --inline-calls true decides
            Check and ShouldRateLimit calls on the gRPC event-loop thread that read them instead
            of a worker pool: fewer thread hand-offs, less CPU per call (redisquota's Redis
            round trip stays on that thread too), no queue (so settings.overload.maxQueueTime
            sheds nothing; maxConcurrentChecks still does).

        validate PATH
            Print every error of a config and exit 1, or a one-line summary and exit 0.

        check [--config PATH] --request REQUEST.json
            Decide one Envoy CheckRequest (protobuf JSON; '-' reads stdin) offline and print the
            CheckResponse and the rules that matched, as JSON. Exit 0 if allowed, 1 if denied.

        default-config
            Print the embedded default config, to start your own from.
      """;

  private Main() {}

  public static void main(String[] args) {
    System.setProperty("java.util.logging.manager", ShutdownSafeLogManager.class.getName());
    // The JDK HTTP server drops a request with more than 200 header lines (or 380 KiB of them)
    // without an answer, below the config's default check limits (maxHeaders 512, maxHeaderBytes
    // 256 KiB): raise its bounds so those limits decide, as they do below gRPC's 4 MiB.
    setIfAbsent("sun.net.httpserver.maxReqHeaders", "16384");
    setIfAbsent("sun.net.httpserver.maxReqHeaderSize", String.valueOf(4 * 1024 * 1024));
    // Without TCP_NODELAY, a denial's body, written after its headers, waits for the peer's
    // delayed ACK (~40 ms) on a kept-alive connection.
    setIfAbsent("sun.net.httpserver.nodelay", "true");
    System.exit(run(args, System.out, System.err));
  }

  private static void setIfAbsent(String property, String value) {
    if (System.getProperty(property) == null) {
      System.setProperty(property, value);
    }
  }

  private static boolean bool(Map<String, String> flags, String name, boolean fallback) {
    String v = flags.get(name);
    if (v == null) {
      return fallback;
    }
    return switch (v) {
      case "true" -> true;
      case "false" -> false;
      default -> throw new UsageException("--" + name + " must be true or false, was '" + v + "'");
    };
  }

  /** Runs a command; returns the exit code. {@code serve} returns only after shutdown. */
  static int run(String[] args, PrintStream out, PrintStream err) {
    if (args.length == 0 || Set.of("help", "-h", "--help").contains(args[0])) {
      (args.length == 0 ? err : out).print(USAGE);
      return args.length == 0 ? 2 : 0;
    }
    String command = args[0];
    Map<String, String> flags = new HashMap<>();
    List<String> positional = new ArrayList<>();
    for (int i = 1; i < args.length; i++) {
      String a = args[i];
      if (a.startsWith("--")) {
        String name = a.substring(2);
        String value;
        int eq = name.indexOf('=');
        if (eq >= 0) {
          value = name.substring(eq + 1);
          name = name.substring(0, eq);
        } else if (i + 1 < args.length) {
          value = args[++i];
        } else {
          err.println("arbiter: --" + name + " needs a value");
          return 2;
        }
        flags.put(name, value);
      } else {
        positional.add(a);
      }
    }
    try {
      return switch (command) {
        case "serve" -> serve(flags, positional, err);
        case "validate" -> validate(flags, positional, out, err);
        case "check" -> Check.run(flags, positional, out, err);
        case "default-config" -> {
          out.print(ConfigSource.Embedded.text());
          yield 0;
        }
        default -> {
          err.println("arbiter: unknown command '" + command + "'");
          err.print(USAGE);
          yield 2;
        }
      };
    } catch (UsageException e) {
      err.println("arbiter " + command + ": " + e.getMessage());
      return 2;
    }
  }

  /** A command-line mistake: printed with the command's name, exit code 2. */
  static final class UsageException extends RuntimeException {
    UsageException(String message) {
      super(message);
    }
  }

  static void allowOnly(Map<String, String> flags, String... known) {
    for (String f : flags.keySet()) {
      if (!List.of(known).contains(f)) {
        throw new UsageException("unknown option --" + f + " (known: --" + String.join(", --", known) + ")");
      }
    }
  }

  static ConfigSource configSource(String path) {
    return path == null ? new ConfigSource.Embedded() : new ConfigSource.Files(Path.of(path));
  }

  private static int port(Map<String, String> flags, String name, int defaultValue) {
    String v = flags.get(name);
    if (v == null) {
      return defaultValue;
    }
    try {
      int p = Integer.parseInt(v);
      if (p < 0 || p > 65535) {
        throw new NumberFormatException();
      }
      return p;
    } catch (NumberFormatException e) {
      throw new UsageException("--" + name + " must be a port number 0..65535, was '" + v + "'");
    }
  }

  /** The HTTP check port: a port number, or -1 for off. */
  private static int httpPort(Map<String, String> flags) {
    if ("-1".equals(flags.get("http-port"))) {
      return -1;
    }
    try {
      return port(flags, "http-port", ArbiterServer.DEFAULT_HTTP_PORT);
    } catch (UsageException e) {
      throw new UsageException(e.getMessage() + ", or -1 for off");
    }
  }

  private static String pathPrefix(Map<String, String> flags, String defaultValue) {
    String v = flags.getOrDefault("http-path-prefix", defaultValue);
    try {
      return HttpCheckServer.normalizePrefix(v);
    } catch (IllegalArgumentException e) {
      throw new UsageException("--http-path-prefix: " + e.getMessage());
    }
  }

  private static Duration duration(Map<String, String> flags, String name, Duration defaultValue) {
    String v = flags.get(name);
    try {
      return v == null ? defaultValue : Durations.parse(v);
    } catch (IllegalArgumentException e) {
      throw new UsageException("--" + name + ": " + e.getMessage());
    }
  }

  private static int serve(Map<String, String> flags, List<String> positional, PrintStream err) {
    allowOnly(flags, "config", "grpc-port", "admin-port", "grpc-host", "admin-host",
        "http-port", "http-host", "http-path-prefix", "watch-interval", "drain-timeout", "log-level",
        "accesslog-queue", "accesslog-batch", "accesslog-overflow", "accesslog-spill-dir",
        "accesslog-spill-max", "otlp-mapping", "inline-calls");
    if (!positional.isEmpty()) {
      throw new UsageException("unexpected argument '" + positional.get(0) + "' (use --config PATH)");
    }
    Level level =
        switch (flags.getOrDefault("log-level", "info").toLowerCase(java.util.Locale.ROOT)) {
          case "debug" -> Level.FINE;
          case "info" -> Level.INFO;
          case "warn", "warning" -> Level.WARNING;
          case "error" -> Level.SEVERE;
          default -> throw new UsageException("--log-level must be debug, info, warn or error");
        };
    JsonLogFormatter.install(level);
    ArbiterServer.Options defaults = ArbiterServer.Options.defaults();
    ArbiterServer.Options options =
        defaults
            .withConfig(configSource(flags.get("config")))
            .withPorts(port(flags, "grpc-port", defaults.grpcPort()), port(flags, "admin-port", defaults.adminPort()))
            .withHosts(flags.getOrDefault("grpc-host", defaults.grpcHost()), flags.getOrDefault("admin-host", defaults.adminHost()))
            .withHttp(flags.getOrDefault("http-host", defaults.httpHost()), httpPort(flags), pathPrefix(flags, defaults.httpPathPrefix()))
            .withWatchInterval(duration(flags, "watch-interval", defaults.watchInterval()))
            .withDrainTimeout(duration(flags, "drain-timeout", defaults.drainTimeout()))
            .withInlineCalls(bool(flags, "inline-calls", defaults.inlineCalls()));
    AccessLogs.Options accessLogs = accessLogOptions(flags);
    ArbiterServer server;
    try {
      server = ArbiterServer.start(options, accessLogs);
    } catch (ConfigException e) {
      err.println("arbiter serve: the config " + options.config() + " is invalid:");
      printErrors(e, err);
      return 1;
    } catch (java.io.IOException e) {
      err.println("arbiter serve: cannot start: " + e.getMessage()); // a port, or the spill dir
      return 2;
    }
    Runtime.getRuntime().addShutdownHook(new Thread(server::close, "arbiter-shutdown"));
    try {
      server.awaitTermination();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return 0;
  }

  /** The access-log queue and OTLP mapping options of {@code serve}. */
  static AccessLogs.Options accessLogOptions(Map<String, String> flags) {
    QueueSettings q = QueueSettings.DEFAULT;
    try {
      q = q.withCapacity(positive(flags, "accesslog-queue", q.capacity()))
          .withBatchSize(positive(flags, "accesslog-batch", q.batchSize()));
      String overflow = flags.getOrDefault("accesslog-overflow", q.overflow().name());
      QueueSettings.Overflow policy;
      try {
        policy = QueueSettings.Overflow.valueOf(overflow.toUpperCase(java.util.Locale.ROOT));
      } catch (IllegalArgumentException e) {
        throw new UsageException("--accesslog-overflow must be DROP_OLDEST or SPILL, was '" + overflow + "'");
      }
      String dir = flags.get("accesslog-spill-dir");
      if (policy == QueueSettings.Overflow.SPILL && dir == null) {
        throw new UsageException("--accesslog-overflow SPILL needs --accesslog-spill-dir DIR");
      }
      if (policy != QueueSettings.Overflow.SPILL
          && (dir != null || flags.containsKey("accesslog-spill-max"))) {
        throw new UsageException("--accesslog-spill-dir and --accesslog-spill-max need"
            + " --accesslog-overflow SPILL");
      }
      q = q.withOverflow(policy, dir == null ? null : Path.of(dir));
      if (flags.containsKey("accesslog-spill-max")) {
        q = q.withSpillMaxBytes(bytes(flags, "accesslog-spill-max"));
      }
    } catch (IllegalArgumentException e) {
      throw new UsageException(e.getMessage());
    }
    AttributeMapping mapping = AttributeMapping.defaults();
    String file = flags.get("otlp-mapping");
    if (file != null) {
      try {
        mapping = AttributeMapping.load(Path.of(file));
      } catch (java.io.IOException e) {
        throw new UsageException("--otlp-mapping: cannot read " + file + ": " + e.getMessage());
      } catch (IllegalArgumentException e) {
        throw new UsageException("--otlp-mapping: " + e.getMessage());
      }
    }
    return new AccessLogs.Options(q, mapping);
  }

  private static int positive(Map<String, String> flags, String name, int defaultValue) {
    String v = flags.get(name);
    if (v == null) {
      return defaultValue;
    }
    try {
      int n = Integer.parseInt(v.replace("_", ""));
      if (n < 1) {
        throw new NumberFormatException();
      }
      return n;
    } catch (NumberFormatException e) {
      throw new UsageException("--" + name + " must be a positive number, was '" + v + "'");
    }
  }

  /** A byte count: a number with an optional k, m or g (powers of 1024). */
  private static long bytes(Map<String, String> flags, String name) {
    String v = flags.get(name).strip().toLowerCase(java.util.Locale.ROOT);
    long unit = 1;
    if (v.endsWith("k") || v.endsWith("m") || v.endsWith("g")) {
      unit = switch (v.charAt(v.length() - 1)) {
        case 'k' -> 1024L;
        case 'm' -> 1024L * 1024;
        default -> 1024L * 1024 * 1024;
      };
      v = v.substring(0, v.length() - 1);
    }
    try {
      return Math.multiplyExact(Long.parseLong(v), unit);
    } catch (NumberFormatException | ArithmeticException e) {
      throw new UsageException("--" + name + " must be a byte count like 512m or 2g, was '"
          + flags.get(name) + "'");
    }
  }

  private static int validate(
      Map<String, String> flags, List<String> positional, PrintStream out, PrintStream err) {
    allowOnly(flags);
    if (positional.size() != 1) {
      throw new UsageException("needs exactly one config file or directory");
    }
    JsonLogFormatter.install(Level.WARNING);
    try (EngineServices services = EngineServices.defaults()) {
      PolicyEngine engine = new PolicyEngine(services);
      ConfigSnapshot s = engine.compile(new ConfigSource.Files(Path.of(positional.get(0))).read());
      out.println("ok: " + s.summary());
      engine.discard(s);
      return 0;
    } catch (ConfigException e) {
      printErrors(e, out);
      return 1;
    }
  }

  static void printErrors(ConfigException e, PrintStream out) {
    for (ConfigError error : e.errors()) {
      out.println(error);
    }
    out.println(e.errors().size() + (e.errors().size() == 1 ? " error" : " errors"));
  }
}
