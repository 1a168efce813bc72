package io.arbiter.adapters.denier;

import io.arbiter.engine.spi.Adapter;
import io.arbiter.engine.spi.AdapterContext;
import io.arbiter.engine.spi.CheckResult;
import io.arbiter.engine.spi.Code;
import io.arbiter.engine.spi.Handler;
import io.arbiter.engine.spi.HeaderValue;
import io.arbiter.engine.spi.Params;
import io.arbiter.engine.spi.Template;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The {@code denier} adapter: its handlers deny every {@code checknothing}, {@code listentry} and
 * {@code authorization} instance with one configured result.
 *
 * <p>Params (all optional):
 *
 * <ul>
 *   <li>{@code code}: the status code of the denial, a {@link Code} name other than {@code OK};
 *       default {@code PERMISSION_DENIED}.
 *   <li>{@code httpStatus}: the HTTP status of the denial, 100..599, or 0 (default) for the code's
 *       own ({@link Code#defaultHttpStatus()}: 401 for UNAUTHENTICATED, 429 for RESOURCE_EXHAUSTED,
 *       else 403).
 *   <li>{@code message}: the status message; default {@code denied}.
 *   <li>{@code body}: the body of the denial response; default empty.
 *   <li>{@code headers}: a map of header name to value added to the denial response, each replacing
 *       any header of that name; names must be HTTP tokens, values must not hold CR, LF or NUL.
 *   <li>{@code validDuration}: how long the engine may reuse the denial; default {@code 1m}.
 *   <li>{@code validUseCount}: how many times it may reuse it, 0..2147483647; default 10000.
 * </ul>
 *
 * <p>Stateless and thread-safe.
 */
public final class DenierAdapter implements Adapter {

  /** For {@link java.util.ServiceLoader}. */
  public DenierAdapter() {}

  @Override
  public String name() {
    return "denier";
  }

  @Override
  public Set<Template> templates() {
    return Set.of(Template.CHECKNOTHING, Template.LISTENTRY, Template.AUTHORIZATION);
  }

  /**
   * Builds a handler that denies with the configured result.
   *
   * @throws io.arbiter.engine.spi.ParamsException naming every bad setting: an unknown key, code
   *     {@code OK} or an unknown code, an HTTP status outside 100..599, a bad header name or value,
   *     a bad duration or use count
   */
  @Override
  public Handler create(Params params, AdapterContext context) {
    Code code = params.enumValue("code", Code.class, Code.PERMISSION_DENIED);
    if (code == Code.OK) {
      params.error("code", "'OK' does not deny; name another code, e.g. PERMISSION_DENIED");
      code = Code.PERMISSION_DENIED;
    }
    int httpStatus = (int) params.integer("httpStatus", 0, 0, 599);
    if (httpStatus != 0 && httpStatus < 100) {
      params.error("httpStatus", "must be 0 (the code's default) or 100..599, was " + httpStatus);
      httpStatus = 0;
    }
    String message = params.string("message", "denied");
    String body = params.string("body", "");
    List<HeaderValue> headers = headers(params);
    Duration validDuration = params.duration("validDuration", CheckResult.DEFAULT_VALID_DURATION);
    int validUseCount =
        (int)
            params.integer(
                "validUseCount", CheckResult.DEFAULT_VALID_USE_COUNT, 0, Integer.MAX_VALUE);
    params.validate();
    return new DenierHandler(
        CheckResult.deny(code, message, httpStatus)
            .withBody(body)
            .withResponseHeaders(headers)
            .withValidity(validDuration, validUseCount));
  }

  private static List<HeaderValue> headers(Params params) {
    List<HeaderValue> out = new ArrayList<>();
    for (Map.Entry<String, String> e : params.stringMap("headers").entrySet()) {
      String name = e.getKey();
      String value = e.getValue();
      if (!isToken(name)) {
        params.error("headers", "'" + name + "' is not a valid HTTP header name");
      } else if (value.indexOf('\r') >= 0 || value.indexOf('\n') >= 0 || value.indexOf('\0') >= 0) {
        params.error("headers." + name, "value '" + value + "' holds CR, LF or NUL");
      } else {
        out.add(new HeaderValue(name, value, false));
      }
    }
    return out;
  }

  /** Whether {@code s} is an RFC 9110 token: one or more of ALPHA, DIGIT and !#$%&'*+-.^_`|~. */
  static boolean isToken(String s) {
    if (s.isEmpty()) {
      return false;
    }
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      boolean ok =
          (c >= 'a' && c <= 'z')
              || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9')
              || "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
      if (!ok) {
        return false;
      }
    }
    return true;
  }
}
