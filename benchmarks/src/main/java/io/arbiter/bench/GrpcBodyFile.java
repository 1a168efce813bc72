package io.arbiter.bench;

import io.envoyproxy.envoy.service.auth.v3.CheckRequest;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Writes one gRPC unary request message, framed as on the wire (a 0 compression byte, the 4-byte
 * big-endian length, the serialized {@link Requests#standard()} CheckRequest), for h2load:
 *
 * <pre>
 * java -cp benchmarks/target/benchmarks.jar io.arbiter.bench.GrpcBodyFile /tmp/check.bin
 * h2load -d /tmp/check.bin -H 'content-type: application/grpc' -H 'te: trailers' \
 *     -c 4 -m 32 -D 10 http://127.0.0.1:9191/envoy.service.auth.v3.Authorization/Check
 * </pre>
 *
 * (h2load sends POST when given {@code -d}.) Every request of a run is this same message.
 */
public final class GrpcBodyFile {
  private GrpcBodyFile() {}

  /** {@code message} framed as one gRPC length-prefixed message, uncompressed. */
  static byte[] frame(byte[] message) {
    return ByteBuffer.allocate(5 + message.length).put((byte) 0).putInt(message.length).put(message).array();
  }

  public static void main(String[] args) throws IOException {
    if (args.length != 1) {
      System.err.println("usage: GrpcBodyFile OUT.bin");
      System.exit(2);
    }
    CheckRequest request = Requests.standard();
    byte[] framed = frame(request.toByteArray());
    Files.write(Path.of(args[0]), framed);
    System.out.println("wrote " + args[0] + ": " + framed.length + " bytes (CheckRequest of "
        + (framed.length - 5) + " bytes)");
  }
}
