package io.arbiter.frontend;

import io.grpc.Context;
import io.grpc.Metadata;
import io.grpc.ServerStreamTracer;

/**
 * When a gRPC call arrived, for load shedding by queue time ({@code settings.overload}).
 *
 * <p>grpc-java reads a call's headers on its transport thread and only then queues the call for
 * the server's executor; {@link #TRACER} notes the time at that first moment in the call's {@link
 * Context}, and a front end reads it with {@link #nanos()} once the call runs, so the difference is
 * the time the call waited in Arbiter's own queue. The server installs the tracer with {@code
 * ServerBuilder.addStreamTracerFactory}.
 */
public final class Arrival {
  private static final Context.Key<Long> KEY = Context.key("arbiter-arrival-nanos");

  /** Notes each call's arrival in its context. */
  public static final ServerStreamTracer.Factory TRACER = new ServerStreamTracer.Factory() {
    @Override
    public ServerStreamTracer newServerStreamTracer(String fullMethodName, Metadata headers) {
      long arrived = System.nanoTime();
      return new ServerStreamTracer() {
        @Override
        public Context filterContext(Context context) {
          return context.withValue(KEY, arrived);
        }
      };
    }
  };

  private Arrival() {}

  /** When the current call arrived ({@link System#nanoTime}); now if no tracer noted it. */
  public static long nanos() {
    Long arrived = KEY.get();
    return arrived != null ? arrived : System.nanoTime();
  }
}
