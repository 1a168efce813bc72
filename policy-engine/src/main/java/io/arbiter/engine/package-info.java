/**
 * The policy engine's public surface: the attribute {@link io.arbiter.engine.Vocabulary} and
 * {@link io.arbiter.engine.AttributeBag} front ends fill, the {@link io.arbiter.engine.PolicyEngine}
 * that decides checks against the serving config snapshot, and the {@link
 * io.arbiter.engine.EngineServices} it and its adapters run on. Nothing here knows gRPC or Envoy.
 */
package io.arbiter.engine;
