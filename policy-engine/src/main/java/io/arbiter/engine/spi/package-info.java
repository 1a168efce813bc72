/**
 * The adapter SPI: what a backend implements to take part in decisions. An {@link
 * io.arbiter.engine.spi.Adapter} validates its params and builds a {@link
 * io.arbiter.engine.spi.Handler}; handlers receive template {@link io.arbiter.engine.spi.Instance}s
 * and answer with {@link io.arbiter.engine.spi.CheckResult}s that the engine combines. Adapters
 * depend on this package only, never on a front end or another adapter.
 */
package io.arbiter.engine.spi;
