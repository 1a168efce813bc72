/**
 * Arbiter's metrics: a Dropwizard registry whose series carry Prometheus names and labels, fixed
 * bucket histograms, and the Prometheus text exposition the admin endpoint serves. Shared by the
 * engine, front ends and adapters.
 */
package io.arbiter.engine.metrics;
