/**
 * The {@code denier} adapter, after Istio Mixer's: a handler that denies every check it receives
 * with a fixed, configured result (status code, HTTP status, message, body, response headers and
 * validity), whatever the instance holds. Rules use it to turn a CEL match into a denial without a
 * backend. Only {@link io.arbiter.adapters.denier.DenierAdapter} is public; it is found by {@link
 * java.util.ServiceLoader}.
 */
package io.arbiter.adapters.denier;
