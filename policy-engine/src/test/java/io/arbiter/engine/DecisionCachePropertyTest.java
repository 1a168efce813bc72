package io.arbiter.engine;

import static io.arbiter.engine.testing.TestEngines.compile;
import static org.assertj.core.api.Assertions.assertThat;

import io.arbiter.engine.metrics.Metrics;
import io.arbiter.engine.testing.FakeAdapter;
import io.arbiter.engine.testing.MutableClock;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The cache's contract as a property: for random configs and random calls, a cached engine decides
 * exactly as an engine without the cache (result, directives, matched rules), while still reusing
 * decisions. Calls are drawn from small domains so that both hits and near misses (a call that
 * differs from a cached one in one read attribute, or in its presence) are common.
 */
class DecisionCachePropertyTest {
  private static final String[] PATHS = {"/", "/admin", "/admin/x", "/api/v1", "/api/v2/items", "/public"};
  private static final String[] METHODS = {"GET", "POST", "DELETE"};
  private static final String[] USERS = {"alice", "bob", "mallory", ""};
  private static final String[] ROLES = {"admin", "dev"};
  private static final String[] IPS = {"10.0.0.1", "10.0.0.2", "192.168.1.9"};

  private static <T> T pick(Random r, T[] from) {
    return from[r.nextInt(from.length)];
  }

  private static String condition(Random r) {
    return switch (r.nextInt(12)) {
      case 0 -> "request.path == '" + pick(r, PATHS) + "'";
      case 1 -> "request.path.startsWith('" + pick(r, new String[] {"/admin", "/api", "/"}) + "')";
      case 2 -> "request.method in ['GET', '" + pick(r, METHODS) + "']";
      case 3 -> "'x-user' in request.headers";
      case 4 -> "!('x-user' in request.headers)";
      case 5 -> "request.headers[?'x-role'].orValue('none') == '" + pick(r, ROLES) + "'";
      case 6 -> "has(request.headers.x_debug)";
      case 7 -> "source.ip == '" + pick(r, IPS) + "'";
      case 8 -> "size(request.headers) > " + r.nextInt(3);
      case 9 -> "request.headers.exists(k, k.startsWith('x-r'))";
      case 10 -> "request.headers['x-user'] == '" + pick(r, USERS) + "'"; // errs when absent
      default -> "true";
    };
  }

  private static String match(Random r) {
    int n = 1 + r.nextInt(3);
    StringBuilder s = new StringBuilder(condition(r));
    for (int i = 1; i < n; i++) {
      s.append(r.nextBoolean() ? " && " : " || ").append(condition(r));
    }
    return s.toString();
  }

  private static String config(Random r) {
    StringBuilder y = new StringBuilder(
        """
        handlers:
          - name: users
            adapter: fake
            params: {denyValues: [mallory, "/admin/x"], validUseCount: 3}
          - name: nobody
            adapter: fake
            params: {behavior: deny, validUseCount: 50}
        instances:
          - name: user
            template: listentry
            params: {value: "request.headers[?'x-user'].orValue('anonymous')"}
          - name: path
            template: listentry
            params: {value: "request.path"}
        rules:
        """);
    int rules = 1 + r.nextInt(8);
    for (int i = 0; i < rules; i++) {
      y.append("  - name: r").append(i).append("\n");
      y.append("    match: \"").append(match(r)).append("\"\n");
      switch (r.nextInt(6)) {
        case 0 -> y.append("    allow: \"").append(match(r)).append("\"\n");
        case 1 -> y.append("    deny: \"").append(match(r)).append("\"\n");
        case 2 -> y.append("    actions: [{handler: users, instances: [")
            .append(r.nextBoolean() ? "user" : "path").append("]}]\n");
        case 3 -> y.append("    actions: [{handler: nobody}]\n");
        case 4 -> y.append("    requestHeadersToAdd: {x-seen: \"request.headers[?'x-role'].orValue('') + request.method\"}\n");
        default -> y.append("    responseHeadersToAdd: {x-r: \"'").append(i).append("'\"}\n");
      }
      if (r.nextInt(5) == 0) {
        y.append("    cache: {validUseCount: ").append(r.nextInt(3)).append("}\n");
      }
    }
    return y.toString();
  }

  private static AttributeBag call(Random r, int serial) {
    Map<String, String> headers = new LinkedHashMap<>();
    if (r.nextInt(3) > 0) {
      headers.put("x-user", pick(r, USERS));
    }
    if (r.nextBoolean()) {
      headers.put("x-role", pick(r, ROLES));
    }
    if (r.nextInt(4) == 0) {
      headers.put("x_debug", "1");
    }
    if (r.nextInt(3) == 0) {
      headers.put("x-request-id", Integer.toString(serial)); // read only by whole-map rules
    }
    AttributeBag.Builder b = AttributeBag.builder()
        .put("request.headers", headers)
        .put("request.id", "id-" + serial);
    if (r.nextInt(6) > 0) {
      b.put("request.path", pick(r, PATHS));
    }
    if (r.nextInt(6) > 0) {
      b.put("request.method", pick(r, METHODS));
    }
    if (r.nextBoolean()) {
      b.put("source.ip", pick(r, IPS));
    }
    return b.build();
  }

  private static PolicyEngine engine(String yaml, boolean cached, Metrics metrics) {
    PolicyEngine e = new PolicyEngine(
        EngineServices.create(Map.of("fake", new FakeAdapter()), new MutableClock(), metrics));
    try {
      e.apply(compile(e, cached ? yaml : yaml + "settings:\n  cache: {enabled: false}\n"));
    } catch (Exception ex) {
      throw new AssertionError(yaml, ex);
    }
    return e;
  }

  /** The result with its own decision id (in fail-closed messages) taken out. */
  private static io.arbiter.engine.spi.CheckResult normal(CheckDecision d) {
    io.arbiter.engine.spi.CheckResult r = d.result();
    return new io.arbiter.engine.spi.CheckResult(r.code(), r.message().replace(d.id(), "<id>"),
        r.httpStatus(), r.requestHeadersToAdd(), r.requestHeadersToRemove(), r.responseHeadersToAdd(),
        r.queryParametersToSet(), r.queryParametersToRemove(), r.body(), r.validDuration(),
        r.validUseCount());
  }

  @Test
  void cachedAndUncachedDecisionsAreIdentical() {
    Random r = new Random(20261126);
    long hits = 0;
    long calls = 0;
    for (int c = 0; c < 100; c++) {
      String yaml = config(r);
      PolicyEngine cached = engine(yaml, true, new Metrics());
      PolicyEngine plain = engine(yaml, false, new Metrics());
      for (int i = 0; i < 200; i++) {
        AttributeBag bag = call(r, i);
        CheckDecision a = cached.check(bag).toCompletableFuture().join();
        CheckDecision b = plain.check(bag).toCompletableFuture().join();
        String why = yaml + "\ncall " + bag;
        assertThat(normal(a)).as(why).isEqualTo(normal(b));
        assertThat(a.matchedRules()).as(why).isEqualTo(b.matchedRules());
        assertThat(a.failed()).as(why).isEqualTo(b.failed());
        assertThat(b.cached()).isFalse();
        hits += a.cached() ? 1 : 0;
        calls++;
      }
    }
    // The property is only worth something if the cache was used a lot and missed a lot.
    assertThat(hits).isGreaterThan(calls / 10).isLessThan(calls - calls / 10);
  }
}
