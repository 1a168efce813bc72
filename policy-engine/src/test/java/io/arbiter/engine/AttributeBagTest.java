package io.arbiter.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;

class AttributeBagTest {
  @Test
  void resolvedNamesSetWhatStringNamesSet() {
    AttributeBag.Name path = AttributeBag.name("request.path");
    AttributeBag.Name port = AttributeBag.name("source.port");
    AttributeBag.Name method = AttributeBag.name("request.method");
    AttributeBag byName = AttributeBag.builder()
        .put(path, "/a").put(port, 8080L).putNonEmpty(method, "").build();
    AttributeBag byString = AttributeBag.builder()
        .put("request.path", "/a").put("source.port", 8080L).putNonEmpty("request.method", "").build();
    assertThat(byName.asMap()).isEqualTo(byString.asMap())
        .isEqualTo(Map.of("request.path", "/a", "source.port", 8080L));
    assertThat(byName.size()).isEqualTo(2);
    assertThat(path).hasToString("request.path");
    assertThat(byString.get(path)).isEqualTo("/a");
    assertThat(byString.get(port)).isEqualTo(8080L);
    assertThat(byString.get(method)).isNull();
  }

  @Test
  void resolvedNamesAreCheckedLikeStringNames() {
    assertThatThrownBy(() -> AttributeBag.name("request.nope"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("request.nope");
    AttributeBag.Name port = AttributeBag.name("source.port");
    assertThatThrownBy(() -> AttributeBag.builder().put(port, "8080"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("source.port");
    AttributeBag.Builder b = AttributeBag.builder().put(port, 1L);
    b.put(port, null);
    assertThat(b.build().names()).isEqualTo(java.util.Set.of());
  }

  @Test
  void sharedNamesAreNamedAfterTheirAttribute() throws Exception {
    int n = 0;
    for (java.lang.reflect.Field f : AttributeNames.class.getFields()) {
      AttributeBag.Name name = (AttributeBag.Name) f.get(null);
      assertThat(f.getName()).isEqualTo(name.toString().toUpperCase(java.util.Locale.ROOT).replace('.', '_'));
      n++;
    }
    assertThat(n).isGreaterThan(30);
  }
}
