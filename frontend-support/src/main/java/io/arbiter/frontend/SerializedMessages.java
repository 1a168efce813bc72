package io.arbiter.frontend;

import io.grpc.Drainable;
import io.grpc.KnownLength;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

/**
 * gRPC messages as their serialized bytes, for methods that read requests or write answers
 * without the generated classes (ext_authz's {@code Check}, the load drivers).
 */
public final class SerializedMessages {
  private SerializedMessages() {}

  /**
   * Bytes to bytes: a message read whole (in one copy when gRPC knows its length), written as it
   * is ({@link #stream}).
   */
  public static final MethodDescriptor.Marshaller<byte[]> MARSHALLER =
      new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(byte[] value) {
          return SerializedMessages.stream(value);
        }

        @Override
        public byte[] parse(InputStream stream) {
          try {
            return stream instanceof KnownLength
                ? stream.readNBytes(stream.available())
                : stream.readAllBytes();
          } catch (IOException e) {
            throw Status.INTERNAL.withDescription("could not read the message").withCause(e)
                .asRuntimeException();
          }
        }
      };

  /**
   * {@code bytes} as gRPC writes a message best: with its length known up front (else the framer
   * buffers it to measure it) and drained in one write, as protobuf's own streams are.
   */
  public static InputStream stream(byte[] bytes) {
    return new Serialized(bytes);
  }

  private static final class Serialized extends ByteArrayInputStream implements KnownLength, Drainable {
    Serialized(byte[] bytes) {
      super(bytes);
    }

    @Override
    public int drainTo(OutputStream target) throws IOException {
      int n = count - pos;
      target.write(buf, pos, n);
      pos = count;
      return n;
    }
  }
}
