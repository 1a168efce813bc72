/**
 * The {@code log} adapter: {@code logentry} instances written as JSON lines to stdout, stderr or a
 * file rotated by size. Reporting renders and enqueues into a bounded buffer, counting what does
 * not fit; a flush task on the engine's scheduler does the writing, and closing a handler flushes
 * it. Handlers that write one file share it, so a reload never has two writers rotating it. Only
 * {@link io.arbiter.adapters.log.LogAdapter} is public; it is found by {@link
 * java.util.ServiceLoader}.
 */
package io.arbiter.adapters.log;
