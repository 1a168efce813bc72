package io.arbiter.extauthz;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Objects;

/**
 * What to answer an HTTP-mode check: a status (200 allows, anything else denies), response headers
 * in order (a name may repeat) and a body.
 *
 * @param body not copied; never changed after construction
 */
public record HttpCheckResponse(int status, List<Header> headers, byte[] body) {
  /** One response header; the name is lowercase. */
  public record Header(String name, String value) {
    public Header {
      Objects.requireNonNull(name, "name");
      Objects.requireNonNull(value, "value");
    }
  }

  public HttpCheckResponse {
    if (status < 200 || status > 599) {
      throw new IllegalArgumentException("status must be 200..599, was " + status);
    }
    headers = List.copyOf(headers);
    Objects.requireNonNull(body, "body");
  }

  public boolean allowed() {
    return status == 200;
  }

  /** The first value of header {@code name} (lowercase), or null. */
  public String header(String name) {
    for (Header h : headers) {
      if (h.name().equals(name)) {
        return h.value();
      }
    }
    return null;
  }

  /** The body as UTF-8 text. */
  public String bodyText() {
    return new String(body, StandardCharsets.UTF_8);
  }
}
