package io.arbiter.adapters.list;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigInteger;
import java.net.InetAddress;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class IpAddressTest {

  @ParameterizedTest
  @ValueSource(
      strings = {
        "::",
        "::1",
        "1::",
        "1::8",
        "2001:db8::1",
        "2001:DB8:0:0:8:800:200C:417A",
        "1:2:3:4:5:6:7:8",
        "1:2:3:4:5:6:7::",
        "::2:3:4:5:6:7:8",
        "fe80::abcd:ef01",
        "64:ff9b::192.0.2.33",
        "::192.0.2.33",
        "1:2:3:4:5:6:192.0.2.33",
        "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"
      })
  void parsesIpv6LikeTheJdk(String text) throws Exception {
    IpAddress a = IpAddress.parseValue(text);

    // InetAddress.getByName does no lookup for a literal; every text here is one.
    byte[] expected = InetAddress.getByName(text).getAddress();
    assertThat(a).isNotNull();
    assertThat(a.v4()).isFalse();
    assertThat(bytes(a, 16)).isEqualTo(expected);
  }

  @ParameterizedTest
  @CsvSource({
    "0.0.0.0, 0.0.0.0",
    "255.255.255.255, 255.255.255.255",
    "192.0.2.1, 192.0.2.1",
    "10.1.2.3, 10.1.2.3",
    "::ffff:192.0.2.1, 192.0.2.1",
    "::FFFF:c000:0201, 192.0.2.1",
    "0:0:0:0:0:ffff:10.0.0.1, 10.0.0.1",
  })
  void parsesIpv4AndNormalizesMappedAddresses(String text, String v4) throws Exception {
    IpAddress a = IpAddress.parseValue(text);

    assertThat(a).isNotNull();
    assertThat(a.v4()).isTrue();
    assertThat(bytes(a, 4)).isEqualTo(InetAddress.getByName(v4).getAddress());
  }

  @Test
  void valuesMayCarryAZoneThatIsIgnored() {
    assertThat(IpAddress.parseValue("fe80::1%eth0")).isEqualTo(IpAddress.parseValue("fe80::1"));
    assertThat(IpAddress.parseValue("%eth0")).isNull();
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "",
        "1",
        "1.2.3",
        "1.2.3.4.5",
        "256.1.1.1",
        "1.2.3.256",
        "01.2.3.4",
        "1.2.3.04",
        "1.2.3.-4",
        "1..3.4",
        "1.2.3.4.",
        " 1.2.3.4",
        "1.2.3.4 ",
        "0x1.2.3.4",
        "١.٢.٣.٤",
        "example.com",
        "localhost",
        ":",
        ":::",
        ":1",
        "1:",
        "1:::2",
        "1::2::3",
        "1:2:3:4:5:6:7",
        "1:2:3:4:5:6:7:8:9",
        "1:2:3:4:5:6:7:8::",
        "::1:2:3:4:5:6:7:8",
        "12345::",
        "::g",
        "::1.2.3",
        "::1.2.3.4:5",
        "1:2:3:4:5:6:7:1.2.3.4",
        "::ffff:256.1.1.1",
        "[::1]",
        "1.2.3.4/24"
      })
  void rejectsWhatIsNotAnAddressLiteral(String text) {
    assertThat(IpAddress.parseValue(text)).isNull();
  }

  @ParameterizedTest
  @CsvSource({
    "10.1.2.3/8, true, 10.0.0.0, 8",
    "10.0.0.0/8, true, 10.0.0.0, 8",
    "0.0.0.0/0, true, 0.0.0.0, 0",
    "1.2.3.4/0, true, 0.0.0.0, 0",
    "192.0.2.1, true, 192.0.2.1, 32",
    "192.0.2.1/32, true, 192.0.2.1, 32",
    "2001:db8::/32, false, 2001:db8::, 32",
    "2001:db8:ffff::1/32, false, 2001:db8::, 32",
    "::/0, false, ::, 0",
    "::1, false, ::1, 128",
    "2001:db8::1:2/127, false, 2001:db8::1:2, 127",
    "2001:db8::1:3/127, false, 2001:db8::1:2, 127",
    "2001:db8:0:0:8000::/65, false, 2001:db8:0:0:8000::, 65",
    "::ffff:10.0.0.0/104, true, 10.0.0.0, 8",
    "::ffff:0:0/96, true, 0.0.0.0, 0",
    "::ffff:192.0.2.1, true, 192.0.2.1, 32",
    "::ffff:0:0/95, false, ::fffe:0:0, 95",
    "::ffff:0:0/80, false, ::, 80",
  })
  void parsesPrefixesClearingHostBits(String text, boolean v4, String network, int length)
      throws Exception {
    IpAddress.Prefix p = IpAddress.parsePrefix(text);

    assertThat(p).isNotNull();
    assertThat(p.network().v4()).isEqualTo(v4);
    assertThat(bytes(p.network(), v4 ? 4 : 16))
        .isEqualTo(InetAddress.getByName(network).getAddress());
    assertThat(p.length()).isEqualTo(length);
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "10.0.0.0/33",
        "10.0.0.0/-1",
        "10.0.0.0/",
        "10.0.0.0/08",
        "10.0.0.0/8/8",
        "10.0.0.0/ 8",
        "/8",
        "::/129",
        "::/1000",
        "fe80::1%eth0",
        "10.0.0.300/8",
        "2001:db8::/3x"
      })
  void rejectsBadPrefixes(String text) {
    assertThat(IpAddress.parsePrefix(text)).isNull();
  }

  private static byte[] bytes(IpAddress a, int length) {
    BigInteger n =
        BigInteger.valueOf(a.hi() >>> 1)
            .shiftLeft(1)
            .or(BigInteger.valueOf(a.hi() & 1))
            .shiftLeft(64)
            .or(BigInteger.valueOf(a.lo() >>> 1).shiftLeft(1).or(BigInteger.valueOf(a.lo() & 1)));
    byte[] raw = n.toByteArray();
    byte[] out = new byte[length];
    int copy = Math.min(raw.length, length);
    System.arraycopy(raw, raw.length - copy, out, length - copy, copy);
    return out;
  }
}
