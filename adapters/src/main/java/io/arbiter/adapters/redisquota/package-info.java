/**
 * The {@code redisquota} adapter: quota buckets kept in Redis, with the algorithms and results of
 * {@code memquota}, so that any number of Arbiter replicas sharing a Redis enforce one limit. Each
 * allocation is one atomic Lua script run ({@code EVALSHA}, falling back to {@code EVAL} once when
 * Redis has lost its script cache), timed by Redis's own {@code TIME} so replicas with skewed
 * clocks agree; allocations of one call are pipelined on one connection. Keys expire once their
 * bucket is as good as fresh, so Redis memory is bounded by the buckets in use. A Redis that
 * cannot answer in time gives the handler's {@code failOpen} outcome, counted; Lettuce reconnects
 * when it returns.
 *
 * <p>Unlike the other adapters, a redisquota handler runs threads that are not the engine's:
 * Lettuce's timer and computation threads, and, unless the server lends its I/O event loops
 * ({@code AdapterContext.ioEventLoops()}, a Netty group of the transport Lettuce uses), Lettuce's
 * own Netty event loops (released on {@code close()}). With lent loops it keeps one connection
 * on each, so an allocation asked on a loop thread is sent, answered and completed on that
 * thread. Everything else (the first connections' retries) runs on the engine's scheduler. Only {@link
 * io.arbiter.adapters.redisquota.RedisQuotaAdapter} is public; it is found by {@link
 * java.util.ServiceLoader}.
 */
package io.arbiter.adapters.redisquota;
