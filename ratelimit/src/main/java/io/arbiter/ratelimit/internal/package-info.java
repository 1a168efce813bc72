/**
 * Helpers of the rate-limit front end that are not API: Envoy's time units both ways and protobuf
 * {@code Struct} building for dynamic metadata. They may change without notice.
 */
package io.arbiter.ratelimit.internal;
