package io.arbiter.adapters.quota;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.arbiter.engine.spi.Instance;
import io.arbiter.engine.spi.Params;
import io.arbiter.engine.spi.ParamsException;
import io.arbiter.engine.spi.QuotaRequest;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The quotas params: parsing, every error by path, overrides, limit overrides and keys. */
class QuotaConfigTest {

  private static QuotaConfig parse(Map<String, ?> params) {
    Params p = new Params(params);
    QuotaConfig c = QuotaConfig.parse(p, "local-quota");
    p.validate();
    return c;
  }

  private static List<String> problems(Map<String, ?> params) {
    Throwable t = catchThrowable(() -> parse(params));
    assertThat(t).isInstanceOf(ParamsException.class);
    return ((ParamsException) t).problems().stream().map(Params.Problem::toString).toList();
  }

  private static Map<String, Object> quota(Object... kv) {
    Map<String, Object> m = new LinkedHashMap<>();
    for (int i = 0; i < kv.length; i += 2) {
      m.put((String) kv[i], kv[i + 1]);
    }
    return m;
  }

  private static Instance.Quota instance(String name, String... kv) {
    Map<String, String> dims = new LinkedHashMap<>();
    for (int i = 0; i < kv.length; i += 2) {
      dims.put(kv[i], kv[i + 1]);
    }
    return new Instance.Quota(name, dims);
  }

  @Test
  void theContractExampleParses() {
    QuotaConfig c = parse(Map.of("quotas", List.of(quota(
        "name", "per-user", "maxAmount", 10, "validDuration", "60s", "algorithm", "FIXED_WINDOW",
        "overrides", List.of(quota("dimensions", Map.of("user", "vip"), "maxAmount", 1000))))));

    assertThat(c.names()).containsExactly("per-user");
    QuotaConfig.Bucket alice = c.resolve(instance("per-user", "user", "alice"), QuotaRequest.of(1));
    assertThat(alice.limit()).isEqualTo(BucketLimit.of(Algorithm.FIXED_WINDOW, 10, 60_000, 1));
    assertThat(alice.key()).isEqualTo("arbiter:quota:local-quota:per-user:user=alice:fw-10-60000");
    QuotaConfig.Bucket vip = c.resolve(instance("per-user", "user", "vip"), QuotaRequest.of(1));
    assertThat(vip.limit().maxAmount()).isEqualTo(1000);
    assertThat(vip.limit().windowMillis()).isEqualTo(60_000);
  }

  @Test
  void windowsOfAnyLength() {
    for (var e : Map.of("1500ms", 1500L, "90s", 90_000L, "36h", 129_600_000L, "7d", 604_800_000L,
        "PT2M", 120_000L).entrySet()) {
      QuotaConfig c = parse(Map.of("quotas", List.of(
          quota("name", "q", "maxAmount", 1, "validDuration", e.getKey()))));
      assertThat(c.spec("q").limit().windowMillis()).as(e.getKey()).isEqualTo(e.getValue());
    }
  }

  @Test
  void theMostSpecificOverrideWinsAndTheFirstAmongEquals() {
    QuotaConfig c = parse(Map.of("quotas", List.of(quota(
        "name", "q", "maxAmount", 10, "validDuration", "1m",
        "overrides", List.of(
            quota("dimensions", Map.of("user", "vip"), "maxAmount", 100),
            quota("dimensions", Map.of("user", "vip", "region", "eu"), "maxAmount", 200,
                "validDuration", "1h"),
            quota("dimensions", Map.of("region", "eu"), "maxAmount", 300),
            quota("dimensions", Map.of("region", "eu"), "maxAmount", 400))))));

    assertThat(max(c, "user", "vip", "region", "eu")).isEqualTo(200);
    assertThat(c.resolve(instance("q", "user", "vip", "region", "eu"), QuotaRequest.of(1))
        .limit().windowMillis()).isEqualTo(3_600_000);
    assertThat(max(c, "user", "vip", "region", "us")).isEqualTo(100);
    assertThat(max(c, "user", "bob", "region", "eu")).isEqualTo(300);
    assertThat(max(c, "user", "bob", "region", "us")).isEqualTo(10);
    assertThat(max(c, "region", "eu")).isEqualTo(300);
    assertThat(max(c)).isEqualTo(10);
    assertThat(c.resolve(instance("q", "user", "vip", "region", "us"), QuotaRequest.of(1))
        .limit().windowMillis()).isEqualTo(60_000);
  }

  private static long max(QuotaConfig c, String... dims) {
    return c.resolve(instance("q", dims), QuotaRequest.of(1)).limit().maxAmount();
  }

  @Test
  void aCallersLimitReplacesTheConfiguredOneInItsOwnBucket() {
    QuotaConfig c = parse(Map.of("quotas", List.of(quota(
        "name", "q", "maxAmount", 10, "validDuration", "1m", "algorithm", "rolling_window",
        "buckets", 6))));
    Instance.Quota i = instance("q", "user", "alice");

    QuotaConfig.Bucket configured = c.resolve(i, QuotaRequest.of(1));
    QuotaConfig.Bucket override =
        c.resolve(i, new QuotaRequest(1, false, new QuotaRequest.Limit(5, 3600)));

    assertThat(override.limit()).isEqualTo(BucketLimit.of(Algorithm.ROLLING_WINDOW, 5, 3_600_000, 6));
    assertThat(override.key()).isNotEqualTo(configured.key())
        .endsWith(":user=alice:rw-5-3600000-6");
    assertThat(c.resolve(i, new QuotaRequest(1, false, new QuotaRequest.Limit(0, 60))).limit()
        .maxAmount()).isZero();
    assertThatThrownBy(() -> c.resolve(i, new QuotaRequest(1, false, new QuotaRequest.Limit(5, 0))))
        .isInstanceOf(UnknownQuotaException.class)
        .hasMessageContaining("the caller's limit of 5 per 0s cannot be used");
  }

  @Test
  void anInstanceWithoutAnEntryIsNamed() {
    QuotaConfig c = parse(Map.of("quotas", List.of(
        quota("name", "per-user", "maxAmount", 1, "validDuration", "1s"))));

    assertThatThrownBy(() -> c.resolve(instance("per-ip"), QuotaRequest.of(1)))
        .isInstanceOf(UnknownQuotaException.class)
        .hasMessage("quota handler 'local-quota' has no entry for quota instance 'per-ip' in its"
            + " params.quotas (it has [per-user])");
  }

  @Test
  void keysEscapeTheirSeparatorsSortDimensionsAndHashLongOnes() {
    BucketLimit limit = BucketLimit.of(Algorithm.TOKEN_BUCKET, 3, 1000, 1);
    Map<String, String> dims = new LinkedHashMap<>();
    dims.put("z", "a:b,c=d%{e}");
    dims.put("a", "x\ny");

    assertThat(QuotaKeys.key("h:1", "i", dims, limit))
        .isEqualTo("arbiter:quota:h%3a1:i:a=x%0ay,z=a%3ab%2cc%3dd%25%7be%7d:tb-3-1000");
    assertThat(QuotaKeys.key("h", "i", Map.of(), limit)).isEqualTo("arbiter:quota:h:i:-:tb-3-1000");
    assertThat(QuotaKeys.key("h", "i", Map.of("ua", "x".repeat(600)), limit))
        .matches("arbiter:quota:h:i:sha256-[0-9a-f]{64}:tb-3-1000");
  }

  @Test
  void everyProblemIsNamedByPath() {
    assertThat(problems(Map.of("quotas", List.of(
        quota("name", "a", "maxAmount", 0, "validDuration", "1s"),
        quota("name", "b", "maxAmount", 1, "validDuration", "0.5ms", "algorithm", "LEAKY"),
        quota("name", "a", "maxAmount", 1, "validDuration", "1s", "buckets", 4),
        quota("maxamount", 1),
        "not a map",
        quota("name", "c", "maxAmount", 1, "validDuration", "3651d", "algorithm", "ROLLING_WINDOW",
            "buckets", 101,
            "overrides", List.of(quota("maxAmount", 2), quota("dimensions", Map.of("u", "v")))),
        quota("name", "d", "maxAmount", 1L << 50, "validDuration", "1501ms",
            "algorithm", "TOKEN_BUCKET")))))
        .containsExactly(
            "quotas[4]: must be a map, was 'not a map'",
            "quotas[0].maxAmount: must be between 1 and 4503599627370496, was 0",
            "quotas[1].algorithm: 'LEAKY' is not one of [FIXED_WINDOW, ROLLING_WINDOW, TOKEN_BUCKET]",
            "quotas[1].validDuration: must be a whole number of milliseconds, was 500000ns",
            "quotas[2].buckets: applies to ROLLING_WINDOW only, not FIXED_WINDOW",
            "quotas[2].name: 'a' is already configured",
            "quotas[3].name: required: the name of the quota instance this entry limits",
            "quotas[3].maxAmount: required: how many units each window allows",
            "quotas[3].validDuration: required: the window, e.g. 1s, 90s, 36h, 7d",
            "quotas[3].maxamount: unknown setting (known: [name, algorithm, maxAmount,"
                + " validDuration, buckets, overrides])",
            "quotas[5].validDuration: must be between 1ms and 3650d, was 3651d",
            "quotas[5].buckets: must be between 1 and 100, was 101",
            "quotas[5].overrides[0].dimensions: required: the dimension values this override"
                + " applies to",
            "quotas[5].overrides[1].maxAmount: required: how many units each window allows",
            "quotas[6].maxAmount: a TOKEN_BUCKET of 1125899906842624 per 1501ms is too large to"
                + " compute exactly: maxAmount × validDuration in ms must be at most 2^52, or the"
                + " window a multiple of 10ms, 100ms, … that brings it below");
  }

  @Test
  void quotasAreRequired() {
    assertThat(problems(Map.of())).singleElement().asString().startsWith("quotas: required");
    assertThat(problems(Map.of("quotas", List.of()))).singleElement().asString()
        .startsWith("quotas: required");
    assertThat(problems(Map.of("quotas", "x"))).singleElement().asString()
        .isEqualTo("quotas: must be a list of maps");
  }
}
