/**
 * The {@code prometheus} adapter: metrics operators define in config, fed by {@code metric}
 * instances and exposed on the admin {@code /metrics} endpoint through the engine's {@link
 * io.arbiter.engine.metrics.Metrics} registry, under exactly the configured names. Series live in
 * the registry and are shared by every handler that defines the same metric, so a reload that
 * rebuilds a handler continues its counters; a cardinality guard sends label sets beyond a
 * metric's {@code maxSeries} to one {@code other} series and counts them. Only {@link
 * io.arbiter.adapters.prometheus.PrometheusAdapter} is public; it is found by {@link
 * java.util.ServiceLoader}.
 */
package io.arbiter.adapters.prometheus;
