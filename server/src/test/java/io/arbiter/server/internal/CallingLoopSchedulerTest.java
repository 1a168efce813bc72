package io.arbiter.server.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.util.concurrent.EventExecutor;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Deadlines armed on an event loop are timed by that loop; shutting the scheduler down stops nothing. */
class CallingLoopSchedulerTest {
  private final IoEventLoops loops = IoEventLoops.start(2);
  private final CallingLoopScheduler scheduler = new CallingLoopScheduler(loops.group());

  @AfterEach
  void stop() {
    loops.close();
  }

  @Test
  void aTaskScheduledOnALoopRunsOnThatLoopAndOneCancelledThereNeverRuns() throws Exception {
    for (EventExecutor loop : loops.group()) {
      String armedOn = loop.submit(() -> Thread.currentThread().getName()).get();
      CompletableFuture<String> ranOn = new CompletableFuture<>();
      CompletableFuture<Boolean> cancelledRan = new CompletableFuture<>();
      loop.submit(() -> {
        scheduler.schedule(() -> ranOn.complete(Thread.currentThread().getName()), 1, TimeUnit.MILLISECONDS);
        ScheduledFuture<?> t = scheduler.schedule(() -> cancelledRan.complete(true), 20, TimeUnit.MILLISECONDS);
        t.cancel(false);
      }).get();

      assertThat(ranOn.get(5, TimeUnit.SECONDS)).isEqualTo(armedOn);
      Thread.sleep(100);
      assertThat(cancelledRan).isNotDone();
    }
  }

  @Test
  void fromAnotherThreadATaskRunsOnSomeLoopAndShutdownLeavesTheLoopsRunning() throws Exception {
    CompletableFuture<String> ranOn = new CompletableFuture<>();
    scheduler.schedule(() -> ranOn.complete(Thread.currentThread().getName()), 1, TimeUnit.MILLISECONDS);
    assertThat(ranOn.get(5, TimeUnit.SECONDS)).startsWith("arbiter-io-");

    scheduler.shutdown();
    scheduler.shutdownNow();

    assertThat(scheduler.isShutdown()).isFalse();
    assertThat(loops.group().submit(() -> "ran").get(5, TimeUnit.SECONDS)).isEqualTo("ran");
  }
}
