package io.arbiter.extauthz.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import org.junit.jupiter.api.Test;

class AddressesTest {
  private static String format(String literal) throws Exception {
    return Addresses.format(InetAddress.getByName(literal));
  }

  @Test
  void writesAddressesTheWayEnvoyDoes() throws Exception {
    assertThat(format("192.0.2.1")).isEqualTo("192.0.2.1");
    assertThat(format("0:0:0:0:0:0:0:1")).isEqualTo("::1");
    assertThat(format("0:0:0:0:0:0:0:0")).isEqualTo("::");
    assertThat(format("2001:DB8:0:0:1:0:0:1")).isEqualTo("2001:db8::1:0:0:1");
    assertThat(format("2001:db8:0:1:1:1:1:1")).isEqualTo("2001:db8:0:1:1:1:1:1");
    assertThat(format("fe80:0:0:0:0:0:0:1%1")).isEqualTo("fe80::1");
    assertThat(format("1:0:0:2:0:0:0:3")).isEqualTo("1:0:0:2::3");
  }
}
