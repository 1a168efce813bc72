package io.arbiter.accesslog;

import io.arbiter.engine.AttributeBag;
import io.envoyproxy.envoy.service.accesslog.v3.StreamAccessLogsMessage;

/**
 * Which Envoy reported an entry, from the {@code Identifier} that opens an access-log stream:
 * {@code context.reporter.node} (the node's {@code id}), {@code context.reporter.cluster} (its
 * {@code cluster}) and {@code context.reporter.name} (the logger's {@code log_name}). Empty strings
 * for what the identifier does not carry.
 */
public record Reporter(String node, String cluster, String name) {
  /** No identifier seen (yet): sets nothing. */
  public static final Reporter NONE = new Reporter("", "", "");

  public Reporter {
    node = node == null ? "" : node;
    cluster = cluster == null ? "" : cluster;
    name = name == null ? "" : name;
  }

  public static Reporter of(StreamAccessLogsMessage.Identifier id) {
    return new Reporter(id.getNode().getId(), id.getNode().getCluster(), id.getLogName());
  }

  /** Sets the non-empty {@code context.reporter.*} attributes. */
  public void putInto(AttributeBag.Builder bag) {
    bag.putNonEmpty("context.reporter.node", node);
    bag.putNonEmpty("context.reporter.cluster", cluster);
    bag.putNonEmpty("context.reporter.name", name);
  }
}
