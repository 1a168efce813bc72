package io.arbiter.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The configs of the decision cache benchmarks: a {@link RuleSets} rule set, optionally three more
 * rules that read request headers every service sees, and a {@code settings.cache} section.
 *
 * <p>Named by a spec string: {@code "10"} is {@code RuleSets.yaml(10)}; {@code "10+headers"} adds
 * the header rules below; either may end in {@code "/off"} for {@code cache: {enabled: false}}.
 *
 * <p>The header rules are not guarded by a path or host, so the rule index gives them to every
 * request and every decision reads their headers (the cache key grows by three values, one of them
 * the 111-character {@code user-agent}):
 *
 * <ol>
 *   <li>{@code no-curl}: {@code request.headers[?'user-agent'].orValue('').startsWith('curl/')}:
 *       denied; the standard request's browser user agent does not match;
 *   <li>{@code user-header}: {@code 'x-user' in request.headers}: adds {@code x-arbiter-user} from
 *       it; the standard request (with {@code x-user: user-42}) matches;
 *   <li>{@code internal-forwarded}: {@code request.headers[?'x-forwarded-for'].orValue('')
 *       .startsWith('10.')}: denied; the standard request comes from 203.0.113.7 and does not match.
 * </ol>
 *
 * So {@link Requests#standard()} matches {@link #expectedMatches} rules and is allowed, as with
 * {@link RuleSets} alone. Varying its {@code authorization} header (read by rule kind 3's {@code
 * allow}) changes the cache key but not the decision: that is how the benchmarks make distinct keys.
 *
 * <p>Run as a program to write a config file: {@code java -cp benchmarks.jar
 * io.arbiter.bench.CacheConfigs 10+headers/off /tmp/rules.yaml}.
 */
public final class CacheConfigs {
  private CacheConfigs() {}

  /** The three header-reading rules, as YAML list items. */
  static final String HEADER_RULES =
      """
        - name: no-curl
          match: "request.headers[?'user-agent'].orValue('').startsWith('curl/')"
          actions: [{handler: deny}]
        - name: user-header
          match: "'x-user' in request.headers"
          requestHeadersToAdd: {x-arbiter-user: "request.headers['x-user']"}
        - name: internal-forwarded
          match: "request.headers[?'x-forwarded-for'].orValue('').startsWith('10.')"
          actions: [{handler: deny}]
      """;

  /** The config of {@code spec}, with {@code cacheSettings} (a YAML flow mapping) or the default cache. */
  public static String yaml(String spec, String cacheSettings) {
    Spec s = Spec.parse(spec);
    StringBuilder y = new StringBuilder(RuleSets.yaml(s.rules));
    if (s.headers) {
      if (s.rules == 0) {
        throw new IllegalArgumentException("header rules need at least one RuleSets rule: " + spec);
      }
      y.append(HEADER_RULES);
    }
    String cache = s.off ? "{enabled: false}" : cacheSettings;
    if (cache != null) {
      y.append("settings:\n  cache: ").append(cache).append('\n');
    }
    return y.toString();
  }

  public static String yaml(String spec) {
    return yaml(spec, null);
  }

  /** How many rules {@link Requests#standard()} (any {@code authorization}) matches. */
  public static int expectedMatches(String spec) {
    Spec s = Spec.parse(spec);
    return RuleSets.expectedMatches(s.rules) + (s.headers ? 1 : 0);
  }

  private record Spec(int rules, boolean headers, boolean off) {
    static Spec parse(String spec) {
      String t = spec;
      boolean off = t.endsWith("/off");
      if (off) {
        t = t.substring(0, t.length() - 4);
      }
      boolean headers = t.endsWith("+headers");
      if (headers) {
        t = t.substring(0, t.length() - "+headers".length());
      }
      return new Spec(Integer.parseInt(t), headers, off);
    }
  }

  /** {@code CacheConfigs SPEC OUT.yaml}: writes the config. */
  public static void main(String[] args) throws IOException {
    if (args.length != 2) {
      System.err.println("usage: CacheConfigs RULES[+headers][/off] OUT.yaml");
      System.exit(2);
    }
    Files.writeString(Path.of(args[1]), yaml(args[0]), StandardCharsets.UTF_8);
    System.out.println("wrote " + args[1] + ": " + args[0]);
  }
}
