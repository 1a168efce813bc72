package io.arbiter.adapters;

import static org.assertj.core.api.Assertions.assertThat;

import io.arbiter.engine.spi.Adapter;
import io.arbiter.engine.spi.Template;
import java.util.HashMap;
import java.util.Map;
import java.util.ServiceLoader;
import org.junit.jupiter.api.Test;

class TelemetryAdapterDiscoveryTest {

  @Test
  void serviceLoaderFindsTheReportAdapters() {
    Map<String, Adapter> byName = new HashMap<>();
    for (Adapter a : ServiceLoader.load(Adapter.class)) {
      byName.put(a.name(), a);
    }

    assertThat(byName.get("prometheus").templates()).containsExactly(Template.METRIC);
    assertThat(byName.get("log").templates()).containsExactly(Template.LOGENTRY);
    assertThat(byName.get("otel").templates())
        .containsExactlyInAnyOrder(Template.METRIC, Template.LOGENTRY);
  }
}
