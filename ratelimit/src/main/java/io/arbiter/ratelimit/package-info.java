/**
 * Envoy's rate-limit front end ({@code
 * envoy.service.ratelimit.v3.RateLimitService/ShouldRateLimit}): {@link
 * io.arbiter.ratelimit.RateLimitRequestMapper} turns each descriptor of a {@code RateLimitRequest}
 * into the attributes {@code ratelimit.domain}, {@code ratelimit.descriptor} and
 * {@code ratelimit.hits_addend} and a quota request, the {@link io.arbiter.engine.PolicyEngine}
 * decides each descriptor with its quota rules, and {@link
 * io.arbiter.ratelimit.RateLimitResponseMapper} turns the decisions into the {@code
 * RateLimitResponse} Envoy applies; {@link io.arbiter.ratelimit.RateLimitService} is the gRPC
 * service the server mounts. Nothing here names an adapter; the engine never sees an Envoy type.
 */
package io.arbiter.ratelimit;
