/**
 * Helpers every Envoy front end (ext_authz, rate limit, access log) needs to read the wire into
 * the attribute vocabulary and to write dynamic metadata: query strings, protobuf {@code Struct}s,
 * header and address text. Kept in one place so the front ends agree on them; no front end depends
 * on another, and the engine sees none of these wire types.
 */
package io.arbiter.frontend;
