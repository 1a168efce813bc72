package io.arbiter.adapters.list;

import static io.arbiter.adapters.testing.Stages.failure;
import static io.arbiter.adapters.testing.Stages.value;
import static org.assertj.core.api.Assertions.assertThat;

import io.arbiter.adapters.testing.ManualScheduler;
import io.arbiter.engine.testing.MutableClock;
import io.arbiter.adapters.testing.TestContext;
import io.arbiter.engine.metrics.Metrics;
import io.arbiter.engine.spi.CheckResult;
import io.arbiter.engine.spi.Instance;
import io.arbiter.engine.spi.Params;
import java.lang.System.Logger.Level;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A {@code file:} provider: loaded at config load, refreshed, kept on failure until its ttl. */
class FileProviderTest {
  private static final String SUCCESSES =
      "arbiter_list_refreshes_total{handler=\"acl\",result=\"success\"}";
  private static final String FAILURES =
      "arbiter_list_refreshes_total{handler=\"acl\",result=\"failure\"}";
  private static final String ENTRIES = "arbiter_list_entries{handler=\"acl\"}";

  @TempDir Path dir;
  private TestContext ctx;
  private Path file;

  @BeforeEach
  void setUp() throws Exception {
    ctx =
        new TestContext("acl", dir, new MutableClock(), new ManualScheduler(), null, new Metrics());
    file = dir.resolve("lists/users.txt");
    Files.createDirectories(file.getParent());
    write("# users\nalice\n\n  bob  \n#carol\ndave # not a comment\n");
  }

  private void write(String text) throws Exception {
    Files.writeString(file, text);
  }

  private ListHandler handler(Map<String, Object> extra) {
    Map<String, Object> params = new HashMap<>();
    params.put("providerUrl", "file:lists/users.txt");
    params.put("refreshInterval", "10s");
    params.put("ttl", "30s");
    params.putAll(extra);
    return (ListHandler) new ListAdapter().create(new Params(params), ctx);
  }

  private boolean allowed(ListHandler h, String value) {
    return value(h.check(new Instance.ListEntry("v", value))).allowed();
  }

  @Test
  void loadsTheFileAtConfigLoad() {
    ListHandler h = handler(Map.of("entries", List.of("erin")));

    assertThat(h.initialized().toCompletableFuture()).isCompleted();
    assertThat(allowed(h, "alice")).isTrue();
    assertThat(allowed(h, "bob")).isTrue();
    assertThat(allowed(h, "dave # not a comment")).isTrue();
    assertThat(allowed(h, "erin")).as("inline entries join the file's").isTrue();
    assertThat(allowed(h, "carol")).as("commented out").isFalse();
    assertThat(allowed(h, "# users")).isFalse();
    assertThat(allowed(h, "")).as("blank lines are skipped").isFalse();
    assertThat(ctx.gauge(ENTRIES)).isEqualTo(4);
  }

  @Test
  void absoluteFileUrlsWork() {
    ListHandler h = handler(Map.of("providerUrl", file.toUri().toString()));

    assertThat(allowed(h, "alice")).isTrue();
  }

  @Test
  void refreshIsScheduledOnTheContextSchedulerAndChained() throws Exception {
    ListHandler h = handler(Map.of());
    ManualScheduler scheduler = ctx.manualScheduler();
    assertThat(scheduler.pending())
        .singleElement()
        .satisfies(t -> assertThat(t.delay()).isEqualTo(Duration.ofSeconds(10)));

    write("zoe\n");
    assertThat(scheduler.runPending()).isEqualTo(1);

    assertThat(allowed(h, "zoe")).isTrue();
    assertThat(allowed(h, "alice")).isFalse();
    assertThat(ctx.counter(SUCCESSES)).isEqualTo(1);
    assertThat(scheduler.pending())
        .as("the next refresh is scheduled when one ends")
        .singleElement()
        .satisfies(t -> assertThat(t.delay()).isEqualTo(Duration.ofSeconds(10)));
  }

  @Test
  void deletedFileKeepsTheLastGoodListUntilTtlThenFailsUntilRestored() throws Exception {
    ListHandler h = handler(Map.of());
    MutableClock clock = ctx.mutableClock();

    Files.delete(file);
    clock.advance(Duration.ofSeconds(10));
    value(h.refresh());

    assertThat(allowed(h, "alice")).as("last good list kept").isTrue();
    assertThat(ctx.counter(FAILURES)).isEqualTo(1);
    assertThat(ctx.counter(SUCCESSES)).isZero();
    assertThat(ctx.logger().messages(Level.WARNING))
        .singleElement()
        .satisfies(m -> assertThat(m).contains("refresh failed").contains("no such file " + file));

    clock.advance(Duration.ofSeconds(20));
    assertThat(allowed(h, "alice")).as("exactly ttl old is still served").isTrue();

    clock.advance(Duration.ofMillis(1));
    Throwable t = failure(h.check(new Instance.ListEntry("v", "alice")));
    assertThat(t)
        .isInstanceOf(ListUnavailableException.class)
        .hasMessageStartingWith("list 'acl' expired: last loaded at 2030-01-01T00:00:00Z")
        .hasMessageContaining("ttl of 30s")
        .hasMessageContaining("no such file " + file);
    assertThat(ctx.gauge(ENTRIES)).isEqualTo(0);

    value(h.refresh());
    assertThat(failure(h.check(new Instance.ListEntry("v", "alice"))))
        .isInstanceOf(ListUnavailableException.class);
    assertThat(ctx.counter(FAILURES)).isEqualTo(2);

    write("alice\nfrank\n");
    value(h.refresh());

    assertThat(allowed(h, "frank")).isTrue();
    assertThat(allowed(h, "bob")).isFalse();
    assertThat(ctx.counter(SUCCESSES)).isEqualTo(1);
    assertThat(ctx.gauge(ENTRIES)).isEqualTo(2);
    assertThat(ctx.logger().messages(Level.INFO))
        .anySatisfy(m -> assertThat(m).contains("loaded 2 entries"));
  }

  @Test
  void aSuccessfulRefreshRestartsTheTtl() throws Exception {
    ListHandler h = handler(Map.of());

    ctx.mutableClock().advance(Duration.ofSeconds(25));
    value(h.refresh());
    ctx.mutableClock().advance(Duration.ofSeconds(25));

    assertThat(allowed(h, "alice")).isTrue();
  }

  @Test
  void anInvalidLineFailsTheRefreshAndKeepsTheLastGoodList() throws Exception {
    ListHandler h = handler(Map.of("entryType", "REGEX"));

    write("ok.*\nbro(ken\n");
    value(h.refresh());

    assertThat(allowed(h, "alice")).isTrue();
    assertThat(allowed(h, "okay")).isFalse();
    assertThat(ctx.counter(FAILURES)).isEqualTo(1);
    assertThat(ctx.logger().messages(Level.WARNING))
        .singleElement()
        .satisfies(m -> assertThat(m).contains(file + " line 2: invalid regex 'bro(ken'"));
  }

  @Test
  void closeCancelsTheScheduledRefreshAndNothingIsInstalledAfterwards() throws Exception {
    ListHandler h = handler(Map.of());
    ManualScheduler scheduler = ctx.manualScheduler();
    ManualScheduler.Task next = scheduler.pending().get(0);

    h.close();
    write("zoe\n");
    value(h.refresh());

    assertThat(next.isCancelled()).isTrue();
    assertThat(scheduler.pending()).isEmpty();
    assertThat(scheduler.runPending()).isZero();
    assertThat(ctx.counter(SUCCESSES)).isZero();
    assertThat(allowed(h, "zoe")).isFalse();
    h.close();
  }

  @Test
  void theEntriesGaugeFollowsTheNewestOpenHandlerOfAName() throws Exception {
    ListHandler first = handler(Map.of());
    assertThat(ctx.gauge(ENTRIES)).isEqualTo(3);

    write("one\n");
    ListHandler second = handler(Map.of());
    assertThat(ctx.gauge(ENTRIES)).as("a reload's new handler").isEqualTo(1);

    second.close();
    assertThat(ctx.gauge(ENTRIES)).as("a rejected reload hands back").isEqualTo(3);

    ListHandler third = handler(Map.of());
    first.close();
    assertThat(ctx.gauge(ENTRIES)).as("the replaced handler stops counting").isEqualTo(1);

    third.close();
    assertThat(ctx.gauge(ENTRIES)).as("no handler of that name is left").isNull();
  }

  @Test
  void blacklistFromAFile() {
    ListHandler h = handler(Map.of("blacklist", true));

    CheckResult r = value(h.check(new Instance.ListEntry("v", "bob")));
    assertThat(r.allowed()).isFalse();
    assertThat(r.message()).isEqualTo("'bob' is blacklisted by 'acl'");
    assertThat(allowed(h, "zed")).isTrue();
  }
}
