package io.arbiter.frontend;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Drainable;
import io.grpc.KnownLength;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import org.junit.jupiter.api.Test;

class SerializedMessagesTest {
  @Test
  void streamsDeclareTheirLengthAndDrainInOneWrite() throws Exception {
    byte[] bytes = {1, 2, 3, 4, 5};
    InputStream s = SerializedMessages.stream(bytes);
    // gRPC's framer buffers a message to measure it unless it is KnownLength.
    assertThat(s).isInstanceOf(KnownLength.class).isInstanceOf(Drainable.class);
    assertThat(s.available()).isEqualTo(5);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    assertThat(((Drainable) s).drainTo(out)).isEqualTo(5);
    assertThat(out.toByteArray()).isEqualTo(bytes);
    assertThat(s.available()).isZero();
  }

  @Test
  void parsingReadsTheWholeMessageKnownLengthOrNot() {
    byte[] bytes = {9, 8, 7};
    assertThat(SerializedMessages.MARSHALLER.parse(SerializedMessages.stream(bytes))).isEqualTo(bytes);
    assertThat(SerializedMessages.MARSHALLER.parse(new ByteArrayInputStream(bytes))).isEqualTo(bytes);
  }
}
