package io.arbiter.adapters.redisquota;

import static io.arbiter.adapters.testing.Stages.value;
import static org.assertj.core.api.Assertions.assertThat;

import io.arbiter.adapters.testing.RedisServer;
import io.arbiter.adapters.testing.TestContext;
import io.arbiter.engine.spi.Instance;
import io.arbiter.engine.spi.Params;
import io.arbiter.engine.spi.QuotaHandler.Allocation;
import io.arbiter.engine.spi.QuotaRequest;
import io.arbiter.engine.spi.QuotaResult;
import io.netty.channel.DefaultEventLoopGroup;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.EventExecutor;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * redisquota on event loops the server lends (a real redis-server on a free loopback port): one
 * connection per loop, and an allocation asked on a loop has its reply handled on that loop, so a
 * call decided on the thread that read it never leaves that thread.
 */
class RedisQuotaEventLoopTest {
  private static RedisServer redis;
  private static EventLoopGroup loops;

  private final List<RedisQuotaHandler> handlers = new ArrayList<>();

  @BeforeAll
  static void start() throws Exception {
    RedisServer.requireInstalled();
    redis = RedisServer.start();
    // The transport Lettuce will pick: epoll if Netty's native library loads, else NIO.
    loops = new MultiThreadIoEventLoopGroup(2, new DefaultThreadFactory("lent-loop", true),
        Epoll.isAvailable() ? EpollIoHandler.newFactory() : NioIoHandler.newFactory());
  }

  @AfterAll
  static void stop() {
    if (loops != null) {
      loops.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
    if (redis != null) {
      redis.close();
    }
  }

  @AfterEach
  void closeHandlers() {
    handlers.forEach(RedisQuotaHandler::close);
  }

  private RedisQuotaHandler handler(TestContext ctx) {
    Map<String, Object> quota = new LinkedHashMap<>();
    quota.put("name", "per-user");
    quota.put("maxAmount", 1000);
    quota.put("validDuration", "1h");
    Map<String, Object> params = new LinkedHashMap<>();
    params.put("quotas", List.of(quota));
    params.put("redis", Map.of("url", redis.url(), "timeout", "2s"));
    RedisQuotaHandler h = RedisQuotaAdapter.create(new Params(params), ctx, null);
    handlers.add(h);
    value(h.initialized());
    return h;
  }

  /**
   * Asks one allocation on {@code loop} and returns the name of the thread that completed it. The
   * stage is read on the loop right after asking: if its reply could only come back on this
   * loop, the loop is still busy here and the stage cannot be complete yet; if it is, the reply
   * was handled on another thread, and that is reported as such.
   */
  private static String replyThread(RedisQuotaHandler h, EventExecutor loop, String user)
      throws Exception {
    CompletableFuture<String> replied = new CompletableFuture<>();
    CompletableFuture<QuotaResult> result = new CompletableFuture<>();
    loop.submit(() -> {
      CompletionStage<QuotaResult> stage = h.allocateAll(List.of(new Allocation(
          new Instance.Quota("per-user", Map.of("user", user)), QuotaRequest.of(1)))).get(0);
      if (stage.toCompletableFuture().isDone()) {
        replied.complete("another thread, before the asking loop was free");
      }
      stage.whenComplete((r, e) -> {
        replied.complete(Thread.currentThread().getName());
        if (e != null) {
          result.completeExceptionally(e);
        } else {
          result.complete(r);
        }
      });
    }).get(10, TimeUnit.SECONDS);
    QuotaResult r = result.get(10, TimeUnit.SECONDS);
    assertThat(r.granted()).as("granted by Redis").isEqualTo(1);
    return replied.get(10, TimeUnit.SECONDS);
  }

  private static List<String> lettuceIoThreads() {
    return Thread.getAllStackTraces().keySet().stream()
        .map(Thread::getName)
        .filter(n -> n.startsWith("lettuce-") && n.contains("EventLoop"))
        .toList();
  }

  @Test
  void eachLentLoopHasItsConnectionAndRepliesAreHandledOnTheAskingLoop() throws Exception {
    TestContext ctx = new TestContext("lent").withIoEventLoops(loops);
    RedisQuotaHandler h = handler(ctx);

    assertThat(h.connections()).isEqualTo(2);
    assertThat(ctx.gauge("arbiter_redisquota_connected{handler=\"lent\"}")).isEqualTo(1);
    for (int round = 0; round < 5; round++) {
      for (EventExecutor loop : loops) {
        String asking = loop.submit(() -> Thread.currentThread().getName()).get();
        assertThat(replyThread(h, loop, "u" + round)).isEqualTo(asking);
      }
    }
    assertThat(lettuceIoThreads()).as("Lettuce I/O threads of its own").isEmpty();
    assertThat(redis.redisCli("KEYS", "arbiter:quota:lent:*")).contains("u0");
  }

  @Test
  void afterRedisRestartsTheConnectionsComeBackOnTheirLoops() throws Exception {
    TestContext ctx = new TestContext("restart").withIoEventLoops(loops);
    RedisQuotaHandler h = handler(ctx);

    redis.restart();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
    boolean answered = false;
    while (!answered && System.nanoTime() < deadline) {
      answered = h.connected() == 1 && !value(h.allocate(
          new Instance.Quota("per-user", Map.of("user", "probe")), QuotaRequest.of(1))).overLimit();
      Thread.sleep(50);
    }
    assertThat(answered).as("answering again within 15 s").isTrue();
    for (EventExecutor loop : loops) {
      String asking = loop.submit(() -> Thread.currentThread().getName()).get();
      assertThat(replyThread(h, loop, "after")).isEqualTo(asking);
    }
  }

  @Test
  void closingTheHandlerLeavesTheLentLoopsRunning() throws Exception {
    RedisQuotaHandler h = handler(new TestContext("closing").withIoEventLoops(loops));
    h.close();

    Thread.sleep(200); // closing does not wait; give a wrongful shutdown time to show
    assertThat(loops.isShuttingDown()).isFalse();
    for (EventExecutor loop : loops) {
      assertThat(loop.submit(() -> "ran").get(5, TimeUnit.SECONDS)).isEqualTo("ran");
    }
  }

  @Test
  void loopsOfAnotherKindOrAPlainSchedulerAreNotBorrowed() throws Exception {
    EventLoopGroup local = new DefaultEventLoopGroup(1);
    ScheduledThreadPoolExecutor plain = new ScheduledThreadPoolExecutor(1);
    try {
      for (var lent : List.of(local, plain)) {
        RedisQuotaHandler h = handler(new TestContext("other").withIoEventLoops(lent));
        assertThat(h.connections()).isEqualTo(1);
        assertThat(value(h.allocate(new Instance.Quota("per-user", Map.of("user", "x")),
            QuotaRequest.of(1))).granted()).isEqualTo(1);
      }
    } finally {
      local.shutdownGracefully(0, 1, TimeUnit.SECONDS);
      plain.shutdownNow();
    }
  }
}
