/**
 * The server's parts: config watching, the admin HTTP endpoints, JSON logging. Not an API.
 */
package io.arbiter.server.internal;
