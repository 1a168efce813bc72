package io.arbiter.frontend;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class TextsTest {
  @ParameterizedTest
  @ValueSource(strings = {"", "ascii", "é", "€uro", "😀", "a😀b€é", "x-forwarded-for"})
  void utf8LengthMatchesEncoding(String s) {
    assertThat(Texts.utf8Length(s)).isEqualTo(s.getBytes(StandardCharsets.UTF_8).length);
  }

  @Test
  void anUnpairedSurrogateCountsAsItsReplacement() {
    assertThat(Texts.utf8Length("a\uD800")).isEqualTo(4);
    assertThat(Texts.utf8Length("\uDC00b")).isEqualTo(4);
  }

  @Test
  void lowerAsciiKeepsLowercaseStringsAndNonAscii() {
    String lower = "x-request-id";
    assertThat(Texts.lowerAscii(lower)).isSameAs(lower);
    assertThat(Texts.lowerAscii("X-Request-ÉID")).isEqualTo("x-request-Éid");
  }

  @Test
  void decodesInvalidUtf8WithReplacement() {
    assertThat(Texts.decodeUtf8(ByteString.copyFrom(new byte[] {'a', (byte) 0xe2, (byte) 0x82})))
        .isEqualTo("a\uFFFD");
    assertThat(Texts.decodeUtf8(ByteString.EMPTY)).isEmpty();
  }
}
