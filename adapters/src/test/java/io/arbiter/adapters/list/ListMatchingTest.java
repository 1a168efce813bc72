package io.arbiter.adapters.list;

import static io.arbiter.adapters.testing.Stages.failure;
import static io.arbiter.adapters.testing.Stages.value;
import static org.assertj.core.api.Assertions.assertThat;

import io.arbiter.adapters.testing.TestContext;
import io.arbiter.engine.spi.CheckHandler;
import io.arbiter.engine.spi.CheckResult;
import io.arbiter.engine.spi.Code;
import io.arbiter.engine.spi.Instance;
import io.arbiter.engine.spi.Params;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Lookups of every entry type, in whitelist and blacklist mode, with inline entries only. */
class ListMatchingTest {

  private static CheckHandler list(String type, boolean blacklist, List<String> entries) {
    Map<String, Object> params = new HashMap<>();
    params.put("entryType", type);
    params.put("blacklist", blacklist);
    params.put("entries", entries);
    return (CheckHandler) new ListAdapter().create(new Params(params), new TestContext("acl"));
  }

  private static CheckResult check(CheckHandler h, String value) {
    return value(h.check(new Instance.ListEntry("v", value)));
  }

  private static void assertAllowed(CheckHandler h, String value) {
    CheckResult r = check(h, value);
    assertThat(r.allowed()).as("'%s' allowed (%s)", value, r.message()).isTrue();
  }

  private static void assertDenied(CheckHandler h, String value, String message) {
    CheckResult r = check(h, value);
    assertThat(r.allowed()).as("'%s' denied", value).isFalse();
    assertThat(r.code()).isEqualTo(Code.PERMISSION_DENIED);
    assertThat(r.message()).isEqualTo(message);
  }

  @Test
  void stringWhitelistAllowsOnlyExactEntries() {
    CheckHandler h = list("STRINGS", false, List.of("alice", "bob", ""));

    assertAllowed(h, "alice");
    assertAllowed(h, "");
    assertDenied(h, "Alice", "'Alice' is not in list 'acl'");
    assertDenied(h, "alice ", "'alice ' is not in list 'acl'");
  }

  @Test
  void stringBlacklistDeniesOnlyItsEntries() {
    CheckHandler h = list("STRINGS", true, List.of("mallory"));

    assertDenied(h, "mallory", "'mallory' is blacklisted by 'acl'");
    assertAllowed(h, "Mallory");
    assertAllowed(h, "alice");
  }

  @Test
  void resultsCarryTheCachingSettings() {
    Map<String, Object> params =
        Map.of("entries", List.of("a"), "cachingInterval", "5s", "cachingUseCount", 7);
    CheckHandler h =
        (CheckHandler) new ListAdapter().create(new Params(params), new TestContext("acl"));

    for (CheckResult r : List.of(check(h, "a"), check(h, "b"))) {
      assertThat(r.validDuration()).isEqualTo(Duration.ofSeconds(5));
      assertThat(r.validUseCount()).isEqualTo(7);
    }
  }

  @Test
  void defaultCachingIsAMinuteAndTenThousandUses() {
    CheckResult r = check(list("STRINGS", false, List.of("a")), "a");

    assertThat(r.validDuration()).isEqualTo(Duration.ofSeconds(60));
    assertThat(r.validUseCount()).isEqualTo(10_000);
  }

  @Test
  void emptyWhitelistDeniesEverythingAndEmptyBlacklistAllowsEverything() {
    assertDenied(list("STRINGS", false, List.of()), "x", "'x' is not in list 'acl'");
    assertAllowed(list("STRINGS", true, List.of()), "x");
  }

  @Test
  void caseInsensitiveStringsIgnoreCaseWhateverTheDefaultLocale() {
    Locale saved = Locale.getDefault();
    Locale.setDefault(Locale.forLanguageTag("tr"));
    try {
      CheckHandler h = list("case_insensitive_strings", false, List.of("TITLE", "Straße"));

      assertAllowed(h, "title");
      assertAllowed(h, "TiTlE");
      assertAllowed(h, "STRAßE");
      assertDenied(h, "titles", "'titles' is not in list 'acl'");

      CheckHandler black = list("CASE_INSENSITIVE_STRINGS", true, List.of("Admin"));
      assertDenied(black, "ADMIN", "'ADMIN' is blacklisted by 'acl'");
      assertAllowed(black, "user");
    } finally {
      Locale.setDefault(saved);
    }
  }

  @Test
  void regexesMatchTheWholeValue() {
    CheckHandler h = list("REGEX", false, List.of("ab+c", ".*\\.example\\.com", "(?i)get|head"));

    assertAllowed(h, "abbbc");
    assertAllowed(h, "api.example.com");
    assertAllowed(h, "HEAD");
    assertDenied(h, "xabcx", "'xabcx' is not in list 'acl'");
    assertDenied(h, "example.com", "'example.com' is not in list 'acl'");
    assertDenied(h, "getter", "'getter' is not in list 'acl'");
  }

  @Test
  void regexBlacklist() {
    CheckHandler h = list("REGEX", true, List.of("/admin(/.*)?"));

    assertDenied(h, "/admin/users", "'/admin/users' is blacklisted by 'acl'");
    assertAllowed(h, "/administrator");
    assertAllowed(h, "/public/admin");
  }

  @Test
  void overlongValuesAreDeniedByRegexListsInBothModes() {
    String longValue = "a".repeat(RegexIndex.MAX_INPUT_LENGTH + 1);
    String message =
        "a value of 4097 chars is longer than the 4096 that list 'acl' matches its regexes against";

    assertDenied(list("REGEX", false, List.of("a*")), longValue, message);
    assertDenied(list("REGEX", true, List.of("b")), longValue, message);
    assertAllowed(list("REGEX", false, List.of("a*")), longValue.substring(1));
  }

  @Test
  void catastrophicBacktrackingIsCutOffAndDeniedInBothModes() {
    // Polynomial of degree 12 in the value's length: ~30^12 steps without the budget. (Java 9+
    // memoizes the textbook (a+)+b, so that one is no longer catastrophic.)
    String catastrophic = "(.*a){12}";
    String evil = "a".repeat(30) + "!";

    CheckHandler white = list("REGEX", false, List.of(catastrophic));
    CheckResult r = check(white, evil);
    assertThat(r.allowed()).isFalse();
    assertThat(r.message()).contains("is too costly to match against the regexes of list 'acl'");

    CheckHandler black = list("REGEX", true, List.of(catastrophic));
    assertThat(check(black, evil).allowed()).isFalse();
  }

  @Test
  void anotherRegexThatMatchesStillDecides() {
    String evil = "a".repeat(30) + "!";

    assertAllowed(list("REGEX", false, List.of("(.*a){12}", "a+!")), evil);
    assertDenied(
        list("REGEX", true, List.of("(.*a){12}", "a+!")),
        evil,
        "'" + evil + "' is blacklisted by 'acl'");
  }

  @Test
  void longValuesAreTruncatedInMessages() {
    String value = "x".repeat(1000);
    CheckResult r = check(list("STRINGS", false, List.of()), value);

    assertThat(r.message())
        .isEqualTo("'" + "x".repeat(256) + "...' (1000 chars) is not in list 'acl'");
  }

  @ParameterizedTest
  @CsvSource({
    "10.0.0.0, true",
    "10.255.255.255, true",
    "11.0.0.0, false",
    "9.255.255.255, false",
    "192.0.2.1, true",
    "192.0.2.2, false",
    "192.0.2.0, false",
    "::ffff:10.1.2.3, true",
    "::ffff:192.0.2.1, true",
    "::ffff:192.0.2.2, false",
    "::10.1.2.3, false",
    "2001:db8::, true",
    "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff, true",
    "2001:db9::, false",
    "2001:db7:ffff::, false",
    "::1, true",
    "::2, false",
    "fe80::1%eth0, true",
    "fe80::1, true",
    "fe81::1, false",
  })
  void ipWhitelistMatchesAddressesAndPrefixes(String value, boolean in) {
    CheckHandler h =
        list(
            "IP_ADDRESSES",
            false,
            List.of("10.0.0.0/8", "192.0.2.1", "2001:db8::/32", "::1/128", "fe80::1/128"));

    if (in) {
      assertAllowed(h, value);
    } else {
      assertDenied(h, value, "'" + value + "' is not in list 'acl'");
    }
  }

  @Test
  void ipBlacklistDeniesMembersOnly() {
    CheckHandler h = list("IP_ADDRESSES", true, List.of("203.0.113.0/24", "2001:db8::/48"));

    assertDenied(h, "203.0.113.77", "'203.0.113.77' is blacklisted by 'acl'");
    assertDenied(h, "::ffff:203.0.113.77", "'::ffff:203.0.113.77' is blacklisted by 'acl'");
    assertDenied(h, "2001:db8:0:1::1", "'2001:db8:0:1::1' is blacklisted by 'acl'");
    assertAllowed(h, "203.0.114.1");
    assertAllowed(h, "2001:db8:1::1");
  }

  @Test
  void nonIpValuesAreDeniedByWhitelistsAndAllowedByBlacklists() {
    CheckHandler white = list("IP_ADDRESSES", false, List.of("0.0.0.0/0", "::/0"));
    CheckHandler black = list("IP_ADDRESSES", true, List.of("0.0.0.0/0", "::/0"));

    for (String value : List.of("not-an-ip", "", "10.0.0.256", "10.0.0.1:8080", "[::1]")) {
      assertDenied(
          white, value, "'" + value + "' is not an IP address, so it is not in list 'acl'");
      assertAllowed(black, value);
    }
  }

  @Test
  void zeroLengthPrefixesCoverTheirOwnFamilyOnly() {
    CheckHandler v4All = list("IP_ADDRESSES", false, List.of("0.0.0.0/0"));
    assertAllowed(v4All, "0.0.0.0");
    assertAllowed(v4All, "255.255.255.255");
    assertAllowed(v4All, "::ffff:1.2.3.4");
    assertDenied(v4All, "2001:db8::1", "'2001:db8::1' is not in list 'acl'");

    CheckHandler v6All = list("IP_ADDRESSES", false, List.of("::/0"));
    assertAllowed(v6All, "::");
    assertAllowed(v6All, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
    assertDenied(v6All, "1.2.3.4", "'1.2.3.4' is not in list 'acl'");
    assertDenied(v6All, "::ffff:1.2.3.4", "'::ffff:1.2.3.4' is not in list 'acl'");
  }

  @Test
  void fullLengthPrefixesMatchOneAddress() {
    CheckHandler h = list("IP_ADDRESSES", false, List.of("198.51.100.7/32", "2001:db8::7/128"));

    assertAllowed(h, "198.51.100.7");
    assertDenied(h, "198.51.100.6", "'198.51.100.6' is not in list 'acl'");
    assertDenied(h, "198.51.100.8", "'198.51.100.8' is not in list 'acl'");
    assertAllowed(h, "2001:db8:0:0:0:0:0:7");
    assertDenied(h, "2001:db8::6", "'2001:db8::6' is not in list 'acl'");
    assertDenied(h, "2001:db8::8", "'2001:db8::8' is not in list 'acl'");
  }

  @Test
  void mappedPrefixEntriesMatchIpv4Values() {
    CheckHandler h = list("IP_ADDRESSES", false, List.of("::ffff:192.0.2.0/120"));

    assertAllowed(h, "192.0.2.200");
    assertAllowed(h, "::ffff:192.0.2.1");
    assertDenied(h, "192.0.3.1", "'192.0.3.1' is not in list 'acl'");
  }

  @Test
  void manyPrefixLengthsAndOverlaps() {
    CheckHandler h =
        list(
            "IP_ADDRESSES",
            false,
            List.of("10.0.0.0/8", "10.1.0.0/16", "10.1.2.0/24", "172.16.0.0/12", "10.1.2.3"));

    assertAllowed(h, "10.200.0.1");
    assertAllowed(h, "172.31.255.255");
    assertDenied(h, "172.32.0.0", "'172.32.0.0' is not in list 'acl'");
  }

  @Test
  void otherTemplatesFail() {
    CheckHandler h = list("STRINGS", false, List.of("a"));

    assertThat(failure(h.check(new Instance.CheckNothing("n"))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("takes listentry instances");
  }

  @Test
  void inlineListsAreReadyAtOnceAndNeverExpire() {
    TestContext ctx = new TestContext("acl");
    CheckHandler h =
        (CheckHandler)
            new ListAdapter().create(new Params(Map.of("entries", List.of("a"), "ttl", "1m")), ctx);

    assertThat(h.initialized().toCompletableFuture()).isCompleted();
    assertThat(ctx.manualScheduler().pending()).isEmpty();
    ctx.mutableClock().advance(Duration.ofDays(30));
    assertAllowed(h, "a");
    assertThat(ctx.gauge("arbiter_list_entries{handler=\"acl\"}")).isEqualTo(1);
  }
}
