package io.arbiter.adapters.redisquota;

import io.lettuce.core.resource.EventLoopGroupProvider;
import io.lettuce.core.resource.Transports;
import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoEventLoop;
import io.netty.channel.IoHandler;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.EventExecutorGroup;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.ImmediateEventExecutor;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Hands Lettuce one event loop that the server lent ({@link
 * io.arbiter.engine.spi.AdapterContext#ioEventLoops()}) as the "group" of a client, and never
 * shuts it down. A single loop as the group pins the client's connection, and every reconnection
 * of it, to that loop's thread: Netty registers a new channel on {@code group.next()}, which for
 * an event loop is itself.
 *
 * <p>Lettuce picks its socket channel class by itself ({@link Transports#socketChannelClass()}:
 * epoll when Netty's native epoll loads and {@code io.lettuce.core.epoll} is not false, NIO
 * otherwise), and a Netty 4.2 loop accepts only channels of its own I/O type, so {@link #usable}
 * lends nothing unless the loops are of the type Lettuce will use.
 */
final class LentEventLoop implements EventLoopGroupProvider {
  private final EventLoop loop;

  LentEventLoop(EventLoop loop) {
    this.loop = loop;
  }

  /**
   * The loops of {@code lent} that a Lettuce connection can live on: all of them if it is a Netty
   * event loop group of the I/O type Lettuce's channels need, else none (the handler then runs
   * Lettuce on threads of its own).
   */
  static List<EventLoop> usable(Optional<ScheduledExecutorService> lent) {
    if (lent.isEmpty() || !(lent.get() instanceof EventLoopGroup group) || group.isShuttingDown()) {
      return List.of();
    }
    Class<? extends IoHandler> needed;
    try {
      needed = ioHandlerFor(Transports.socketChannelClass());
    } catch (LinkageError e) { // Netty's epoll classes are not on the class path
      return List.of();
    }
    if (needed == null) {
      return List.of();
    }
    List<EventLoop> loops = new ArrayList<>();
    for (EventExecutor e : group) {
      if (!(e instanceof IoEventLoop loop) || !loop.isIoType(needed)) {
        return List.of();
      }
      loops.add(loop);
    }
    return loops;
  }

  private static Class<? extends IoHandler> ioHandlerFor(Class<? extends Channel> channel) {
    if (NioSocketChannel.class.isAssignableFrom(channel)) {
      return NioIoHandler.class;
    }
    if (EpollSocketChannel.class.isAssignableFrom(channel)) {
      return EpollIoHandler.class;
    }
    return null; // kqueue, io_uring: not lent
  }

  @Override
  @SuppressWarnings("unchecked")
  public <T extends EventLoopGroup> T allocate(Class<T> type) {
    // Lettuce asks for the group class of its transport (MultiThreadIoEventLoopGroup in 7.x) and
    // only uses it as an EventLoopGroup: bootstrap.group(it).
    return (T) loop;
  }

  @Override
  public int threadPoolSize() {
    return 1;
  }

  /** Leaves the loop running: it is the server's. */
  @Override
  public Future<Boolean> release(
      EventExecutorGroup eventLoopGroup, long quietPeriod, long timeout, TimeUnit unit) {
    return ImmediateEventExecutor.INSTANCE.newSucceededFuture(Boolean.TRUE);
  }

  /** Leaves the loop running: it is the server's. */
  @Override
  public Future<Boolean> shutdown(long quietPeriod, long timeout, TimeUnit timeUnit) {
    return ImmediateEventExecutor.INSTANCE.newSucceededFuture(Boolean.TRUE);
  }
}
