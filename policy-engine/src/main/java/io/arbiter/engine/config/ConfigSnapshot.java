package io.arbiter.engine.config;

import io.arbiter.engine.internal.CompiledRule;
import io.arbiter.engine.internal.RuleSet;
import io.arbiter.engine.spi.Handler;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * A fully validated config, ready to serve: compiled rules and live handlers. Immutable; the engine
 * swaps whole snapshots, so no call ever sees half of one.
 *
 * @param version a fingerprint of the config's files (the same files give the same version)
 * @param documents the files it was built from
 * @param handlers the live handlers by name
 * @param instanceCount how many instances the config declares
 * @param checks the rules checks evaluate (all but those that only report), with their index
 * @param reports the rules reports evaluate (those with report instances)
 * @param quotas the rules quota calls evaluate (those with quota instances)
 */
public record ConfigSnapshot(
    String version,
    Instant loadedAt,
    List<ConfigDocument> documents,
    Settings settings,
    List<CompiledRule> rules,
    Map<String, HandlerEntry> handlers,
    int instanceCount,
    RuleSet checks,
    RuleSet reports,
    RuleSet quotas) {

  /**
   * A live handler with what it was built from, so the next snapshot can reuse it, and the guard
   * checks call it through.
   */
  public record HandlerEntry(String name, String adapter, Map<String, Object> params, String baseDir,
      Handler handler, io.arbiter.engine.internal.HandlerGuard guard) {
    boolean sameConfig(String adapter, Map<String, Object> params, String baseDir) {
      return this.adapter.equals(adapter) && this.params.equals(params) && this.baseDir.equals(baseDir);
    }
  }

  /** A snapshot whose rule sets are derived from {@code rules}. */
  public static ConfigSnapshot of(
      String version, Instant loadedAt, List<ConfigDocument> documents, Settings settings,
      List<CompiledRule> rules, Map<String, HandlerEntry> handlers, int instanceCount) {
    return new ConfigSnapshot(version, loadedAt, documents, settings, rules, handlers, instanceCount,
        RuleSet.of(rules, CompiledRule::servesChecks), RuleSet.of(rules, CompiledRule::servesReports),
        RuleSet.of(rules, CompiledRule::servesQuotas));
  }

  public ConfigSnapshot {
    documents = List.copyOf(documents);
    rules = List.copyOf(rules);
    handlers = Map.copyOf(handlers);
  }

  /** One line for logs and {@code validate}: counts of each kind of object and the version. */
  public String summary() {
    return String.format(
        "config %s: %d file(s), %d handler(s), %d instance(s), %d rule(s)",
        version, documents.size(), handlers.size(), instanceCount, rules.size());
  }

  /** Completes when every handler finished its first load (lists fetched, say), ok or not. */
  public CompletableFuture<Void> initialized() {
    return CompletableFuture.allOf(
        handlers.values().stream()
            .map(h -> h.handler().initialized().toCompletableFuture().exceptionally(t -> null))
            .toArray(CompletableFuture[]::new));
  }

  /**
   * Closes the handlers and guards this snapshot holds except those in {@code keep} (reused by a
   * newer one).
   */
  public void closeHandlers(Set<?> keep) {
    for (HandlerEntry e : handlers.values()) {
      if (!keep.contains(e.handler())) {
        e.handler().close();
      }
      if (!keep.contains(e.guard())) {
        e.guard().close();
      }
    }
  }
}
