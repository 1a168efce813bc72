package io.arbiter.adapters.redisquota;

import static io.arbiter.adapters.testing.Stages.value;
import static org.assertj.core.api.Assertions.assertThat;

import io.arbiter.adapters.testing.RedisServer;
import io.arbiter.adapters.testing.TestContext;
import io.arbiter.engine.spi.Instance;
import io.arbiter.engine.spi.Params;
import io.arbiter.engine.spi.QuotaHandler;
import io.arbiter.engine.spi.QuotaRequest;
import io.arbiter.engine.spi.QuotaResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** redisquota with {@code cluster: true} against a real three-master Redis Cluster. */
class RedisClusterTest {
  private static final List<RedisServer> nodes = new ArrayList<>();
  private static final List<Path> dirs = new ArrayList<>();

  @BeforeAll
  static void startCluster() throws Exception {
    RedisServer.requireInstalled();
    for (int i = 0; i < 3; i++) {
      Path dir = Files.createTempDirectory("redis-cluster-");
      dirs.add(dir);
      nodes.add(RedisServer.start("--cluster-enabled", "yes", "--dir", dir.toString(),
          "--cluster-node-timeout", "2000"));
    }
    List<String> create = new ArrayList<>(List.of("--cluster", "create"));
    nodes.forEach(n -> create.add("127.0.0.1:" + n.port()));
    create.addAll(List.of("--cluster-replicas", "0", "--cluster-yes"));
    nodes.get(0).redisCli(create.toArray(String[]::new));
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    for (RedisServer n : nodes) {
      while (!n.redisCli("CLUSTER", "INFO").contains("cluster_state:ok")) {
        if (System.nanoTime() > deadline) {
          throw new AssertionError("the cluster did not become ok within 30 s");
        }
        Thread.sleep(100);
      }
    }
  }

  @AfterAll
  static void stopCluster() throws Exception {
    nodes.forEach(RedisServer::close);
    for (Path dir : dirs) {
      try (var files = Files.walk(dir)) {
        files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }

  @Test
  void aBatchOverKeysOfManySlotsIsOneCallPerSlotAllSentAtOnce() throws Exception {
    TestContext ctx = new TestContext("clustered-batch");
    RedisQuotaHandler h = RedisQuotaAdapter.create(new Params(Map.of(
        "quotas", List.of(Map.of("name", "per-user", "maxAmount", 2, "validDuration", "1h")),
        "redis", Map.of("url", "redis://127.0.0.1:" + nodes.get(0).port(), "cluster", true,
            "timeout", "2s"))), ctx, null);
    try {
      value(h.initialized());
      List<QuotaHandler.Allocation> batch = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        for (int user = 0; user < 12; user++) {
          batch.add(new QuotaHandler.Allocation(
              new Instance.Quota("per-user", Map.of("user", "b" + user)), QuotaRequest.of(1)));
        }
      }
      List<QuotaResult> results = new ArrayList<>();
      for (var stage : h.allocateAll(batch)) {
        results.add(stage.toCompletableFuture().get(30, TimeUnit.SECONDS));
      }

      // Per user: the first two granted, the third over the limit, in batch order.
      for (int i = 0; i < batch.size(); i++) {
        assertThat(results.get(i).granted()).as("allocation %d", i).isEqualTo(i < 24 ? 1 : 0);
      }
      assertThat(ctx.counter(
          "arbiter_redisquota_errors_total{handler=\"clustered-batch\",outcome=\"fail_closed\"}"))
          .isZero();
    } finally {
      h.close();
    }
  }

  @Test
  void bucketsSpreadOverTheMastersAndEachStaysExact() throws Exception {
    TestContext ctx = new TestContext("clustered");
    RedisQuotaHandler h = RedisQuotaAdapter.create(new Params(Map.of(
        "quotas", List.of(Map.of("name", "per-user", "maxAmount", 3, "validDuration", "1h",
            "algorithm", "ROLLING_WINDOW")),
        "redis", Map.of("url", "redis://127.0.0.1:" + nodes.get(0).port(), "cluster", true,
            "timeout", "2s"))), ctx, null);
    try {
      value(h.initialized());
      List<CompletableFuture<QuotaResult>> results = new ArrayList<>();
      for (int user = 0; user < 30; user++) {
        for (int i = 0; i < 5; i++) {
          results.add(h.allocate(new Instance.Quota("per-user", Map.of("user", "u" + user)),
              QuotaRequest.of(1)).toCompletableFuture());
        }
      }
      long granted = 0;
      for (CompletableFuture<QuotaResult> r : results) {
        granted += r.get(30, TimeUnit.SECONDS).granted();
      }

      assertThat(granted).isEqualTo(30 * 3);
      assertThat(ctx.counter(
          "arbiter_redisquota_errors_total{handler=\"clustered\",outcome=\"fail_closed\"}"))
          .isZero();
      long mastersWithKeys = 0;
      for (RedisServer n : nodes) {
        if (Long.parseLong(n.redisCli("DBSIZE")) > 0) {
          mastersWithKeys++;
        }
      }
      assertThat(mastersWithKeys).isEqualTo(3);
    } finally {
      h.close();
      ctx.logger().lines().forEach(l -> System.out.println(l.level() + " " + l.message()));
    }
  }
}
