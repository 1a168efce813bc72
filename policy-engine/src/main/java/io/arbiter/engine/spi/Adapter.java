package io.arbiter.engine.spi;

import java.util.Set;

/**
 * An adapter: a kind of backend that handlers in config name with {@code adapter: NAME}.
 * Discovered with {@link java.util.ServiceLoader}: a jar on the class path that lists its
 * implementation in {@code META-INF/services/io.arbiter.engine.spi.Adapter} adds one.
 *
 * <p>Implementations are stateless factories and thread-safe.
 */
public interface Adapter {

  /** The name config uses, e.g. {@code list}. Unique among adapters. */
  String name();

  /** The templates its handlers accept. */
  Set<Template> templates();

  /**
   * Validates {@code params} and builds a handler. Reads every setting through {@code params},
   * reports each bad one with {@link Params#error}, and ends with {@link Params#validate()} (which
   * also rejects unknown settings); a {@link ParamsException} carries every error at once.
   *
   * @throws ParamsException if the params are invalid
   */
  Handler create(Params params, AdapterContext context);
}
