/**
 * The {@code memquota} adapter, after Istio Mixer's: quota buckets kept in this process's memory,
 * with fixed-window, rolling-window and token-bucket algorithms. Each Arbiter replica enforces its
 * own limits (use {@code redisquota} for one limit across replicas). Memory is bounded: idle
 * buckets are dropped (losing nothing) and at most {@code maxKeys} are kept. Time comes from the
 * engine's clock and cleanup runs on the engine's scheduler; no threads of its own. Only {@link
 * io.arbiter.adapters.memquota.MemQuotaAdapter} is public; it is found by {@link
 * java.util.ServiceLoader}.
 */
package io.arbiter.adapters.memquota;
