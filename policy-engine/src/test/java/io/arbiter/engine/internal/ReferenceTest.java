package io.arbiter.engine.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.arbiter.engine.AttributeBag;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

class ReferenceTest {
  private static final CelEnvironment CEL = new CelEnvironment(100);

  private static Set<String> refs(String expression) throws Exception {
    Set<Reference> out = new TreeSet<>();
    Reference.of(CEL.compile(expression, CelEnvironment.Expect.ANY), out);
    Set<String> names = new TreeSet<>();
    out.forEach(r -> names.add(r.toString()));
    return names;
  }

  @Test
  void plainAttributesAreReadWhole() throws Exception {
    assertThat(refs("request.path.startsWith('/a') && request.method == 'GET'"))
        .containsExactly("request.method", "request.path");
    assertThat(refs("source.port > 1024 || destination.service.host in ['a', 'b']"))
        .containsExactly("destination.service.host", "source.port");
  }

  @Test
  void literalMapKeysAreReadOneByOne() throws Exception {
    assertThat(refs("'x-user' in request.headers")).containsExactly("request.headers['x-user']");
    assertThat(refs("request.headers['x-user'] == 'alice'")).containsExactly("request.headers['x-user']");
    assertThat(refs("has(request.headers.token)")).containsExactly("request.headers['token']");
    assertThat(refs("request.headers[?'x-user'].orValue('anon')")).containsExactly("request.headers['x-user']");
    assertThat(refs("context.metadata['envoy.filters.http.ext_authz']['user'] == 'a'"))
        .containsExactly("context.metadata['envoy.filters.http.ext_authz']");
  }

  @Test
  void anyOtherUseOfAMapReadsAllOfIt() throws Exception {
    assertThat(refs("size(request.headers) > 3")).containsExactly("request.headers");
    assertThat(refs("request.headers.exists(k, k.startsWith('x-'))")).containsExactly("request.headers");
    assertThat(refs("request.headers[request.path] == 'x'"))
        .containsExactly("request.headers", "request.path");
  }

  @Test
  void comprehensionVariablesAndConstantsReadNothing() throws Exception {
    assertThat(refs("[1, 2, 3].all(x, x > 0)")).isEmpty();
    assertThat(refs("true")).isEmpty();
  }

  @Test
  void readTellsAbsentFromEmpty() {
    AttributeBag bag = AttributeBag.builder()
        .put("request.path", "")
        .put("request.headers", Map.of("x-user", ""))
        .build();
    assertThat(new Reference("request.path", null).read(bag)).isEqualTo("");
    assertThat(new Reference("request.method", null).read(bag)).isSameAs(Reference.ABSENT);
    assertThat(new Reference("request.headers", "x-user").read(bag)).isEqualTo("");
    assertThat(new Reference("request.headers", "x-other").read(bag)).isSameAs(Reference.ABSENT);
    assertThat(new Reference("source.labels", "app").read(bag)).isSameAs(Reference.ABSENT);
  }
}
