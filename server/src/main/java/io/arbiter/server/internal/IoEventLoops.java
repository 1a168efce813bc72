package io.arbiter.server.internal;

import io.netty.channel.Channel;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.util.concurrent.TimeUnit;

/**
 * The gRPC server's Netty event loops, made by Arbiter rather than grpc-java so that the same
 * loops can be lent to adapters whose clients run on Netty (redisquota's Lettuce): epoll where
 * Netty's native transport loads (Linux x86_64), NIO otherwise. One group serves as both boss
 * (accepts) and workers: an accept is rare, and a thread of its own for it would sleep on a small
 * machine's cores for nothing.
 *
 * <p>Threads are named {@code arbiter-io-<n>-<k>} and are daemons. {@link #close()} stops them; the
 * server closes this after the gRPC server and the engine's handlers, which may still use them.
 */
public final class IoEventLoops implements AutoCloseable {
  private final EventLoopGroup group;
  private final Class<? extends ServerChannel> serverChannelType;
  private final boolean epoll;
  private final int size;

  private IoEventLoops(int threads, boolean epoll) {
    this.size = threads;
    IoHandlerFactory io = epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
    this.group =
        new MultiThreadIoEventLoopGroup(threads, new DefaultThreadFactory("arbiter-io", true), io);
    this.serverChannelType = epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
    this.epoll = epoll;
  }

  /**
   * Starts {@code threads} event loops; 0 means one per core the JVM may use (so a process pinned
   * to one CPU gets one loop, which then serves every connection, Redis's included).
   *
   * @throws IllegalArgumentException if {@code threads} is negative
   */
  public static IoEventLoops start(int threads) {
    if (threads < 0) {
      throw new IllegalArgumentException("event loop threads must be 0 (one per core) or more, got "
          + threads);
    }
    int n = threads > 0 ? threads : Runtime.getRuntime().availableProcessors();
    return new IoEventLoops(n, Epoll.isAvailable());
  }

  /** The loops: boss and worker group of the gRPC server, and what adapters may borrow. */
  public EventLoopGroup group() {
    return group;
  }

  /** The server channel class matching the loops' transport. */
  public Class<? extends ServerChannel> serverChannelType() {
    return serverChannelType;
  }

  /** The client channel class matching the loops' transport. */
  public Class<? extends Channel> clientChannelType() {
    return epoll ? EpollSocketChannel.class : NioSocketChannel.class;
  }

  /** How many loops (threads) there are. */
  public int size() {
    return size;
  }

  /** {@code epoll} or {@code nio}. */
  public String transport() {
    return epoll ? "epoll" : "nio";
  }

  /** Stops the loops, running what is queued first; waits at most 2 s. */
  @Override
  public void close() {
    group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(3, TimeUnit.SECONDS);
  }
}
