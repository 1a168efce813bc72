/**
 * Helpers of the access-log front end that are not API: the on-disk spill store and its record
 * codec, Envoy's response-flag names, query strings, protobuf {@code Struct} conversion and header
 * and address text (the last three copied from the ext_authz front end). They may change without
 * notice.
 */
package io.arbiter.accesslog.internal;
