package io.arbiter.engine.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.arbiter.engine.AttributeBag;
import io.arbiter.engine.CheckDecision;
import io.arbiter.engine.PolicyEngine;
import io.arbiter.engine.config.ConfigSnapshot;
import io.arbiter.engine.testing.TestEngines;
import java.util.BitSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class RuleIndexTest {
  private final CelEnvironment cel = new CelEnvironment(1000);

  private String key(String match) throws Exception {
    Object k = RuleIndex.keyOf(cel.compile(match, CelEnvironment.Expect.BOOL));
    return String.valueOf(k);
  }

  @Test
  void indexesEqualityMembershipAndPrefixConjunctsOfStringAttributes() throws Exception {
    assertThat(key("request.path == '/a'")).isEqualTo("Key[attribute=request.path, values=[/a], prefix=false]");
    assertThat(key("'GET' == request.method && request.path.startsWith('/x')"))
        .isEqualTo("Key[attribute=request.method, values=[GET], prefix=false]");
    assertThat(key("request.path.startsWith('/x') && request.method in ['GET', 'HEAD']"))
        .isEqualTo("Key[attribute=request.method, values=[GET, HEAD], prefix=false]");
    assertThat(key("request.path.startsWith('/x') && size(request.headers) > 2"))
        .isEqualTo("Key[attribute=request.path, values=[/x], prefix=true]");
  }

  @Test
  void leavesEverythingElseToEvaluation() throws Exception {
    for (String m : List.of(
        "true",
        "request.path == '/a' || request.method == 'GET'",
        "!(request.path == '/a')",
        "request.headers['x-user'] == 'a'",
        "source.port == 80",
        "request.path == request.host",
        "request.method in ['GET', request.host]")) {
      assertThat(key(m)).as(m).isEqualTo("null");
    }
  }

  private static final String[] PATHS = {"", "/", "/a", "/a/b", "/ab", "/b", "/admin/x"};
  private static final String[] METHODS = {"GET", "POST", "HEAD"};

  private static String randomMatch(Random r) {
    String p = PATHS[r.nextInt(PATHS.length)];
    String m = METHODS[r.nextInt(METHODS.length)];
    return switch (r.nextInt(9)) {
      case 0 -> "request.path == '" + p + "'";
      case 1 -> "request.path.startsWith('" + p + "')";
      case 2 -> "request.method in ['" + m + "', 'HEAD']";
      case 3 -> "'" + p + "' == request.path && request.method == '" + m + "'";
      case 4 -> "request.path.startsWith('" + p + "') && request.headers['x-user'] == 'u'";
      case 5 -> "!(request.path == '" + p + "')";
      case 6 -> "request.path == '" + p + "' || request.method == '" + m + "'";
      case 7 -> "request.headers['x-user'] == 'u' && request.method == '" + m + "'";
      default -> "true";
    };
  }

  /** Random configs and requests: the indexed engine decides exactly as evaluating every rule. */
  @Test
  void decidesExactlyAsEvaluatingEveryRule() {
    Random r = new Random(42);
    for (int config = 0; config < 40; config++) {
      StringBuilder yaml = new StringBuilder("rules:\n");
      int n = 1 + r.nextInt(60);
      for (int i = 0; i < n; i++) {
        yaml.append("  - name: r").append(i).append("\n    match: \"").append(randomMatch(r)).append("\"\n");
        if (r.nextInt(4) == 0) {
          yaml.append("    deny: \"true\"\n");
        } else {
          yaml.append("    requestHeadersToAdd: {x-r: \"'").append(i).append("'\"}\n");
        }
      }
      PolicyEngine indexed = TestEngines.engine(yaml.toString());
      ConfigSnapshot s = indexed.current().orElseThrow();
      PolicyEngine plain = new PolicyEngine(TestEngines.services());
      plain.apply(new ConfigSnapshot(s.version(), s.loadedAt(), s.documents(), s.settings(), s.rules(),
          s.handlers(), s.instanceCount(), new RuleSet(s.checks().rules(), null, s.checks().references()), s.reports(), s.quotas()));
      for (int call = 0; call < 50; call++) {
        AttributeBag.Builder b = AttributeBag.builder()
            .put("request.method", METHODS[r.nextInt(METHODS.length)]);
        String path = PATHS[r.nextInt(PATHS.length)];
        if (!path.isEmpty()) {
          b.put("request.path", path + (r.nextBoolean() ? "" : "/z"));
        }
        if (r.nextBoolean()) {
          b.put("request.headers", Map.of("x-user", r.nextBoolean() ? "u" : "v"));
        }
        AttributeBag bag = b.build();
        CheckDecision a = TestEngines.check(indexed, bag);
        CheckDecision e = TestEngines.check(plain, bag);
        assertThat(a.matchedRules()).as("%s\n%s", yaml, bag).isEqualTo(e.matchedRules());
        assertThat(a.result().code()).isEqualTo(e.result().code());
        assertThat(a.result().requestHeadersToAdd()).isEqualTo(e.result().requestHeadersToAdd());
        assertThat(a.errors().size()).isEqualTo(e.errors().size());
      }
    }
  }

  @Test
  void candidatesCoverExactPrefixAndAlwaysRules() throws Exception {
    List<String> matches = List.of(
        "request.path == '/a'", "request.path.startsWith('/a')", "request.path.startsWith('')",
        "true", "request.path.startsWith('/ab')", "request.method == 'GET'");
    PolicyEngine e = TestEngines.engine(rules(matches));
    RuleIndex index = e.current().orElseThrow().checks().index();
    assertThat(bits(index.candidates(AttributeBag.builder().put("request.path", "/a").build())))
        .isEqualTo("{0, 1, 2, 3}");
    assertThat(bits(index.candidates(AttributeBag.builder().put("request.path", "/abc").put("request.method", "GET").build())))
        .isEqualTo("{1, 2, 3, 4, 5}");
    assertThat(bits(index.candidates(AttributeBag.empty()))).isEqualTo("{2, 3}");
  }

  private static String rules(List<String> matches) {
    StringBuilder b = new StringBuilder("rules:\n");
    for (int i = 0; i < matches.size(); i++) {
      b.append("  - {name: r").append(i).append(", match: \"").append(matches.get(i)).append("\"}\n");
    }
    return b.toString();
  }

  private static String bits(long[] words) {
    return BitSet.valueOf(words).toString();
  }

}
