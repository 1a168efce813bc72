/**
 * The runnable Arbiter: the command line ({@code serve}, {@code validate}, {@code check}), and
 * {@link io.arbiter.server.ArbiterServer}, which wires the engine, the configured adapters and the
 * front ends to one gRPC port and the admin HTTP port.
 */
package io.arbiter.server;
