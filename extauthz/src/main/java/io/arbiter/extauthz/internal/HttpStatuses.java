package io.arbiter.extauthz.internal;

import io.envoyproxy.envoy.type.v3.StatusCode;

/**
 * Maps an HTTP status number onto Envoy's {@code type.v3.StatusCode}, whose numbers are the HTTP
 * codes themselves.
 *
 * <p>The enum does not name every code (418, 451 and 599 are missing, for instance). A number it
 * does not name is sent as the nearest generic code rather than as a raw enum number some clients
 * would reject: {@code InternalServerError} (500) for 5xx, and {@code Forbidden} (403, Envoy's own
 * denial default) for anything else.
 */
public final class HttpStatuses {
  private HttpStatuses() {}

  public static StatusCode toEnvoy(int httpStatus) {
    StatusCode code = httpStatus == 0 ? null : StatusCode.forNumber(httpStatus);
    if (code != null && code != StatusCode.UNRECOGNIZED) {
      return code;
    }
    return httpStatus >= 500 && httpStatus <= 599 ? StatusCode.InternalServerError : StatusCode.Forbidden;
  }
}
