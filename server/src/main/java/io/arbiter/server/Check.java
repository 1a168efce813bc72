package io.arbiter.server;

import com.google.protobuf.InvalidProtocolBufferException;
import io.arbiter.engine.CheckDecision;
import io.arbiter.engine.EngineServices;
import io.arbiter.engine.PolicyEngine;
import io.arbiter.engine.config.ConfigException;
import io.arbiter.engine.config.ConfigSnapshot;
import io.arbiter.extauthz.CheckResponses;
import io.arbiter.server.internal.Json;
import io.arbiter.server.internal.JsonLogFormatter;
import io.envoyproxy.envoy.service.auth.v3.CheckRequest;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;

/** {@code arbiter check}: the operator's dry run of one CheckRequest against a config. */
final class Check {
  private Check() {}

  static int run(Map<String, String> flags, List<String> positional, PrintStream out, PrintStream err) {
    Main.allowOnly(flags, "config", "request");
    if (!positional.isEmpty()) {
      throw new Main.UsageException("unexpected argument '" + positional.get(0) + "'");
    }
    String requestPath = flags.get("request");
    if (requestPath == null) {
      throw new Main.UsageException("needs --request REQUEST.json (or --request - for stdin)");
    }
    JsonLogFormatter.install(Level.WARNING);
    CheckRequest request;
    try {
      String json = requestPath.equals("-")
          ? new String(System.in.readAllBytes(), StandardCharsets.UTF_8)
          : Files.readString(Path.of(requestPath));
      request = CheckResponses.parseRequest(json);
    } catch (InvalidProtocolBufferException e) {
      err.println("arbiter check: " + requestPath + " is not an envoy.service.auth.v3.CheckRequest in protobuf JSON: " + e.getMessage());
      return 2;
    } catch (IOException e) {
      err.println("arbiter check: cannot read " + requestPath + ": " + e);
      return 2;
    }
    ConfigSource source = Main.configSource(flags.get("config"));
    try (EngineServices services = EngineServices.defaults()) {
      PolicyEngine engine = new PolicyEngine(services);
      ConfigSnapshot snapshot;
      try {
        snapshot = engine.compile(source.read());
      } catch (ConfigException e) {
        err.println("arbiter check: the config " + source + " is invalid:");
        Main.printErrors(e, err);
        return 2;
      }
      engine.apply(snapshot);
      // Lists fetched over HTTP load in the background: give them a moment, as the server would.
      snapshot.initialized().completeOnTimeout(null, 10, TimeUnit.SECONDS).join();
      CheckResponses.Outcome outcome = CheckResponses.check(engine, request);
      CheckDecision d = outcome.decision();
      out.println("{");
      out.println("  \"allowed\": " + d.result().allowed() + ",");
      out.println("  \"decisionId\": " + Json.quote(d.id()) + ",");
      out.println("  \"configVersion\": " + Json.quote(d.configVersion()) + ",");
      out.println("  \"matchedRules\": " + Json.array(d.matchedRules()) + ",");
      out.println("  \"errors\": " + Json.array(d.errors()) + ",");
      out.println("  \"checkResponse\": " + CheckResponses.toJson(outcome.response()).replace("\n", "\n  "));
      out.println("}");
      engine.close();
      return d.result().allowed() ? 0 : 1;
    }
  }
}
