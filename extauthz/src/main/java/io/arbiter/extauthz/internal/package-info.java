/**
 * Helpers of the ext_authz front end that are not API: query string and UTF-8 decoding, protobuf
 * {@code Struct} conversion both ways, HTTP status mapping onto Envoy's {@code StatusCode}, IP
 * address text, decision ids for answers the engine did not give, and a log throttle. They may
 * change without notice.
 */
package io.arbiter.extauthz.internal;
