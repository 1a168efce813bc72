package io.arbiter.bench;

import io.envoyproxy.envoy.service.auth.v3.AttributeContext;
import io.envoyproxy.envoy.service.auth.v3.CheckRequest;
import java.nio.charset.StandardCharsets;

/**
 * {@link Requests#standard()} with one of up to 10,000,000 distinct bearer tokens: the {@code
 * authorization} header is {@code "Bearer <the standard token's header and payload>.sig-NNNNNNN"},
 * {@code NNNNNNN} the key number in seven digits. Every token has the same length, so every
 * request serializes to the same size and differs only in those seven bytes ({@link #template}).
 *
 * <p>The rules of {@link RuleSets} read the header (kind 3's {@code allow: "'authorization' in
 * request.headers"}), so each token is a distinct cache key; the decision does not depend on it.
 */
public final class CacheRequests {
  private CacheRequests() {}

  static final int MAX_KEYS = 10_000_000;
  static final String TOKEN_PREFIX =
      "Bearer eyJhbGciOiJSUzI1NiIsImtpZCI6ImJlbmNoIn0.eyJzdWIiOiJ1c2VyLTQyIiwiaXNzIjoi"
          + "aHR0cHM6Ly9pZHAuZXhhbXBsZS5jb20iLCJleHAiOjE3OTk5OTk5OTl9.sig-";

  /** The token of key {@code k}. */
  public static String token(int k) {
    if (k < 0 || k >= MAX_KEYS) {
      throw new IllegalArgumentException("key " + k + " out of 0.." + (MAX_KEYS - 1));
    }
    return TOKEN_PREFIX + String.format("%07d", k);
  }

  /** The standard request carrying the token of key {@code k}. */
  public static CheckRequest withKey(int k) {
    CheckRequest.Builder b = Requests.standard().toBuilder();
    AttributeContext.HttpRequest.Builder http = b.getAttributesBuilder().getRequestBuilder().getHttpBuilder();
    if (!http.containsHeaders("authorization")) {
      throw new IllegalStateException("the standard request has no authorization header");
    }
    http.putHeaders("authorization", token(k));
    return b.build();
  }

  /**
   * The serialized request of key 0 and the offset of its seven key digits: writing key {@code k}'s
   * digits there gives exactly {@code withKey(k).toByteArray()} (checked here for a few keys).
   */
  public static Template template() {
    byte[] bytes = withKey(0).toByteArray();
    byte[] marker = ("sig-" + String.format("%07d", 0)).getBytes(StandardCharsets.US_ASCII);
    int at = -1;
    for (int i = 0; i + marker.length <= bytes.length && at < 0; i++) {
      int j = 0;
      while (j < marker.length && bytes[i + j] == marker[j]) {
        j++;
      }
      if (j == marker.length) {
        at = i + 4;
      }
    }
    if (at < 0) {
      throw new IllegalStateException("token digits not found in the serialized request");
    }
    Template t = new Template(bytes, at);
    for (int k : new int[] {1, 42, 999_999, MAX_KEYS - 1}) {
      if (!java.util.Arrays.equals(t.bytes(k), withKey(k).toByteArray())) {
        throw new IllegalStateException("template of key " + k + " differs from the built request");
      }
    }
    return t;
  }

  /** A serialized request with the key digits at {@code offset}. */
  public record Template(byte[] base, int offset) {
    /** The serialized request of key {@code k} (a new array). */
    public byte[] bytes(int k) {
      byte[] out = base.clone();
      write(out, offset, k);
      return out;
    }

    /** Writes {@code k}'s seven digits into {@code out} at {@code at}. */
    public static void write(byte[] out, int at, int k) {
      for (int i = 6; i >= 0; i--) {
        out[at + i] = (byte) ('0' + k % 10);
        k /= 10;
      }
    }
  }
}
