package io.arbiter.server.internal;

import io.grpc.Metadata;
import io.grpc.ServerBuilder;
import io.grpc.ServerCall;
import io.grpc.ServerCallExecutorSupplier;
import java.util.Set;
import java.util.concurrent.Executor;

/**
 * Runs the calls of some gRPC methods on the transport thread that read them, and every other
 * call on a pool. For methods whose handling never blocks.
 *
 * <p>The server's own executor is direct and this supplier hands the other methods to the pool,
 * not the reverse: grpc-java looks a call's method up, and asks the supplier, on the server's
 * executor, and a call whose message had already arrived would run its handler there too. With a
 * pool as the server's executor an "inline" call would still wake a pool thread once, and
 * sometimes be handled on it.
 */
public final class InlineCalls implements ServerCallExecutorSupplier {
  private final Set<String> inline;
  private final Executor pool;

  /**
   * @param inline full method names ({@code package.Service/Method}) to run on the transport thread
   * @param pool where every other method runs
   */
  public InlineCalls(Set<String> inline, Executor pool) {
    this.inline = Set.copyOf(inline);
    this.pool = pool;
  }

  /** Sets {@code builder}'s executor to direct and this supplier as its call executor. */
  public static void install(ServerBuilder<?> builder, Executor pool, Set<String> inline) {
    builder.directExecutor().callExecutor(new InlineCalls(inline, pool));
  }

  /** Null (the server's direct executor) for the inline methods, the pool for the rest. */
  @Override
  public <ReqT, RespT> Executor getExecutor(ServerCall<ReqT, RespT> call, Metadata headers) {
    return inline.contains(call.getMethodDescriptor().getFullMethodName()) ? null : pool;
  }
}
