package io.arbiter.adapters.redisquota;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.arbiter.adapters.testing.TestContext;
import io.arbiter.engine.spi.Params;
import io.arbiter.engine.spi.ParamsException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The redis params, checked at load without any Redis. */
class RedisParamsTest {
  private static final List<Map<String, Object>> QUOTAS =
      List.of(Map.of("name", "q", "maxAmount", 1, "validDuration", "1s"));

  private static List<String> problems(Object redis) {
    Map<String, Object> params = redis == null ? Map.of("quotas", QUOTAS)
        : Map.of("quotas", QUOTAS, "redis", redis);
    Throwable t = catchThrowable(
        () -> new RedisQuotaAdapter().create(new Params(params), new TestContext("rq")));
    assertThat(t).isInstanceOf(ParamsException.class);
    return ((ParamsException) t).problems().stream().map(Params.Problem::toString).toList();
  }

  private static RedisSettings settings(Map<String, Object> redis) {
    Params p = new Params(Map.of("redis", redis));
    RedisSettings s = RedisSettings.parse(p);
    p.validate();
    return s;
  }

  @Test
  void defaults() {
    RedisSettings s = settings(Map.of("url", "redis://:pw@cache.internal:6380/2"));

    assertThat(s.timeout()).isEqualTo(Duration.ofMillis(50));
    assertThat(s.failOpen()).isFalse();
    assertThat(s.cluster()).isFalse();
    assertThat(s.uri().getHost()).isEqualTo("cache.internal");
    assertThat(s.uri().getPort()).isEqualTo(6380);
    assertThat(s.uri().getDatabase()).isEqualTo(2);
    assertThat(s.display()).isEqualTo("redis://***@cache.internal:6380/2");
  }

  @Test
  void tlsSentinelAndClusterUrls() {
    assertThat(settings(Map.of("url", "rediss://cache:6379")).uri().isSsl()).isTrue();
    RedisSettings sentinel = settings(Map.of("url", "redis-sentinel://s1:26379,s2:26379#mymaster"));
    assertThat(sentinel.uri().getSentinels()).hasSize(2);
    assertThat(sentinel.uri().getSentinelMasterId()).isEqualTo("mymaster");
    assertThat(settings(Map.of("url", "redis://node1:7000", "cluster", true)).cluster()).isTrue();
  }

  @Test
  void everyProblemIsNamed() {
    assertThat(problems(null)).singleElement().asString().startsWith("redis: required");
    assertThat(problems("redis://x")).singleElement().asString()
        .isEqualTo("redis: must be a map, was 'redis://x'");
    assertThat(problems(Map.of("url", "http://x", "timeout", "0ms", "failopen", true)))
        .containsExactly(
            "redis.timeout: must be between 1ms and 60s, was 0s",
            "redis.url: 'http://x' must start with redis://, rediss://, redis-sentinel:// or"
                + " rediss-sentinel://",
            "redis.failopen: unknown setting (known: [url, timeout, failOpen, cluster])");
    assertThat(problems(Map.of("timeout", "1s"))).singleElement().asString()
        .startsWith("redis.url: required");
    assertThat(problems(Map.of("url", "redis-sentinel://s1#m", "cluster", true)))
        .singleElement().asString().startsWith("redis.cluster: a Sentinel URL cannot be");
  }

  @Test
  void aPasswordNeverAppearsInAnError() {
    assertThat(problems(Map.of("url", "redis://:hunter2@host:notaport")))
        .singleElement().asString()
        .isEqualTo("redis.url: 'redis://***@host:notaport' is not a usable Redis URL: bad port"
            + " 'notaport'");
    assertThat(problems(Map.of("url", "redis-sentinel://:hunter2@s1:26379")))
        .singleElement().asString()
        .isEqualTo("redis.url: 'redis-sentinel://***@s1:26379' is not a usable Redis URL:"
            + " URI must contain the sentinelMasterId");
    assertThat(settings(Map.of("url", "redis://[::1]:6379")).uri().getPort()).isEqualTo(6379);
  }
}
