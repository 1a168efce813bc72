package io.arbiter.accesslog;

import io.arbiter.engine.AttributeBag;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.logs.v1.LogRecord;
import io.opentelemetry.proto.logs.v1.ResourceLogs;
import io.opentelemetry.proto.logs.v1.ScopeLogs;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Turns the log records of an OTLP {@code ExportLogsServiceRequest}, as Envoy's OpenTelemetry
 * access logger ({@code envoy.access_loggers.open_telemetry}) sends them, into the attribute
 * vocabulary through an {@link AttributeMapping}.
 *
 * <p>For each log record, in this order (the first value for an attribute wins): the record's
 * {@code attributes}; its {@code body} when that is a key/value list (a string body is offered to
 * the mapping under the key {@code body}, which no default maps); then its resource's attributes
 * (Envoy's {@code log_name}, {@code node_name}, {@code cluster_name}, {@code zone_name} and the
 * configured {@code resource_attributes}). {@code request.time} falls back to the record's {@code
 * time_unix_nano}, which Envoy sets to the request's start. {@code context.protocol}, unless
 * mapped, is {@code grpc} when the request's {@code content-type} header starts with {@code
 * application/grpc}, {@code http} when the record gave a method, path, host or response code, else
 * {@code tcp}.
 *
 * <p>A record none of whose own keys (attributes and body) the mapping knows is rejected: it says
 * nothing the vocabulary can hold, and is most likely a logger configured for another format.
 *
 * <p>Thread-safe.
 */
public final class OtlpLogMapper {
  private final AttributeMapping mapping;

  public OtlpLogMapper(AttributeMapping mapping) {
    this.mapping = Objects.requireNonNull(mapping, "mapping");
  }

  /**
   * What became of a request's records.
   *
   * @param bags the records that mapped, in order
   * @param rejected how many records were rejected
   * @param unknownKeys some of the keys of rejected records (at most 10), for the error message
   * @param invalid for each value that did not convert, the target's name (a record may have several)
   */
  public record Result(
      List<AttributeBag> bags, int rejected, Set<String> unknownKeys, List<String> invalid) {}

  public Result map(ExportLogsServiceRequest request) {
    List<AttributeBag> bags = new ArrayList<>();
    int rejected = 0;
    Set<String> unknown = new LinkedHashSet<>();
    List<String> invalid = new ArrayList<>(0);
    for (ResourceLogs rl : request.getResourceLogsList()) {
      Map<String, Object> resource = Map.of();
      if (rl.getResource().getAttributesCount() > 0) {
        resource = toMap(rl.getResource().getAttributesList());
      }
      for (ScopeLogs sl : rl.getScopeLogsList()) {
        for (LogRecord record : sl.getLogRecordsList()) {
          AttributeMapping.Collector c = mapping.collector();
          for (KeyValue kv : record.getAttributesList()) {
            if (!c.add(kv.getKey(), toJava(kv.getValue())) && unknown.size() < 10) {
              unknown.add(kv.getKey());
            }
          }
          AnyValue body = record.getBody();
          if (body.hasKvlistValue()) {
            for (KeyValue kv : body.getKvlistValue().getValuesList()) {
              c.add(kv.getKey(), toJava(kv.getValue()));
            }
          } else if (body.hasStringValue()) {
            c.add("body", body.getStringValue());
          }
          if (c.known() == 0) {
            rejected++;
            continue;
          }
          resource.forEach(c::add);
          invalid.addAll(c.invalid());
          AttributeBag.Builder bag = AttributeBag.builder();
          c.into(bag);
          if (!c.has("request.time") && record.getTimeUnixNano() != 0) {
            long nanos = record.getTimeUnixNano();
            bag.put("request.time",
                Instant.ofEpochSecond(Long.divideUnsigned(nanos, 1_000_000_000L),
                    Long.remainderUnsigned(nanos, 1_000_000_000L)));
          }
          if (!c.has("context.protocol")) {
            bag.put("context.protocol", protocol(c));
          }
          bags.add(bag.build());
        }
      }
    }
    return new Result(bags, rejected, unknown, invalid);
  }

  private static String protocol(AttributeMapping.Collector c) {
    String contentType = c.requestHeader("content-type");
    if (contentType != null && contentType.regionMatches(true, 0, "application/grpc", 0, 16)) {
      return "grpc";
    }
    if (c.has("request.method") || c.has("request.path") || c.has("request.host")
        || c.has("response.code")) {
      return "http";
    }
    return "tcp";
  }

  private static Map<String, Object> toMap(List<KeyValue> kvs) {
    Map<String, Object> out = new LinkedHashMap<>();
    for (KeyValue kv : kvs) {
      Object v = toJava(kv.getValue());
      if (v != null) {
        out.putIfAbsent(kv.getKey(), v);
      }
    }
    return Collections.unmodifiableMap(out);
  }

  /** String, Boolean, Long, Double, List or Map; null for bytes and unset values. */
  static Object toJava(AnyValue v) {
    return switch (v.getValueCase()) {
      case STRING_VALUE -> v.getStringValue();
      case BOOL_VALUE -> v.getBoolValue();
      case INT_VALUE -> v.getIntValue();
      case DOUBLE_VALUE -> v.getDoubleValue();
      case ARRAY_VALUE -> {
        List<Object> out = new ArrayList<>(v.getArrayValue().getValuesCount());
        for (AnyValue x : v.getArrayValue().getValuesList()) {
          Object j = toJava(x);
          if (j != null) {
            out.add(j);
          }
        }
        yield Collections.unmodifiableList(out);
      }
      case KVLIST_VALUE -> toMap(v.getKvlistValue().getValuesList());
      default -> null;
    };
  }
}
