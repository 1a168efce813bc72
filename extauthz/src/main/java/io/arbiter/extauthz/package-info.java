/**
 * Envoy's external authorization front end ({@code envoy.service.auth.v3.Authorization/Check}):
 * {@link io.arbiter.extauthz.CheckRequestMapper} turns a {@code CheckRequest} into the attribute
 * vocabulary, the {@link io.arbiter.engine.PolicyEngine} decides, and {@link
 * io.arbiter.extauthz.CheckResponseMapper} turns the decision into the {@code CheckResponse} Envoy
 * applies. {@link io.arbiter.extauthz.AuthorizationService} is the gRPC service the server mounts;
 * {@link io.arbiter.extauthz.CheckResponses} runs the same pipeline offline for the CLI's dry run.
 * Nothing here names an adapter; the engine never sees an Envoy type.
 */
package io.arbiter.extauthz;
