package io.arbiter.adapters.list;

import static org.assertj.core.api.Assertions.assertThat;

import io.arbiter.adapters.testing.ManualScheduler;
import io.arbiter.engine.testing.MutableClock;
import io.arbiter.adapters.testing.TestContext;
import io.arbiter.engine.metrics.Metrics;
import io.arbiter.engine.spi.Params;
import io.arbiter.engine.spi.ParamsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Config errors: each names its field and the bad value, and all come at once. */
class ListParamsTest {
  @TempDir Path dir;

  private List<String> problems(Map<String, ?> params) {
    TestContext ctx =
        new TestContext("acl", dir, new MutableClock(), new ManualScheduler(), null, new Metrics());
    Throwable t =
        org.assertj.core.api.Assertions.catchThrowable(
            () -> new ListAdapter().create(new Params(params), ctx));
    assertThat(t).isInstanceOf(ParamsException.class);
    return ((ParamsException) t).problems().stream().map(Params.Problem::toString).toList();
  }

  @Test
  void unknownKeysAreRejected() {
    assertThat(problems(Map.of("entrytype", "REGEX")))
        .singleElement()
        .satisfies(p -> assertThat(p).startsWith("entrytype: unknown setting"));
  }

  @Test
  void badEntryTypeIsNamed() {
    assertThat(problems(Map.of("entryType", "STRING")))
        .singleElement()
        .satisfies(
            p -> assertThat(p).startsWith("entryType: 'STRING' is not one of").contains("REGEX"));
  }

  @Test
  void everyInvalidIpEntryIsNamedByIndexAndText() {
    assertThat(
            problems(
                Map.of(
                    "entryType",
                    "IP_ADDRESSES",
                    "entries",
                    List.of("10.0.0.0/8", "10.0.0.0/33", "2001:db8::/129", "host.local"))))
        .satisfiesExactly(
            p -> assertThat(p).startsWith("entries[1]: '10.0.0.0/33' is not an IP address or CIDR"),
            p -> assertThat(p).startsWith("entries[2]: '2001:db8::/129' is not an IP address"),
            p -> assertThat(p).startsWith("entries[3]: 'host.local' is not an IP address"));
  }

  @Test
  void invalidRegexIsNamed() {
    assertThat(problems(Map.of("entryType", "REGEX", "entries", List.of("ok", "a(b"))))
        .singleElement()
        .satisfies(
            p -> assertThat(p).startsWith("entries[1]: invalid regex 'a(b': Unclosed group"));
  }

  @Test
  void ttlShorterThanRefreshIntervalIsRejected() {
    assertThat(
            problems(
                Map.of(
                    "providerUrl", "http://127.0.0.1:1/list",
                    "refreshInterval", "60s",
                    "ttl", "30s")))
        .singleElement()
        .satisfies(
            p ->
                assertThat(p)
                    .isEqualTo(
                        "ttl: 30s is shorter than refreshInterval 1m: the list would expire between"
                            + " refreshes"));
  }

  @Test
  void durationsAndNumbersAreChecked() {
    Map<String, Object> params = new LinkedHashMap<>();
    params.put("refreshInterval", "500ms");
    params.put("cachingInterval", "later");
    params.put("cachingUseCount", -1);
    params.put("fetchTimeout", "0s");
    params.put("maxBytes", 0);
    params.put("blacklist", "yes");

    assertThat(problems(params))
        .satisfiesExactlyInAnyOrder(
            p -> assertThat(p).isEqualTo("refreshInterval: must be at least 1s, was 500ms"),
            p -> assertThat(p).startsWith("cachingInterval: ").contains("'later'"),
            p -> assertThat(p).startsWith("cachingUseCount: ").contains("-1"),
            p -> assertThat(p).isEqualTo("fetchTimeout: must be more than 0, was 0s"),
            p -> assertThat(p).startsWith("maxBytes: ").contains("was 0"),
            p -> assertThat(p).startsWith("blacklist: ").contains("'yes'"));
  }

  @Test
  void providerUrlMustBeFileOrHttp() {
    assertThat(problems(Map.of("providerUrl", "ftp://example.com/list")))
        .singleElement()
        .satisfies(
            p -> assertThat(p).startsWith("providerUrl: 'ftp://example.com/list' must be a file:"));
    assertThat(problems(Map.of("providerUrl", "http:///list")))
        .singleElement()
        .satisfies(
            p -> assertThat(p).startsWith("providerUrl: 'http:///list' is not a usable URL"));
    assertThat(problems(Map.of("providerUrl", "file:")))
        .singleElement()
        .satisfies(p -> assertThat(p).startsWith("providerUrl: 'file:' is not a usable file: URL"));
    assertThat(problems(Map.of("providerUrl", "file://server/share/list.txt")))
        .singleElement()
        .satisfies(p -> assertThat(p).startsWith("providerUrl: 'file://server/share/list.txt'"));
  }

  @Test
  void unreadableFileIsAConfigError() {
    assertThat(problems(Map.of("providerUrl", "file:missing.txt")))
        .singleElement()
        .satisfies(
            p ->
                assertThat(p)
                    .isEqualTo(
                        "providerUrl: cannot read "
                            + dir.resolve("missing.txt")
                            + ": no such file "
                            + dir.resolve("missing.txt")));
  }

  @Test
  void invalidLineInAFileIsAConfigErrorNamingTheLine() throws Exception {
    Path file = Files.writeString(dir.resolve("ips.txt"), "# ips\n10.0.0.0/8\n\n10.0.0.300\n");

    assertThat(
            problems(Map.of("entryType", "IP_ADDRESSES", "providerUrl", file.toUri().toString())))
        .singleElement()
        .satisfies(
            p ->
                assertThat(p)
                    .startsWith(
                        "providerUrl: " + file + " line 4: '10.0.0.300' is not an IP address"));
  }

  @Test
  void fileThatIsNotUtf8IsAConfigError() throws Exception {
    Files.write(dir.resolve("bad.txt"), new byte[] {'a', '\n', (byte) 0xff, (byte) 0xfe});

    assertThat(problems(Map.of("providerUrl", "file:bad.txt")))
        .singleElement()
        .satisfies(p -> assertThat(p).contains("bad.txt is not valid UTF-8 text"));
  }

  @Test
  void fileLargerThanMaxBytesIsAConfigError() throws Exception {
    Files.writeString(dir.resolve("big.txt"), "x".repeat(100));

    assertThat(problems(Map.of("providerUrl", "file:big.txt", "maxBytes", 99)))
        .singleElement()
        .satisfies(p -> assertThat(p).contains("is 100 bytes, more than maxBytes 99"));
  }

  @Test
  void allProblemsComeTogether() {
    Map<String, Object> params = new LinkedHashMap<>();
    params.put("entryType", "IP_ADDRESSES");
    params.put("entries", List.of("nope"));
    params.put("ttl", "1s");
    params.put("providerUrl", "gopher://x");
    params.put("colour", "blue");

    assertThat(problems(params))
        .extracting(p -> p.substring(0, p.indexOf(':')))
        .containsExactlyInAnyOrder("entries[0]", "ttl", "providerUrl", "colour");
  }
}
