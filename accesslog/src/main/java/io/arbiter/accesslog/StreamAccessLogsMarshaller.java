package io.arbiter.accesslog;

import com.google.protobuf.InvalidProtocolBufferException;
import io.grpc.KnownLength;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import java.io.IOException;
import java.io.InputStream;
import java.lang.ref.Reference;
import java.lang.ref.WeakReference;

/**
 * The request marshaller of {@link AccessLogService}'s {@code StreamAccessLogs}: the message's
 * bytes through {@link AccessLogWireDecoder}, as gRPC's protobuf marshaller would hand them to the
 * generated parser. It reads a known-length message of up to 4 MiB into a per-thread buffer,
 * anything else whole; bytes the generated parser rejects fail the call as they do with gRPC's
 * marshaller, with {@code INTERNAL} "Invalid protobuf byte sequence" and the parser's exception as
 * the cause. Server side only: {@link #stream} is unsupported.
 */
final class StreamAccessLogsMarshaller implements MethodDescriptor.Marshaller<AccessLogWireDecoder.Message> {
  /** As gRPC's marshaller: larger messages are not worth a buffer kept per thread. */
  private static final int MAX_BUFFERED = 4 * 1024 * 1024;

  private static final ThreadLocal<Reference<byte[]>> BUFFERS =
      ThreadLocal.withInitial(() -> new WeakReference<>(null));

  private final AccessLogWireDecoder decoder;

  StreamAccessLogsMarshaller(AccessLogWireDecoder decoder) {
    this.decoder = decoder;
  }

  @Override
  public InputStream stream(AccessLogWireDecoder.Message value) {
    throw new UnsupportedOperationException("StreamAccessLogs requests are only parsed here");
  }

  @Override
  public AccessLogWireDecoder.Message parse(InputStream stream) {
    try {
      byte[] buf;
      int size;
      if (stream instanceof KnownLength && (size = stream.available()) > 0 && size <= MAX_BUFFERED) {
        buf = BUFFERS.get().get();
        if (buf == null || buf.length < size) {
          buf = new byte[size];
          BUFFERS.set(new WeakReference<>(buf));
        }
        int read = stream.readNBytes(buf, 0, size);
        if (read != size) {
          throw new RuntimeException("size inaccurate: " + size + " != " + read);
        }
      } else {
        buf = stream.readAllBytes();
        size = buf.length;
      }
      // The decoder keeps nothing of buf, so the next message may reuse it.
      return decoder.decode(buf, 0, size);
    } catch (InvalidProtocolBufferException e) {
      throw Status.INTERNAL.withDescription("Invalid protobuf byte sequence").withCause(e)
          .asRuntimeException();
    } catch (IOException e) {
      throw new RuntimeException(e);
    }
  }
}
