/**
 * The {@code otel} adapter: metrics and log records exported to an OpenTelemetry collector over
 * OTLP/gRPC with the OpenTelemetry SDK (periodic metric reader, batch log record processor, OTLP
 * exporters with the SDK's retry policy). Log delivery survives a collector outage: a retrying
 * exporter keeps failed batches and re-sends them in order, and admission is bounded by {@code
 * maxQueueSize} so nothing is dropped silently; drops and failed exports are counted.
 *
 * <p>An exception to "adapters start no threads": the SDK runs its periodic reader and batch
 * processor on threads of their own, and the exporters' HTTP/2 client (OkHttp) has its dispatcher
 * and connection pool. They belong to one handler and end when it is closed. Retries are scheduled
 * on the engine's scheduler. Only {@link io.arbiter.adapters.otel.OtelAdapter} is public; it is
 * found by {@link java.util.ServiceLoader}.
 */
package io.arbiter.adapters.otel;
