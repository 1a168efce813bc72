/**
 * The server's parts: config watching, the admin HTTP endpoints, the HTTP-mode check listener,
 * JSON logging. Not an API.
 */
package io.arbiter.server.internal;
