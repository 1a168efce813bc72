package io.arbiter.bench;

import io.arbiter.frontend.SerializedMessages;
import io.grpc.MethodDescriptor;

/**
 * Unary gRPC methods whose request and response are the serialized bytes, for the load drivers:
 * requests are serialized once up front and answers parsed only as far as the driver needs, so the
 * client spends its CPU on sending, not on building or reading protobufs.
 */
final class RawGrpc {
  private RawGrpc() {}

  static final MethodDescriptor.Marshaller<byte[]> BYTES = SerializedMessages.MARSHALLER;

  /** {@code service/Method} as a unary call of bytes to bytes. */
  static MethodDescriptor<byte[], byte[]> unary(String fullMethodName) {
    return MethodDescriptor.<byte[], byte[]>newBuilder()
        .setType(MethodDescriptor.MethodType.UNARY)
        .setFullMethodName(fullMethodName)
        .setRequestMarshaller(BYTES)
        .setResponseMarshaller(BYTES)
        .build();
  }
}
