package io.arbiter.adapters.redisquota;

import io.arbiter.adapters.quota.NestedParams;
import io.arbiter.engine.spi.Durations;
import io.arbiter.engine.spi.Params;
import io.lettuce.core.RedisURI;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;

/**
 * The {@code redis} params of a redisquota handler (see {@link RedisQuotaAdapter}).
 *
 * @param display the URL without its password, for logs and errors
 * @param timeout the bound of one allocation's round trip
 * @param failOpen whether an allocation Redis cannot answer is granted (true) or over the limit
 * @param cluster whether {@code uri} is a seed node of a Redis Cluster
 */
record RedisSettings(
    RedisURI uri, String display, Duration timeout, boolean failOpen, boolean cluster) {

  static final Duration DEFAULT_TIMEOUT = Duration.ofMillis(50);
  static final Duration MAX_TIMEOUT = Duration.ofSeconds(60);
  /** The bound of connecting and of the connection handshake. */
  static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(2);

  /** Reads {@code redis}, recording problems as {@code redis.url} and so on; null if invalid. */
  static RedisSettings parse(Params params) {
    Map<String, Object> raw = NestedParams.map(params, "redis");
    if (raw == null) {
      if (!params.has("redis")) {
        params.error("redis", "required: {url: \"redis://host:6379\", timeout, failOpen, cluster}");
      }
      return null;
    }
    Params p = new Params(raw);
    String url = p.string("url", null);
    Duration timeout = p.duration("timeout", DEFAULT_TIMEOUT);
    if (timeout.compareTo(Duration.ofMillis(1)) < 0 || timeout.compareTo(MAX_TIMEOUT) > 0) {
      p.error("timeout", "must be between 1ms and 60s, was " + Durations.format(timeout));
    }
    boolean failOpen = p.bool("failOpen", false);
    boolean cluster = p.bool("cluster", false);
    RedisURI uri = null;
    String display = url == null ? null : redact(url);
    if (url == null || url.isBlank()) {
      p.error("url", "required: redis://[:password@]host[:port][/db], rediss://... (TLS),"
          + " redis-sentinel://... or, with cluster: true, a seed node's redis:// URL");
    } else {
      String scheme = url.contains("://") ? url.substring(0, url.indexOf("://")).toLowerCase(Locale.ROOT) : "";
      boolean sentinel = scheme.equals("redis-sentinel") || scheme.equals("rediss-sentinel");
      if (!scheme.equals("redis") && !scheme.equals("rediss") && !sentinel) {
        p.error("url", "'" + display + "' must start with redis://, rediss://, redis-sentinel:// or"
            + " rediss-sentinel://");
      } else if (sentinel && cluster) {
        p.error("cluster", "a Sentinel URL cannot be a cluster seed: use redis:// or rediss:// with"
            + " cluster: true");
      } else {
        try {
          checkHosts(url);
          uri = RedisURI.create(url);
          // Lettuce bounds the connection handshake (HELLO, AUTH, SELECT) by the URI's timeout:
          // the allocation timeout would be too short for it. Commands get theirs from
          // TimeoutOptions.
          uri.setTimeout(CONNECT_TIMEOUT);
        } catch (RuntimeException e) {
          p.error("url", "'" + display + "' is not a usable Redis URL: "
              + redact(String.valueOf(e.getMessage())));
        }
      }
    }
    NestedParams.merge(params, "redis", p);
    return uri == null ? null : new RedisSettings(uri, display, timeout, failOpen, cluster);
  }

  /** Rejects hosts Lettuce would take whole, such as {@code host:notaport}. */
  private static void checkHosts(String url) {
    java.util.regex.Matcher m =
        java.util.regex.Pattern.compile("^[A-Za-z-]+://(?:[^@/?#]*@)?([^/?#]*)").matcher(url);
    if (!m.find() || m.group(1).isEmpty()) {
      throw new IllegalArgumentException("no host");
    }
    for (String hostPort : m.group(1).split(",")) {
      String port = null;
      if (hostPort.startsWith("[")) {
        int end = hostPort.indexOf(']');
        if (end < 0 || (end + 1 < hostPort.length() && hostPort.charAt(end + 1) != ':')) {
          throw new IllegalArgumentException("bad IPv6 host " + hostPort);
        }
        port = end + 1 < hostPort.length() ? hostPort.substring(end + 2) : null;
      } else if (hostPort.indexOf(':') >= 0) {
        port = hostPort.substring(hostPort.lastIndexOf(':') + 1);
        if (hostPort.indexOf(':') == 0) {
          throw new IllegalArgumentException("no host");
        }
      }
      if (port != null && !(port.matches("\\d{1,5}") && Integer.parseInt(port) >= 1
          && Integer.parseInt(port) <= 65535)) {
        throw new IllegalArgumentException("bad port '" + port + "'");
      }
    }
  }

  /** The URL with any user info (which may hold a password) replaced by {@code ***}. */
  static String redact(String url) {
    return url.replaceAll("(://)[^@/]*@", "$1***@").replaceAll("(?i)(password=)[^&#]*", "$1***");
  }
}
