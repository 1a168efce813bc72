package io.arbiter.accesslog;

import static org.assertj.core.api.Assertions.assertThat;

import io.arbiter.engine.AttributeBag;
import io.arbiter.engine.metrics.Metrics;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceResponse;
import io.opentelemetry.proto.collector.logs.v1.LogsServiceGrpc;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.logs.v1.LogRecord;
import io.opentelemetry.proto.resource.v1.Resource;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** {@code LogsService/Export} over the in-process transport. */
class OtlpLogsServiceTest {
  private final Metrics metrics = new Metrics();
  private final List<AttributeBag> received = Collections.synchronizedList(new ArrayList<>());
  private ReportQueue queue;
  private Server server;
  private ManagedChannel channel;

  @BeforeEach
  void start() throws Exception {
    queue = ReportQueue.start(batch -> {
      received.addAll(batch);
      return CompletableFuture.completedFuture(null);
    }, QueueSettings.DEFAULT, metrics);
    String name = InProcessServerBuilder.generateName();
    server = InProcessServerBuilder.forName(name)
        .addService(new OtlpLogsService(queue, new OtlpLogMapper(AttributeMapping.defaults()), metrics))
        .build().start();
    channel = InProcessChannelBuilder.forName(name).build();
  }

  @AfterEach
  void stop() throws Exception {
    channel.shutdownNow();
    server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
  }

  private long count(String name, String... labels) {
    return metrics.counter(name, "", labels).getCount();
  }

  @Test
  void acceptedRecordsGetAnEmptyResponse() {
    ExportLogsServiceResponse r = LogsServiceGrpc.newBlockingStub(channel).export(
        OtlpLogMapperTest.request(OtlpLogMapperTest.envoyResource("front-proxy-1"),
            OtlpLogMapperTest.envoyRecord("/a", "200"), OtlpLogMapperTest.envoyRecord("/b", "503")));
    assertThat(r).isEqualTo(ExportLogsServiceResponse.getDefaultInstance());
    assertThat(queue.close(Duration.ofSeconds(10))).isTrue();
    assertThat(received).extracting(b -> b.get("request.path")).containsExactly("/a", "/b");
    assertThat(received).extracting(b -> b.get("context.reporter.node"))
        .containsOnly("front-proxy-1");
    assertThat(count("arbiter_accesslog_entries_total", "protocol", "http")).isEqualTo(2);
  }

  @Test
  void unmappedRecordsAreRejectedAsAPartialSuccessAndBadValuesAreAWarning() {
    LogRecord foreign = LogRecord.newBuilder()
        .addAttributes(OtlpLogMapperTest.kv("thread", "main"))
        .setBody(AnyValue.newBuilder().setStringValue("hello")).build();
    LogRecord badCode = LogRecord.newBuilder()
        .addAttributes(OtlpLogMapperTest.kv("path", "/c"))
        .addAttributes(OtlpLogMapperTest.kv("response_code", "OK")).build();
    ExportLogsServiceResponse r = LogsServiceGrpc.newBlockingStub(channel).export(
        OtlpLogMapperTest.request(Resource.getDefaultInstance(), foreign, badCode, foreign));

    assertThat(r.getPartialSuccess().getRejectedLogRecords()).isEqualTo(2);
    assertThat(r.getPartialSuccess().getErrorMessage())
        .contains("2 log record(s) had no attribute the mapping knows (their keys include [thread])")
        .contains("values that did not convert were left out: [response.code]");
    assertThat(count("arbiter_accesslog_rejected_total", "reason", "unmapped")).isEqualTo(2);
    assertThat(count("arbiter_accesslog_invalid_values_total", "attribute", "response.code")).isEqualTo(1);

    ExportLogsServiceResponse warning = LogsServiceGrpc.newBlockingStub(channel).export(
        OtlpLogMapperTest.request(Resource.getDefaultInstance(), badCode));
    assertThat(warning.getPartialSuccess().getRejectedLogRecords()).isZero();
    assertThat(warning.getPartialSuccess().getErrorMessage()).startsWith("values that did not convert");
    assertThat(queue.close(Duration.ofSeconds(10))).isTrue();
    assertThat(received).extracting(b -> b.get("request.path")).containsExactly("/c", "/c");
  }
}
