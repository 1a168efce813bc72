/**
 * What the telemetry adapters ({@code prometheus}, {@code otel}, {@code log}) share without
 * depending on one another: the {@code metrics[]} setting they read the same way ({@link
 * io.arbiter.adapters.internal.telemetry.MetricSpec}) and the rendering of instance values as JSON
 * ({@link io.arbiter.adapters.internal.telemetry.Json}). Not an API: only the adapters of this
 * module use it.
 */
package io.arbiter.adapters.internal.telemetry;
