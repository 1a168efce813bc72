package io.arbiter.accesslog.internal;

import io.envoyproxy.envoy.data.accesslog.v3.ResponseFlags;

/**
 * Envoy's {@code ResponseFlags} as its access logs print them ({@code %RESPONSE_FLAGS%}): the
 * short names of the flags that are set, comma-joined, in Envoy's own order (the order of the
 * proto's fields), e.g. {@code UH} or {@code UF,URX}. No flag gives the empty string (Envoy prints
 * {@code -}).
 */
public final class ResponseFlagsText {
  /** The short name of each flag by its field number in {@code ResponseFlags} (13: {@code unauthorized_details}). */
  private static final String[] BY_FIELD = {
    null, "LH", "UH", "UT", "LR", "UR", "UF", "UC", "UO", "NR", "DI", "FI", "RL", "UAEX", "RLSE",
    "DC", "URX", "SI", "IH", "DPE", "UMSDR", "RFCF", "NFCF", "DT", "UPE", "NC", "OM", "DF", "DR",
  };

  /** The highest field number of {@code ResponseFlags} that is a flag. */
  public static final int LAST_FIELD = BY_FIELD.length - 1;

  private ResponseFlagsText() {}

  /**
   * The flags whose bit {@code 1 << n} is set in {@code fields}, {@code n} being the flag's field
   * number in {@code ResponseFlags} (for {@code unauthorized_details}, 13: the message is present);
   * same text as {@link #format(ResponseFlags)}.
   */
  public static String format(int fields) {
    if (fields == 0) {
      return "";
    }
    StringBuilder b = new StringBuilder();
    for (int n = 1; n <= LAST_FIELD; n++) {
      add(b, (fields & (1 << n)) != 0, BY_FIELD[n]);
    }
    return b.toString();
  }

  public static String format(ResponseFlags f) {
    StringBuilder b = new StringBuilder();
    add(b, f.getFailedLocalHealthcheck(), "LH");
    add(b, f.getNoHealthyUpstream(), "UH");
    add(b, f.getUpstreamRequestTimeout(), "UT");
    add(b, f.getLocalReset(), "LR");
    add(b, f.getUpstreamRemoteReset(), "UR");
    add(b, f.getUpstreamConnectionFailure(), "UF");
    add(b, f.getUpstreamConnectionTermination(), "UC");
    add(b, f.getUpstreamOverflow(), "UO");
    add(b, f.getNoRouteFound(), "NR");
    add(b, f.getDelayInjected(), "DI");
    add(b, f.getFaultInjected(), "FI");
    add(b, f.getRateLimited(), "RL");
    add(b, f.hasUnauthorizedDetails(), "UAEX");
    add(b, f.getRateLimitServiceError(), "RLSE");
    add(b, f.getDownstreamConnectionTermination(), "DC");
    add(b, f.getUpstreamRetryLimitExceeded(), "URX");
    add(b, f.getStreamIdleTimeout(), "SI");
    add(b, f.getInvalidEnvoyRequestHeaders(), "IH");
    add(b, f.getDownstreamProtocolError(), "DPE");
    add(b, f.getUpstreamMaxStreamDurationReached(), "UMSDR");
    add(b, f.getResponseFromCacheFilter(), "RFCF");
    add(b, f.getNoFilterConfigFound(), "NFCF");
    add(b, f.getDurationTimeout(), "DT");
    add(b, f.getUpstreamProtocolError(), "UPE");
    add(b, f.getNoClusterFound(), "NC");
    add(b, f.getOverloadManager(), "OM");
    add(b, f.getDnsResolutionFailure(), "DF");
    add(b, f.getDownstreamRemoteReset(), "DR");
    return b.toString();
  }

  private static void add(StringBuilder b, boolean set, String name) {
    if (set) {
      if (b.length() > 0) {
        b.append(',');
      }
      b.append(name);
    }
  }
}
