package io.arbiter.engine.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.arbiter.engine.AttributeBag;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The fast path never changes a result: random expressions over random calls give exactly what
 * cel-java gives, values and errors alike.
 */
class FastPathTest {
  private static final CelEnvironment CEL = new CelEnvironment(100);
  private static final String[] WORDS = {"", "a", "/admin", "/api/v1", "GET", "POST", "alice", "x"};
  private static final String[] KEYS = {"x-user", "x-role", "k"};

  private static String word(Random r) {
    return WORDS[r.nextInt(WORDS.length)];
  }

  private static String key(Random r) {
    return KEYS[r.nextInt(KEYS.length)];
  }

  private static String text(Random r, int depth) {
    return switch (r.nextInt(depth > 2 ? 6 : 9)) {
      case 0 -> "request.path";
      case 1 -> "request.method";
      case 2 -> "'" + word(r) + "'";
      case 3 -> "request.headers['" + key(r) + "']";
      case 4 -> "request.headers[?'" + key(r) + "'].orValue('" + word(r) + "')";
      case 5 -> "source.principal";
      case 6 -> "(" + bool(r, depth + 1) + " ? " + text(r, depth + 1) + " : " + text(r, depth + 1) + ")";
      case 7 -> "string(source.port)";
      default -> "request.headers[?'" + key(r) + "'].orValue(" + text(r, depth + 1) + ")";
    };
  }

  private static String bool(Random r, int depth) {
    return switch (r.nextInt(depth > 2 ? 10 : 14)) {
      case 0 -> text(r, depth + 1) + " == " + text(r, depth + 1);
      case 1 -> text(r, depth + 1) + " != " + text(r, depth + 1);
      case 2 -> "'" + key(r) + "' in request.headers";
      case 3 -> "source.port " + List.of("<", "<=", ">", ">=", "==", "!=").get(r.nextInt(6)) + " " + (r.nextInt(3) * 500);
      case 4 -> text(r, depth + 1) + ".startsWith(" + text(r, depth + 1) + ")";
      case 5 -> text(r, depth + 1) + ".endsWith('" + word(r) + "')";
      case 6 -> text(r, depth + 1) + ".contains('" + word(r) + "')";
      case 7 -> "connection.mtls";
      case 8 -> "context.metadata['f'] == " + List.of("'x'", "1.0", "true").get(r.nextInt(3));
      case 9 -> r.nextBoolean() ? "request.path < '/b'" // string order: always CEL's
          : text(r, depth + 1) + " in ['" + word(r) + "', '" + word(r) + "']";
      case 10 -> "!(" + bool(r, depth + 1) + ")";
      case 11 -> "(" + bool(r, depth + 1) + " && " + bool(r, depth + 1) + ")";
      case 12 -> "(" + bool(r, depth + 1) + " || " + bool(r, depth + 1) + ")";
      default -> "connection.mtls == " + r.nextBoolean();
    };
  }

  private static AttributeBag call(Random r) {
    AttributeBag.Builder b = AttributeBag.builder();
    if (r.nextInt(4) > 0) {
      b.put("request.path", word(r));
    }
    if (r.nextBoolean()) {
      b.put("request.method", word(r));
    }
    if (r.nextBoolean()) {
      b.put("source.port", (long) r.nextInt(3) * 500);
    }
    if (r.nextBoolean()) {
      b.put("connection.mtls", r.nextBoolean());
    }
    if (r.nextBoolean()) {
      b.put("source.principal", word(r));
    }
    if (r.nextInt(4) > 0) {
      Map<String, String> headers = new LinkedHashMap<>();
      for (String k : KEYS) {
        if (r.nextBoolean()) {
          headers.put(k, word(r));
        }
      }
      b.put("request.headers", headers);
    }
    if (r.nextBoolean()) {
      Object v = List.of("x", 1.0d, true, Map.of("n", "x"), List.of("x")).get(r.nextInt(5));
      b.put("context.metadata", Map.of("f", v));
    }
    if (r.nextBoolean()) {
      b.put("response.duration", Duration.ofMillis(r.nextInt(100)));
    }
    return b.build();
  }

  private static Object outcome(Expression e, AttributeBag bag) {
    try {
      return e.eval(bag);
    } catch (EvaluationException x) {
      return "error: " + x.getMessage();
    }
  }

  @Test
  void fastAndCelAgreeOnRandomExpressionsAndCalls() throws Exception {
    Random r = new Random(11);
    int fast = 0;
    int expressions = 0;
    for (int i = 0; i < 3000; i++) {
      String text = r.nextBoolean() ? bool(r, 0) : text(r, 0);
      Expression e = CEL.compile(text, CelEnvironment.Expect.ANY);
      Expression plain = e.withoutFastPath();
      expressions++;
      fast += e.hasFastPath() ? 1 : 0;
      for (int c = 0; c < 20; c++) {
        AttributeBag bag = call(r);
        assertThat(outcome(e, bag)).as("%s on %s", text, bag).isEqualTo(outcome(plain, bag));
      }
    }
    assertThat(fast).as("expressions with a fast path").isGreaterThan(expressions / 3);
  }

  @Test
  void theCommonShapesHaveAFastPath() throws Exception {
    for (String text : List.of(
        "request.path.startsWith('/admin') && !('x-user' in request.headers)",
        "request.headers[?'x-tenant'].orValue('') == 'tenant-1'",
        "request.headers['x-user']",
        "response.code >= 500 ? 'ERROR' : 'INFO'",
        "destination.service.host",
        "context.protocol == 'http' || context.protocol == 'grpc'",
        "request.method in ['GET', 'HEAD'] || request.path.endsWith('/x')",
        "size(request.headers) > 2")) {
      boolean expected = !text.startsWith("size(");
      assertThat(CEL.compile(text, CelEnvironment.Expect.ANY).hasFastPath()).as(text).isEqualTo(expected);
    }
  }
}
