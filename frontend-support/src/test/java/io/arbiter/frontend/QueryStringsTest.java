package io.arbiter.frontend;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class QueryStringsTest {
  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "/a/b|/a/b",
        "/a/b?x=1|/a/b",
        "/a#frag|/a",
        "?x|''",
        "''|''",
      })
  void pathEndsAtQueryOrFragment(String target, String path) {
    assertThat(target.substring(0, QueryStrings.pathEnd(target))).isEqualTo(path);
  }

  @Test
  void firstValueWins() {
    assertThat(QueryStrings.parameters("/?a=1&a=2&b=&c")).isEqualTo(Map.of("a", "1", "b", "", "c", ""));
  }

  @Test
  void fragmentIsNotPartOfTheQuery() {
    assertThat(QueryStrings.parameters("/?a=1#b=2")).isEqualTo(Map.of("a", "1"));
    assertThat(QueryStrings.parameters("/#x?a=1")).isEmpty();
  }

  @Test
  void decodesLeniently() {
    assertThat(QueryStrings.decode("a%20b+c")).isEqualTo("a b c");
    assertThat(QueryStrings.decode("%E2%82%AC%41")).isEqualTo("€A");
    assertThat(QueryStrings.decode("100%")).isEqualTo("100%");
    assertThat(QueryStrings.decode("%4")).isEqualTo("%4");
    assertThat(QueryStrings.decode("%g1%")).isEqualTo("%g1%");
    assertThat(QueryStrings.decode("%C3")).isEqualTo("\uFFFD");
    assertThat(QueryStrings.decode("plain")).isEqualTo("plain");
  }

  @Test
  void decodesKeysToo() {
    assertThat(QueryStrings.parameters("/?a%5B0%5D=x&%3D=eq")).isEqualTo(Map.of("a[0]", "x", "=", "eq"));
  }

  @Test
  void lazyParametersAreTheParametersAndEmptyExactlyWhenTheyAre() {
    java.util.Random random = new java.util.Random(7);
    String alphabet = "ab=&?#%2+";
    for (int n = 0; n < 20_000; n++) {
      StringBuilder t = new StringBuilder("/p");
      for (int i = random.nextInt(10); i > 0; i--) {
        t.append(alphabet.charAt(random.nextInt(alphabet.length())));
      }
      String target = t.toString();
      Map<String, String> eager = QueryStrings.parameters(target);
      Map<String, String> lazy = QueryStrings.lazyParameters(target);
      assertThat(lazy.isEmpty()).as(target).isEqualTo(eager.isEmpty());
      assertThat(lazy).as(target).isEqualTo(eager);
      assertThat(lazy.get("a")).as(target).isEqualTo(eager.get("a"));
      assertThat(lazy.containsKey("b")).as(target).isEqualTo(eager.containsKey("b"));
    }
  }
}
