package io.arbiter.engine.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.arbiter.engine.AttributeBag;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CelEnvironmentTest {
  private final CelEnvironment cel = new CelEnvironment(1000);

  private Object eval(String expr, AttributeBag bag) throws Exception {
    return cel.compile(expr, CelEnvironment.Expect.ANY).eval(bag);
  }

  @Test
  void readsEveryKindOfAttribute() throws Exception {
    AttributeBag bag =
        AttributeBag.builder()
            .put("request.path", "/a")
            .put("source.port", 443L)
            .put("connection.mtls", true)
            .put("request.time", Instant.parse("2026-01-01T00:00:00Z"))
            .put("response.duration", Duration.ofMillis(1500))
            .put("request.headers", Map.of("x-user", "Bob"))
            .put("context.metadata", Map.of("envoy.filters.http.jwt_authn", Map.of("sub", "u1", "roles", List.of("a", "b"))))
            .build();
    assertThat(eval("request.path + '!'", bag)).isEqualTo("/a!");
    assertThat(eval("source.port * 2", bag)).isEqualTo(886L);
    assertThat(eval("connection.mtls && request.time > timestamp('2025-12-31T00:00:00Z')", bag)).isEqualTo(true);
    assertThat(eval("response.duration > duration('1s')", bag)).isEqualTo(true);
    assertThat(eval("request.headers['x-user'].lowerAscii()", bag)).isEqualTo("bob");
    assertThat(eval("request.headers[?'x-none'].orValue('anon')", bag)).isEqualTo("anon");
    assertThat(eval("'a' in context.metadata['envoy.filters.http.jwt_authn']['roles']", bag)).isEqualTo(true);
  }

  @Test
  void compileErrorsCarryTheColumn() {
    assertThatThrownBy(() -> cel.compile("request.path == 1 && nope", CelEnvironment.Expect.BOOL))
        .isInstanceOfSatisfying(CelEnvironment.CompileException.class, e ->
            assertThat(e.problems()).extracting(Object::toString)
                .anySatisfy(p -> assertThat(p).startsWith("column 14: found no matching overload"))
                .anySatisfy(p -> assertThat(p).isEqualTo("column 22: unknown attribute 'nope'")));
  }

  @Test
  void enforcesTheResultType() {
    assertThatThrownBy(() -> cel.compile("request.headers", CelEnvironment.Expect.TEXT))
        .hasMessageContaining("expected a string or other scalar");
    assertThatThrownBy(() -> cel.compile("1 + 2", CelEnvironment.Expect.BOOL))
        .hasMessageContaining("expected a bool but the expression is a int");
    assertThatThrownBy(() -> cel.compile("  ", CelEnvironment.Expect.BOOL)).hasMessageContaining("empty");
  }

  @Test
  void textOfScalars() throws Exception {
    AttributeBag bag = AttributeBag.builder().put("source.port", 8L).build();
    assertThat(cel.compile("source.port", CelEnvironment.Expect.TEXT).evalText(bag)).isEqualTo("8");
    assertThat(cel.compile("source.port > 1", CelEnvironment.Expect.TEXT).evalText(bag)).isEqualTo("true");
  }
}
