/**
 * The engine's implementation: the CEL environment and compiled expressions, compiled rules and
 * instances, the per-handler context. Not an API: other modules must not depend on it.
 */
package io.arbiter.engine.internal;
