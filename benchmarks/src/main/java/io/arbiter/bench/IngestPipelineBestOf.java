package io.arbiter.bench;

import io.arbiter.accesslog.AccessLogEntryMapper;
import io.arbiter.accesslog.AccessLogWireDecoder;
import io.arbiter.accesslog.AttributeMapping;
import io.arbiter.accesslog.Reporter;
import io.arbiter.engine.AttributeBag;
import io.arbiter.engine.PolicyEngine;
import io.arbiter.engine.ReportOutcome;
import io.envoyproxy.envoy.data.accesslog.v3.HTTPAccessLogEntry;
import io.envoyproxy.envoy.service.accesslog.v3.StreamAccessLogsMessage;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The CPU cost per access-log entry of Arbiter's ingest work, in one thread and one warmed JVM,
 * against the bare sink's (parse and discard) on the same messages: the part of {@code
 * load/ingest.sh} that is Arbiter's own, without gRPC, the queue's hand-off or the scheduler.
 *
 * <ul>
 *   <li>{@code bare}: parse each message ({@code StreamAccessLogsMessage.parseFrom}) and count its
 *       entries, as {@code BareAccessLogSink} does;
 *   <li>{@code gen-map}: the generated parse, then every entry mapped by {@code
 *       AccessLogEntryMapper}: the path before {@code AccessLogWireDecoder}, for comparison;
 *   <li>{@code map}: what the server does: decode each message's bytes with {@code
 *       AccessLogWireDecoder} and map every entry to attributes;
 *   <li>{@code ingest}: {@code map}, then dispatch the message's entries through the engine ({@code
 *       PolicyEngine.report}) with the ingest benchmark's config: 5 prometheus metrics and a JSON
 *       log line per entry, written to a file in a temporary directory.
 * </ul>
 *
 * Each figure is the best of many batches of thread CPU time (a batch no other process interrupted
 * is as fast as it gets), so on a shared machine it is a lower bound that moves less than wall
 * time; the ratio {@code bare / ingest} is the in-process counterpart of the harness's "ratio to
 * bare".
 *
 * <p>Run: {@code java -Xms512m -Xmx512m -XX:+UseSerialGC -cp benchmarks/target/benchmarks.jar
 * io.arbiter.bench.IngestPipelineBestOf [config=benchmarks/load/ingest.yaml] [batches=200]
 * [messages-per-batch=20] [only=bare|gen-map|map|ingest]} (with {@code only}, that one operation alone, to
 * profile it)
 */
public final class IngestPipelineBestOf {
  private IngestPipelineBestOf() {}

  public static void main(String[] args) throws Exception {
    Path config = Path.of(args.length > 0 ? args[0] : "benchmarks/load/ingest.yaml");
    int batches = args.length > 1 ? Integer.parseInt(args[1]) : 200;
    int perBatch = args.length > 2 ? Integer.parseInt(args[2]) : 20;
    String only = args.length > 3 ? args[3] : null;
    Path dir = Files.createTempDirectory("ingest-bestof");
    // The config's log handler writes to a relative path: make it land in the temporary directory.
    String yaml = Files.readString(config).replace("path: access.jsonl", "path: " + dir.resolve("access.jsonl"));
    List<byte[]> messages = new ArrayList<>();
    for (StreamAccessLogsMessage m : AccessLogEntries.messages(1, 256, 16_384)) {
      messages.add(m.toByteArray());
    }
    ThreadMXBean cpu = ManagementFactory.getThreadMXBean();
    PolicyEngine engine = Engines.serving(yaml);
    AccessLogEntryMapper mapper = new AccessLogEntryMapper(AttributeMapping.defaults());
    AccessLogWireDecoder decoder = new AccessLogWireDecoder(mapper);
    Reporter reporter = new Reporter("envoy-0", "bench", "access");
    long checksum = 0;
    try {
      String[] ops = {"bare", "gen-map", "map", "ingest"};
      double[] best = new double[ops.length];
      for (int pass = 0; pass < 2; pass++) { // the first pass warms the JIT up
        java.util.Arrays.fill(best, Double.MAX_VALUE);
        for (int round = 0; round < batches; round++) {
          for (int o = 0; o < ops.length; o++) {
            if (only != null && !ops[o].equals(only)) {
              continue;
            }
            long entries = 0;
            long t0 = cpu.getCurrentThreadCpuTime();
            for (int i = 0; i < perBatch; i++) {
              byte[] bytes = messages.get((round * perBatch + i) % messages.size());
              List<AttributeBag> bags;
              if (o < 2) {
                StreamAccessLogsMessage m = StreamAccessLogsMessage.parseFrom(bytes);
                List<HTTPAccessLogEntry> list = m.getHttpLogs().getLogEntryList();
                entries += list.size();
                if (o == 0) {
                  continue;
                }
                bags = new ArrayList<>(list.size());
                for (HTTPAccessLogEntry e : list) {
                  bags.add(mapper.map(e, reporter));
                }
              } else {
                AccessLogWireDecoder.Message m = decoder.decode(bytes);
                int n = m.size();
                entries += n;
                bags = new ArrayList<>(n);
                for (int e = 0; e < n; e++) {
                  bags.add(m.map(e, reporter));
                }
              }
              if (o == 3) {
                ReportOutcome outcome = engine.report(bags).toCompletableFuture().join();
                checksum += outcome.instances();
              } else {
                checksum += bags.size();
              }
            }
            long ns = cpu.getCurrentThreadCpuTime() - t0;
            best[o] = Math.min(best[o], (double) ns / entries);
          }
        }
      }
      for (int o = 0; o < ops.length; o++) {
        if (only != null && !ops[o].equals(only)) {
          continue;
        }
        System.out.printf("%-7s %8.0f ns/entry  %9.0f entries/CPU-s%n", ops[o], best[o], 1e9 / best[o]);
      }
      System.out.printf("bare/map %.2f, bare/ingest %.2f (checksum %d)%n",
          best[0] / best[2], best[0] / best[3], checksum);
    } finally {
      Engines.close(engine);
    }
  }
}
