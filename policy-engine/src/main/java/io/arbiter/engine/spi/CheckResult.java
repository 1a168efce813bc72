package io.arbiter.engine.spi;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The outcome of a precondition check: a status, the HTTP directives that go with it, and how long
 * it stays valid. Immutable. Several results {@linkplain #combine combine} into the most
 * restrictive one.
 *
 * <p>On allow, {@code requestHeadersToAdd}/{@code requestHeadersToRemove} apply to the request sent
 * upstream, {@code responseHeadersToAdd} to the response sent downstream, and the query parameter
 * directives to the upstream request's path. On deny, {@code httpStatus}, {@code
 * responseHeadersToAdd} and {@code body} make the response the client gets.
 *
 * @param httpStatus the HTTP status of a denial; 0 means the code's default (403, 401 for
 *     UNAUTHENTICATED, 429 for RESOURCE_EXHAUSTED)
 * @param validDuration how long the result may be reused; {@link Duration#ZERO} means never
 * @param validUseCount how many times it may be reused; 0 means never
 */
public record CheckResult(
    Code code,
    String message,
    int httpStatus,
    List<HeaderValue> requestHeadersToAdd,
    List<String> requestHeadersToRemove,
    List<HeaderValue> responseHeadersToAdd,
    Map<String, String> queryParametersToSet,
    List<String> queryParametersToRemove,
    String body,
    Duration validDuration,
    int validUseCount) {

  /** Used when a result says nothing about validity: reuse for up to a minute, 10,000 times. */
  public static final Duration DEFAULT_VALID_DURATION = Duration.ofMinutes(1);

  public static final int DEFAULT_VALID_USE_COUNT = 10_000;

  private static final CheckResult OK =
      new CheckResult(
          Code.OK, "", 0, List.of(), List.of(), List.of(), Map.of(), List.of(), "",
          DEFAULT_VALID_DURATION, DEFAULT_VALID_USE_COUNT);

  public CheckResult {
    Objects.requireNonNull(code, "code");
    message = message == null ? "" : message;
    body = body == null ? "" : body;
    requestHeadersToAdd = List.copyOf(requestHeadersToAdd);
    requestHeadersToRemove = List.copyOf(requestHeadersToRemove);
    responseHeadersToAdd = List.copyOf(responseHeadersToAdd);
    queryParametersToSet = Map.copyOf(queryParametersToSet);
    queryParametersToRemove = List.copyOf(queryParametersToRemove);
    Objects.requireNonNull(validDuration, "validDuration");
    if (httpStatus != 0 && (httpStatus < 100 || httpStatus > 599)) {
      throw new IllegalArgumentException("httpStatus must be 0 or 100..599, was " + httpStatus);
    }
  }

  /** An allow with no directives and the default validity. */
  public static CheckResult ok() {
    return OK;
  }

  /** A denial with the code's default HTTP status. */
  public static CheckResult deny(Code code, String message) {
    return deny(code, message, 0);
  }

  /** A denial; {@code code} must not be OK. */
  public static CheckResult deny(Code code, String message, int httpStatus) {
    if (code == Code.OK) {
      throw new IllegalArgumentException("a denial needs a code other than OK");
    }
    return new CheckResult(
        code, message, httpStatus, List.of(), List.of(), List.of(), Map.of(), List.of(), "",
        DEFAULT_VALID_DURATION, DEFAULT_VALID_USE_COUNT);
  }

  public boolean allowed() {
    return code == Code.OK;
  }

  /** The HTTP status a denial gets: the one set, or the code's default. */
  public int effectiveHttpStatus() {
    return httpStatus != 0 ? httpStatus : code.defaultHttpStatus();
  }

  public CheckResult withValidity(Duration duration, int useCount) {
    return new CheckResult(
        code, message, httpStatus, requestHeadersToAdd, requestHeadersToRemove,
        responseHeadersToAdd, queryParametersToSet, queryParametersToRemove, body, duration,
        useCount);
  }

  public CheckResult withBody(String newBody) {
    return new CheckResult(
        code, message, httpStatus, requestHeadersToAdd, requestHeadersToRemove,
        responseHeadersToAdd, queryParametersToSet, queryParametersToRemove, newBody,
        validDuration, validUseCount);
  }

  public CheckResult withResponseHeaders(List<HeaderValue> headers) {
    return new CheckResult(
        code, message, httpStatus, requestHeadersToAdd, requestHeadersToRemove, headers,
        queryParametersToSet, queryParametersToRemove, body, validDuration, validUseCount);
  }

  /**
   * Combines results in order into the most restrictive: the first denial wins with its own
   * directives; if all allow, their directives merge in order (later header values after earlier
   * ones, later query parameter values over earlier ones). The validity is the smallest of all.
   */
  public static CheckResult combine(List<CheckResult> results) {
    if (results.isEmpty()) {
      return OK;
    }
    if (results.size() == 1) {
      return results.get(0);
    }
    Duration duration = results.get(0).validDuration;
    int useCount = results.get(0).validUseCount;
    CheckResult firstDenial = null;
    for (CheckResult r : results) {
      if (r.validDuration.compareTo(duration) < 0) {
        duration = r.validDuration;
      }
      useCount = Math.min(useCount, r.validUseCount);
      if (firstDenial == null && !r.allowed()) {
        firstDenial = r;
      }
    }
    if (firstDenial != null) {
      return firstDenial.withValidity(duration, useCount);
    }
    List<HeaderValue> add = new ArrayList<>();
    List<String> remove = new ArrayList<>();
    List<HeaderValue> responseAdd = new ArrayList<>();
    Map<String, String> querySet = new java.util.LinkedHashMap<>();
    List<String> queryRemove = new ArrayList<>();
    for (CheckResult r : results) {
      add.addAll(r.requestHeadersToAdd);
      remove.addAll(r.requestHeadersToRemove);
      responseAdd.addAll(r.responseHeadersToAdd);
      querySet.putAll(r.queryParametersToSet);
      queryRemove.addAll(r.queryParametersToRemove);
    }
    return new CheckResult(
        Code.OK, "", 0, add, remove, responseAdd, querySet, queryRemove, "", duration, useCount);
  }
}
