package io.arbiter.engine.spi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class FixedMapTest {
  private static final FixedMap.Keys KEYS = new FixedMap.Keys(List.of("destination", "code", "user"));

  @Test
  void behavesAsTheLinkedHashMapOfTheSameEntries() {
    FixedMap<Object> fixed = KEYS.builder().set(0, "svc").set(1, 200L).set(2, null).build();
    Map<String, Object> linked = new LinkedHashMap<>();
    linked.put("destination", "svc");
    linked.put("code", 200L);
    linked.put("user", null);
    assertThat(fixed).isEqualTo(linked);
    assertThat(linked).isEqualTo(fixed);
    assertThat(fixed.hashCode()).isEqualTo(linked.hashCode());
    assertThat(new ArrayList<>(fixed.keySet())).containsExactly("destination", "code", "user");
    assertThat(new ArrayList<>(fixed.values())).isEqualTo(Arrays.asList("svc", 200L, null));
    assertThat(fixed.get("code")).isEqualTo(200L);
    assertThat(fixed.containsKey("user")).isTrue();
    assertThat(fixed.get("user")).isNull();
    assertThat(fixed.containsKey("nope")).isFalse();
    assertThat(fixed).hasToString(linked.toString());
    assertThat(fixed).isNotEqualTo(KEYS.builder().set(0, "svc").set(1, 500L).build());
    assertThat(fixed).isEqualTo(KEYS.builder().set(0, "svc").set(1, 200L).build());
    assertThatThrownBy(() -> fixed.put("x", "y")).isInstanceOf(UnsupportedOperationException.class);
  }

  @Test
  void buildersEndAndKeysAreChecked() {
    FixedMap.Builder<String> b = KEYS.builder();
    b.build();
    assertThatThrownBy(b::build).isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> b.set(0, "x")).isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> new FixedMap.Keys(List.of("a", "b", "a")))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new FixedMap.Keys(Arrays.asList("a", null)))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new FixedMap.Keys(Arrays.asList((String) null)))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void instancesKeepFixedMapsAndCopyOthers() {
    FixedMap<String> dims = new FixedMap.Keys(List.of("a")).<String>builder().set(0, "1").build();
    assertThat(new Instance.Metric("m", 1L, dims).dimensions()).isSameAs(dims);
    Map<String, String> mutable = new HashMap<>(Map.of("a", "1"));
    Map<String, String> kept = new Instance.Metric("m", 1L, mutable).dimensions();
    mutable.put("a", "2");
    assertThat(kept).isEqualTo(Map.of("a", "1"));
    assertThatThrownBy(() -> kept.put("b", "3")).isInstanceOf(UnsupportedOperationException.class);
  }
}
