package io.arbiter.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The command line: exit codes and what it prints. */
class MainTest {
  @TempDir Path dir;
  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final ByteArrayOutputStream err = new ByteArrayOutputStream();

  private int run(String... args) {
    return Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
  }

  private String out() {
    return out.toString(StandardCharsets.UTF_8);
  }

  @Test
  void validateSummarizesAGoodConfig() {
    assertThat(run("validate", "../examples/policy.yaml")).isEqualTo(0);
    assertThat(out()).matches("ok: config [0-9a-f]{12}: 1 file\\(s\\), 2 handler\\(s\\), 1 instance\\(s\\), 3 rule\\(s\\)\\R");
  }

  @Test
  void validatePrintsEveryErrorOfABadConfig() throws Exception {
    Path bad = dir.resolve("bad.yaml");
    Files.writeString(bad, """
        handlers:
          - {name: l, adapter: list, params: {entryType: IP_ADDRESSES, entries: ["300.1.1.1/8"]}}
        rules:
          - {name: a, match: "request.path.startsWith(1)"}
          - {name: b, actions: [{handler: missing}]}
        """);
    assertThat(run("validate", bad.toString())).isEqualTo(1);
    assertThat(out())
        .contains(bad + ": handler \"l\": params.entries")
        .contains(bad + ": rule \"a\": match: 'request.path.startsWith(1)': column ")
        .contains(bad + ": rule \"b\": actions[0].handler: no handler named 'missing'")
        .endsWith("3 errors\n");
  }

  @Test
  void checkDryRunsARequestAndSaysWhichRulesMatched() {
    assertThat(run("check", "--config", "../examples/policy.yaml", "--request", "../examples/check-admin.json")).isEqualTo(1);
    assertThat(out())
        .contains("\"allowed\": false")
        .contains("\"matchedRules\": [\"block-bad-networks\",\"admin-needs-user\"]")
        .contains("\"deniedResponse\"")
        .contains("\"message\": \"forbidden\"");
    out.reset();
    assertThat(run("check", "--config", "../examples/policy.yaml", "--request", "../examples/check-admin-with-user.json")).isEqualTo(0);
    assertThat(out()).contains("\"allowed\": true").contains("\"x-arbiter-user\"").contains("\"alice\"");
  }

  @Test
  void checkWithoutConfigUsesTheEmbeddedDefault() {
    assertThat(run("check", "--request", "../examples/check-admin.json")).isEqualTo(0);
    assertThat(out()).contains("\"matchedRules\": [\"allow-all\"]").contains("x-arbiter-decision");
  }

  @Test
  void badUsageAndBadInputExitWithTwo() throws Exception {
    assertThat(run()).isEqualTo(2);
    assertThat(run("frobnicate")).isEqualTo(2);
    assertThat(run("serve", "--grpc-port", "99999")).isEqualTo(2);
    assertThat(run("serve", "--colour", "red")).isEqualTo(2);
    assertThat(run("check", "--config", "../examples/policy.yaml")).isEqualTo(2);
    Path notJson = dir.resolve("req.json");
    Files.writeString(notJson, "{\"attributes\": {\"nope\": 1}}");
    assertThat(run("check", "--request", notJson.toString())).isEqualTo(2);
    assertThat(err.toString(StandardCharsets.UTF_8)).contains("is not an envoy.service.auth.v3.CheckRequest");
  }

  @Test
  void serveRefusesAnInvalidConfigWithItsErrors() throws Exception {
    Path bad = dir.resolve("bad.yaml");
    Files.writeString(bad, "rules: [{name: r, match: \"nope\"}]\n");
    assertThat(run("serve", "--config", bad.toString(), "--grpc-port", "0", "--admin-port", "0")).isEqualTo(1);
    assertThat(err.toString(StandardCharsets.UTF_8)).contains("unknown attribute 'nope'");
  }
}
