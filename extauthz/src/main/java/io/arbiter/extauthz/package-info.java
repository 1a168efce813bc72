/**
 * Envoy's external authorization front ends. gRPC mode ({@code
 * envoy.service.auth.v3.Authorization/Check}): {@link io.arbiter.extauthz.CheckRequestMapper} turns
 * a {@code CheckRequest} into the attribute vocabulary, the {@link io.arbiter.engine.PolicyEngine}
 * decides, and {@link io.arbiter.extauthz.CheckResponseMapper} turns the decision into the {@code
 * CheckResponse} Envoy applies; {@link io.arbiter.extauthz.AuthorizationService} is the gRPC service
 * the server mounts, and {@link io.arbiter.extauthz.CheckResponses} runs the same pipeline offline
 * for the CLI's dry run. HTTP mode (Envoy's {@code http_service}, nginx's {@code auth_request}):
 * {@link io.arbiter.extauthz.HttpCheckService} maps a forwarded request onto the same pipeline and
 * answers with a status, headers and body, leaving the HTTP listener to the server. Nothing here
 * names an adapter; the engine never sees an Envoy type.
 */
package io.arbiter.extauthz;
