package io.arbiter.adapters;

import static org.assertj.core.api.Assertions.assertThat;

import io.arbiter.engine.spi.Adapter;
import io.arbiter.engine.spi.Template;
import java.util.HashMap;
import java.util.Map;
import java.util.ServiceLoader;
import org.junit.jupiter.api.Test;

class AdapterDiscoveryTest {

  @Test
  void serviceLoaderFindsTheBuiltInCheckAdapters() {
    Map<String, Adapter> byName = new HashMap<>();
    for (Adapter a : ServiceLoader.load(Adapter.class)) {
      byName.put(a.name(), a);
    }

    assertThat(byName).containsKeys("denier", "list");
    assertThat(byName.get("denier").templates())
        .containsExactlyInAnyOrder(
            Template.CHECKNOTHING, Template.LISTENTRY, Template.AUTHORIZATION);
    assertThat(byName.get("list").templates()).containsExactly(Template.LISTENTRY);
  }
}
