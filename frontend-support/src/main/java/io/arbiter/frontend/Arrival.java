package io.arbiter.frontend;

import io.grpc.Context;
import io.grpc.Metadata;
import io.grpc.ServerStreamTracer;
import java.util.Set;

/**
 * How long a gRPC call waited in Arbiter's queue, for load shedding ({@code settings.overload}).
 *
 * <p>grpc-java reads a call's headers on its transport thread, then queues the call for the
 * server's executor, which starts it ({@code serverCallStarted}) and only then parses its message
 * and runs the service. {@link #tracer} notes both moments and a front end reads the difference
 * with {@link #queuedNanos()}: the time spent waiting for a thread, not the call's own work (on a
 * cold JVM the first call's own work, class loading included, can take a second; that is not
 * overload). The server installs {@link #tracer} for the methods that shed with {@code
 * ServerBuilder.addStreamTracerFactory}.
 */
public final class Arrival {
  private static final Context.Key<Times> KEY = Context.key("arbiter-arrival");

  /** One call's times; the tracer itself. */
  private static final class Times extends ServerStreamTracer {
    final long arrived = System.nanoTime();
    volatile long started;

    @Override
    public Context filterContext(Context context) {
      return context.withValue(KEY, this);
    }

    @Override
    public void serverCallStarted(ServerCallInfo<?, ?> callInfo) {
      started = System.nanoTime();
    }
  }

  /** Traces nothing: what {@link #tracer} gives the methods it was not asked to time. */
  private static final ServerStreamTracer NONE = new ServerStreamTracer() {};

  /**
   * Notes arrival and start only for calls of {@code fullMethodNames} ({@code package.Service/Method}),
   * so the other calls (access-log streams, OTLP exports, health checks) cost no tracer and no
   * context of their own.
   */
  public static ServerStreamTracer.Factory tracer(Set<String> fullMethodNames) {
    Set<String> methods = Set.copyOf(fullMethodNames);
    return new ServerStreamTracer.Factory() {
      @Override
      public ServerStreamTracer newServerStreamTracer(String fullMethodName, Metadata headers) {
        return methods.contains(fullMethodName) ? new Times() : NONE;
      }
    };
  }

  private Arrival() {}

  /** How long the current call waited between arriving and starting; 0 if no tracer noted it. */
  public static long queuedNanos() {
    Times t = KEY.get();
    if (t == null || t.started == 0) {
      return 0;
    }
    return Math.max(0, t.started - t.arrived);
  }
}
