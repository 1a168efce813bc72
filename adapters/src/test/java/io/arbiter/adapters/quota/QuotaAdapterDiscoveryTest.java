package io.arbiter.adapters.quota;

import static org.assertj.core.api.Assertions.assertThat;

import io.arbiter.engine.spi.Adapter;
import io.arbiter.engine.spi.Template;
import java.util.HashMap;
import java.util.Map;
import java.util.ServiceLoader;
import org.junit.jupiter.api.Test;

class QuotaAdapterDiscoveryTest {

  @Test
  void serviceLoaderFindsTheQuotaAdapters() {
    Map<String, Adapter> byName = new HashMap<>();
    for (Adapter a : ServiceLoader.load(Adapter.class)) {
      byName.put(a.name(), a);
    }

    assertThat(byName.get("memquota").templates()).containsExactly(Template.QUOTA);
    assertThat(byName.get("redisquota").templates()).containsExactly(Template.QUOTA);
  }
}
