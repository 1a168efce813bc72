package io.arbiter.adapters.otel;

import com.codahale.metrics.Counter;
import io.arbiter.adapters.internal.telemetry.MetricSpec;
import io.arbiter.adapters.internal.telemetry.MetricSpec.Kind;
import io.arbiter.adapters.internal.telemetry.MetricSpec.ValueType;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.common.AttributesBuilder;
import io.opentelemetry.api.metrics.DoubleCounter;
import io.opentelemetry.api.metrics.DoubleGauge;
import io.opentelemetry.api.metrics.DoubleHistogram;
import io.opentelemetry.api.metrics.LongCounter;
import io.opentelemetry.api.metrics.LongGauge;
import io.opentelemetry.api.metrics.LongHistogram;
import io.opentelemetry.api.metrics.Meter;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One configured metric as an SDK instrument: COUNTER a counter, GAUGE a synchronous gauge,
 * DISTRIBUTION a histogram with the configured buckets; of longs for {@code valueType: INT} (a
 * double value is rounded to the nearest integer), else of doubles. Labels become string
 * attributes, taken from the instance's dimensions like the {@code prometheus} adapter does (a
 * missing dimension is {@code ""}, extra ones are ignored).
 *
 * <p>Cardinality guard: the first {@code maxSeries} label sets are recorded as they are; further
 * ones go to one overflow attribute set whose every value is {@code other}, counted in the overflow
 * counter. The attribute sets are cached, so a known label set allocates only its lookup key.
 * Thread-safe.
 */
final class MetricRecorder {

  /** Whether a value was recorded. */
  enum Outcome {
    RECORDED,
    /** Not a finite number, or negative for a counter. */
    BAD_VALUE
  }

  private final MetricSpec spec;
  private final Counter overflow;
  private final Map<List<String>, Attributes> admitted = new ConcurrentHashMap<>();
  private volatile Attributes overflowAttributes;
  private final Object lock = new Object();
  private final LongCounter longCounter;
  private final DoubleCounter doubleCounter;
  private final LongGauge longGauge;
  private final DoubleGauge doubleGauge;
  private final LongHistogram longHistogram;
  private final DoubleHistogram doubleHistogram;

  MetricRecorder(MetricSpec spec, Meter meter, Counter overflow) {
    this.spec = spec;
    this.overflow = overflow;
    boolean ints = spec.valueType() == ValueType.INT;
    LongCounter lc = null;
    DoubleCounter dc = null;
    LongGauge lg = null;
    DoubleGauge dg = null;
    LongHistogram lh = null;
    DoubleHistogram dh = null;
    switch (spec.kind()) {
      case COUNTER -> {
        var b = meter.counterBuilder(spec.name()).setDescription(spec.help());
        if (ints) {
          lc = b.build();
        } else {
          dc = b.ofDoubles().build();
        }
      }
      case GAUGE -> {
        var b = meter.gaugeBuilder(spec.name()).setDescription(spec.help());
        if (ints) {
          lg = b.ofLongs().build();
        } else {
          dg = b.build();
        }
      }
      case DISTRIBUTION -> {
        var b = meter.histogramBuilder(spec.name()).setDescription(spec.help());
        if (!spec.buckets().isEmpty()) {
          b.setExplicitBucketBoundariesAdvice(spec.buckets());
        }
        if (ints) {
          lh = b.ofLongs().build();
        } else {
          dh = b.build();
        }
      }
    }
    longCounter = lc;
    doubleCounter = dc;
    longGauge = lg;
    doubleGauge = dg;
    longHistogram = lh;
    doubleHistogram = dh;
  }

  MetricSpec spec() {
    return spec;
  }

  /** Records {@code value} under the label set the dimensions give. */
  Outcome record(Object value, Map<String, String> dimensions) {
    if (!(value instanceof Number n)) {
      return Outcome.BAD_VALUE;
    }
    double d = n.doubleValue();
    if (!Double.isFinite(d) || (spec.kind() == Kind.COUNTER && d < 0)) {
      return Outcome.BAD_VALUE;
    }
    Attributes attributes = attributes(dimensions);
    long l = n instanceof Long || n instanceof Integer ? n.longValue() : Math.round(d);
    switch (spec.kind()) {
      case COUNTER -> {
        if (longCounter != null) {
          longCounter.add(l, attributes);
        } else {
          doubleCounter.add(d, attributes);
        }
      }
      case GAUGE -> {
        if (longGauge != null) {
          longGauge.set(l, attributes);
        } else {
          doubleGauge.set(d, attributes);
        }
      }
      case DISTRIBUTION -> {
        if (longHistogram != null) {
          longHistogram.record(l, attributes);
        } else {
          doubleHistogram.record(d, attributes);
        }
      }
    }
    return Outcome.RECORDED;
  }

  private Attributes attributes(Map<String, String> dimensions) {
    List<String> labels = spec.labels();
    String[] values = new String[labels.size()];
    for (int i = 0; i < values.length; i++) {
      String v = dimensions.get(labels.get(i));
      values[i] = v == null ? "" : v;
    }
    List<String> key = Arrays.asList(values);
    Attributes a = admitted.get(key);
    if (a != null) {
      return a;
    }
    Attributes o = overflowAttributes;
    if (o != null) {
      overflow.inc();
      return o;
    }
    synchronized (lock) {
      a = admitted.get(key);
      if (a != null) {
        return a;
      }
      if (admitted.size() < spec.maxSeries()) {
        a = build(values);
        admitted.put(key, a);
        return a;
      }
      String[] other = new String[values.length];
      Arrays.fill(other, MetricSpec.OVERFLOW_VALUE);
      overflowAttributes = build(other);
      overflow.inc();
      return overflowAttributes;
    }
  }

  private Attributes build(String[] values) {
    AttributesBuilder b = Attributes.builder();
    for (int i = 0; i < values.length; i++) {
      b.put(spec.labels().get(i), values[i]);
    }
    return b.build();
  }
}
