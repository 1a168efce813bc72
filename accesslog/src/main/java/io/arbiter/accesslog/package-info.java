/**
 * Envoy's access logs in: the {@code envoy.service.accesslog.v3.AccessLogService} stream ({@link
 * io.arbiter.accesslog.AccessLogService}, entries mapped by {@link
 * io.arbiter.accesslog.AccessLogEntryMapper}, or decoded from the wire straight to the same
 * attributes by {@link io.arbiter.accesslog.AccessLogWireDecoder}) and the OTLP logs receiver ({@link
 * io.arbiter.accesslog.OtlpLogsService}, records mapped by {@link
 * io.arbiter.accesslog.OtlpLogMapper} through an operator-configurable {@link
 * io.arbiter.accesslog.AttributeMapping}). Both offer attribute bags to one bounded {@link
 * io.arbiter.accesslog.ReportQueue}, whose dispatcher hands batches to the engine's report path;
 * when it is full, entries are dropped (oldest first) or spilled to disk, and every one is
 * counted. {@link io.arbiter.accesslog.AccessLogs} assembles the three for the server. Nothing
 * here names an adapter; the engine never sees an Envoy or OTLP type.
 */
package io.arbiter.accesslog;
