/**
 * The config model: YAML files are loaded into {@link io.arbiter.engine.config.ConfigDocument}s,
 * compiled by {@link io.arbiter.engine.config.ConfigCompiler} (every object validated, every
 * expression type-checked, every error collected with file, object and field) into an immutable
 * {@link io.arbiter.engine.config.ConfigSnapshot} that the engine swaps in whole.
 */
package io.arbiter.engine.config;
