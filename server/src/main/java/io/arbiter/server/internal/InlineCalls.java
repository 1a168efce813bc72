package io.arbiter.server.internal;

import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallExecutorSupplier;
import java.util.Set;
import java.util.concurrent.Executor;

/**
 * Runs the calls of some gRPC methods on the transport thread that read them (a direct executor);
 * every other call goes to the server's executor. For methods whose handling never blocks.
 */
public final class InlineCalls implements ServerCallExecutorSupplier {
  private static final Executor DIRECT = Runnable::run;

  private final Set<String> methods;

  /** @param methods full method names ({@code package.Service/Method}) to run inline */
  public InlineCalls(Set<String> methods) {
    this.methods = Set.copyOf(methods);
  }

  @Override
  public <ReqT, RespT> Executor getExecutor(ServerCall<ReqT, RespT> call, Metadata headers) {
    return methods.contains(call.getMethodDescriptor().getFullMethodName()) ? DIRECT : null;
  }
}
