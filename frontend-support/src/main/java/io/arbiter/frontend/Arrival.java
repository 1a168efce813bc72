package io.arbiter.frontend;

import io.grpc.Context;
import io.grpc.Metadata;
import io.grpc.ServerStreamTracer;

/**
 * How long a gRPC call waited in Arbiter's queue, for load shedding ({@code settings.overload}).
 *
 * <p>grpc-java reads a call's headers on its transport thread, then queues the call for the
 * server's executor, which starts it ({@code serverCallStarted}) and only then parses its message
 * and runs the service. {@link #TRACER} notes both moments and a front end reads the difference
 * with {@link #queuedNanos()}: the time spent waiting for a thread, not the call's own work (on a
 * cold JVM the first call's own work, class loading included, can take a second; that is not
 * overload). The server installs the tracer with {@code ServerBuilder.addStreamTracerFactory}.
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

  /** Notes each call's arrival and start. */
  public static final ServerStreamTracer.Factory TRACER = new ServerStreamTracer.Factory() {
    @Override
    public ServerStreamTracer newServerStreamTracer(String fullMethodName, Metadata headers) {
      return new Times();
    }
  };

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
