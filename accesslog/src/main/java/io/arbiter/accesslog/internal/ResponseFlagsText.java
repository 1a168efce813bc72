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
   * number in {@code ResponseFlags} (for {@code unauthorized_details}, 13: the message is present),
   * as {@link #fields(ResponseFlags)} and {@code AccessLogWireDecoder} set them.
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

  /** {@link #format(int)} of {@link #fields(ResponseFlags)}. */
  public static String format(ResponseFlags f) {
    return format(fields(f));
  }

  /**
   * The flags set in {@code f} as {@link #format(int)} takes them: bit {@code 1 << n} for the flag
   * of field number {@code n}, and 13 when {@code unauthorized_details} is present.
   */
  public static int fields(ResponseFlags f) {
    int bits = 0;
    bits |= f.getFailedLocalHealthcheck() ? 1 << 1 : 0;
    bits |= f.getNoHealthyUpstream() ? 1 << 2 : 0;
    bits |= f.getUpstreamRequestTimeout() ? 1 << 3 : 0;
    bits |= f.getLocalReset() ? 1 << 4 : 0;
    bits |= f.getUpstreamRemoteReset() ? 1 << 5 : 0;
    bits |= f.getUpstreamConnectionFailure() ? 1 << 6 : 0;
    bits |= f.getUpstreamConnectionTermination() ? 1 << 7 : 0;
    bits |= f.getUpstreamOverflow() ? 1 << 8 : 0;
    bits |= f.getNoRouteFound() ? 1 << 9 : 0;
    bits |= f.getDelayInjected() ? 1 << 10 : 0;
    bits |= f.getFaultInjected() ? 1 << 11 : 0;
    bits |= f.getRateLimited() ? 1 << 12 : 0;
    bits |= f.hasUnauthorizedDetails() ? 1 << 13 : 0;
    bits |= f.getRateLimitServiceError() ? 1 << 14 : 0;
    bits |= f.getDownstreamConnectionTermination() ? 1 << 15 : 0;
    bits |= f.getUpstreamRetryLimitExceeded() ? 1 << 16 : 0;
    bits |= f.getStreamIdleTimeout() ? 1 << 17 : 0;
    bits |= f.getInvalidEnvoyRequestHeaders() ? 1 << 18 : 0;
    bits |= f.getDownstreamProtocolError() ? 1 << 19 : 0;
    bits |= f.getUpstreamMaxStreamDurationReached() ? 1 << 20 : 0;
    bits |= f.getResponseFromCacheFilter() ? 1 << 21 : 0;
    bits |= f.getNoFilterConfigFound() ? 1 << 22 : 0;
    bits |= f.getDurationTimeout() ? 1 << 23 : 0;
    bits |= f.getUpstreamProtocolError() ? 1 << 24 : 0;
    bits |= f.getNoClusterFound() ? 1 << 25 : 0;
    bits |= f.getOverloadManager() ? 1 << 26 : 0;
    bits |= f.getDnsResolutionFailure() ? 1 << 27 : 0;
    bits |= f.getDownstreamRemoteReset() ? 1 << 28 : 0;
    return bits;
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
