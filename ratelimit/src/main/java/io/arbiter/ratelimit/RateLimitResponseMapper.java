package io.arbiter.ratelimit;

import com.google.protobuf.ListValue;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import io.arbiter.engine.PolicyEngine;
import io.arbiter.engine.QuotaDecision;
import io.arbiter.engine.spi.Durations;
import io.arbiter.engine.spi.QuotaResult;
import io.arbiter.frontend.Structs;
import io.arbiter.ratelimit.internal.Units;
import io.envoyproxy.envoy.config.core.v3.HeaderValue;
import io.envoyproxy.envoy.service.ratelimit.v3.RateLimitResponse;
import io.envoyproxy.envoy.service.ratelimit.v3.RateLimitResponse.Code;
import io.envoyproxy.envoy.service.ratelimit.v3.RateLimitResponse.DescriptorStatus;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Turns the engine's decisions, one per descriptor, into the {@code RateLimitResponse} Envoy
 * applies.
 *
 * <ul>
 *   <li>{@code overall_code}: OVER_LIMIT when any descriptor is over its limit, else OK (never
 *       UNKNOWN, which Envoy does not expect).
 *   <li>{@code statuses}: exactly one per descriptor, in the request's order. {@code code} is
 *       OVER_LIMIT when an allocation that counts (not a shadow-mode rule's) was over its limit.
 *       The other fields describe the descriptor's tightest allocation ({@link
 *       QuotaDecision#tightest()}: over the limit first, then least remaining) when that is a real
 *       bucket (a positive window and a finite limit): {@code current_limit.requests_per_unit} is
 *       the bucket's limit, {@code limit_remaining} what is left (at least 0), {@code
 *       duration_until_reset} the time until the window frees units. A descriptor no rule matched,
 *       an unknown domain, a shadow-only match and a failure resolved by the failure policy carry
 *       the code alone: no {@code current_limit}, so Envoy leaves them out of its {@code
 *       x-ratelimit-*} headers.
 *   <li>{@code current_limit.unit}: the unit equal to the bucket's window, or, for windows that are
 *       not one of Envoy's units (memquota takes any length), the nearest unit ({@link
 *       Units#closest}). {@code requests_per_unit} is never scaled to that unit: Envoy reads
 *       {@code current_limit} only to write {@code X-RateLimit-Limit} (the limit, then {@code
 *       ;w=} the unit's seconds as the policy), where the first number and {@code
 *       X-RateLimit-Remaining} stay exact and only the advertised window is approximate. The exact
 *       window is in the dynamic metadata.
 *   <li>{@code response_headers_to_add}: {@value #LIMIT_HEADER}, {@value #REMAINING_HEADER} and
 *       {@value #RESET_HEADER} (IETF draft-polli-ratelimit-headers, the draft Envoy's own headers
 *       follow) of the tightest bucket over all descriptors (over the limit first, then least
 *       remaining, the first descriptor on ties): the limit, the remainder (at least 0) and the
 *       seconds until reset, rounded up. The same three headers a check over its quota gets. None
 *       when no descriptor has a bucket. Envoy adds them to the response whether or not it is
 *       limited.
 *   <li>{@code dynamic_metadata} (Envoy's namespace {@code envoy.filters.http.ratelimit}): {@code
 *       decision_ids} (one per descriptor, in order), {@code matched_rules} (every rule that
 *       matched any descriptor, once, in order), {@code config_version}, {@code error} (all errors,
 *       joined by {@code "; "}) when something failed, {@code rejected} when the request was not
 *       evaluated, and {@code descriptors}: per descriptor {@code decision_id}, {@code code},
 *       {@code matched_rules}, and for its tightest bucket {@code rule}, {@code instance}, {@code
 *       limit}, {@code remaining} and {@code window} (exact, e.g. {@code 90s}); {@code error} and
 *       {@code note} when there are any.
 *   <li>No {@code request_headers_to_add} and no {@code raw_body}: a limited request gets Envoy's
 *       own reply ({@code rate_limited_status}, 429 by default).
 * </ul>
 *
 * <p>Stateless and thread-safe.
 */
public final class RateLimitResponseMapper {
  public static final String LIMIT_HEADER = "ratelimit-limit";
  public static final String REMAINING_HEADER = "ratelimit-remaining";
  public static final String RESET_HEADER = "ratelimit-reset";

  private static final long UINT32_MAX = 0xFFFF_FFFFL;

  private RateLimitResponseMapper() {}

  /**
   * One descriptor's decision.
   *
   * @param note what the request mapper ignored of the descriptor, or ""
   */
  public record DescriptorDecision(QuotaDecision decision, String note) {
    public DescriptorDecision {
      Objects.requireNonNull(decision, "decision");
      Objects.requireNonNull(note, "note");
    }

    /** True when no rule matched the descriptor (an unknown domain included). */
    public boolean unmatched() {
      return decision.matchedRules().isEmpty();
    }
  }

  /** The {@code code} field of a descriptor's metadata, one Value per code for every response. */
  private static final Value OK_CODE = Structs.string(Code.OK.name());

  private static final Value OVER_LIMIT_CODE = Structs.string(Code.OVER_LIMIT.name());

  /** A descriptor no rule matched lists no rules. */
  private static final Value NO_RULES = Structs.strings(List.of());

  /**
   * The {@code window} field of buckets whose window is exactly one of Envoy's units (the usual
   * config: a second, a minute, an hour…), formatted once; other windows are formatted per call.
   */
  private static final Map<Duration, Value> UNIT_WINDOWS = unitWindows();

  /**
   * The response to a request whose descriptors were decided as {@code decisions}, in order.
   *
   * <p>It is built in one pass straight into the protobuf builders, with no intermediate lists:
   * this runs for every {@code ShouldRateLimit} call, and the response is most of what the front
   * end allocates. A Value that appears twice (a decision id in {@code decision_ids} and in its
   * descriptor's entry; a rule name in {@code matched_rules} and in its descriptor's list) is one
   * object, which protobuf serializes the same as two equal ones.
   */
  public static RateLimitResponse toResponse(List<DescriptorDecision> decisions) {
    RateLimitResponse.Builder out = RateLimitResponse.newBuilder();
    boolean anyOver = false;
    QuotaResult tightest = null;
    boolean tightestOver = false;
    ListValue.Builder ids = ListValue.newBuilder();
    MatchedRules matched = new MatchedRules();
    List<String> errors = null;
    ListValue.Builder perDescriptor = ListValue.newBuilder();
    for (int i = 0; i < decisions.size(); i++) {
      DescriptorDecision dd = decisions.get(i);
      QuotaDecision d = dd.decision();
      boolean over = d.overLimit();
      anyOver |= over;
      Value id = Structs.string(d.id());
      ids.addValues(id);
      DescriptorStatus.Builder status =
          DescriptorStatus.newBuilder().setCode(over ? Code.OVER_LIMIT : Code.OK);
      Struct.Builder md =
          Struct.newBuilder()
              .putFields("decision_id", id)
              .putFields("code", over ? OVER_LIMIT_CODE : OK_CODE)
              .putFields("matched_rules", matched.addAll(d.matchedRules()));
      QuotaDecision.Outcome t = d.tightestOrNull();
      if (t != null && isBucket(t.result())) {
        QuotaResult r = t.result();
        status
            .setCurrentLimit(
                RateLimitResponse.RateLimit.newBuilder()
                    .setRequestsPerUnit((int) Math.min(r.limit(), UINT32_MAX))
                    .setUnit(Units.closest(r.window())))
            .setLimitRemaining((int) Math.min(Math.max(0, r.remaining()), UINT32_MAX))
            .setDurationUntilReset(duration(r.resetAfter()));
        md.putFields("rule", Structs.string(t.rule()))
            .putFields("instance", Structs.string(t.instance()))
            .putFields("limit", Structs.number(r.limit()))
            .putFields("remaining", Structs.number(Math.max(0, r.remaining())))
            .putFields("window", window(r.window()));
        if (tightest == null || rank(over, r) < rank(tightestOver, tightest)) {
          tightest = r;
          tightestOver = over;
        }
      }
      if (!d.errors().isEmpty()) {
        md.putFields("error", Structs.string(String.join("; ", d.errors())));
        if (errors == null) {
          errors = new ArrayList<>();
        }
        errors.addAll(d.errors());
      }
      if (!dd.note().isEmpty()) {
        md.putFields("note", Structs.string(dd.note()));
      }
      out.addStatuses(status);
      perDescriptor.addValues(Structs.struct(md));
    }
    out.setOverallCode(anyOver ? Code.OVER_LIMIT : Code.OK);
    if (tightest != null) {
      out.addResponseHeadersToAdd(header(LIMIT_HEADER, Long.toString(tightest.limit())))
          .addResponseHeadersToAdd(
              header(REMAINING_HEADER, Long.toString(Math.max(0, tightest.remaining()))))
          .addResponseHeadersToAdd(
              header(RESET_HEADER, Long.toString(PolicyEngine.ceilSeconds(tightest.resetAfter()))));
    }
    Struct.Builder md =
        Struct.newBuilder()
            .putFields("decision_ids", Structs.list(ids))
            .putFields("matched_rules", Structs.list(matched.all))
            .putFields("config_version", Structs.string(
                decisions.isEmpty() ? "" : decisions.get(0).decision().configVersion()))
            .putFields("descriptors", Structs.list(perDescriptor));
    if (errors != null) {
      md.putFields("error", Structs.string(String.join("; ", errors)));
    }
    return out.setDynamicMetadata(md).build();
  }

  /**
   * The rule names of a response: each descriptor's list, and {@code all}, every rule once in the
   * order first matched, sharing the descriptors' Values.
   *
   * <p>A request matches a handful of distinct rules, so whether a rule is already in {@code all}
   * is a scan of it; past {@value #SCAN_LIMIT} names a hash set answers instead, so a request of
   * many descriptors that match many rules stays linear.
   */
  private static final class MatchedRules {
    private static final int SCAN_LIMIT = 8;

    final ListValue.Builder all = ListValue.newBuilder();
    /** The names in {@code all}; null until there are more than {@link #SCAN_LIMIT}. */
    private Set<String> names;

    /** One descriptor's {@code matched_rules}, whose names are added to {@code all}. */
    Value addAll(List<String> rules) {
      if (rules.isEmpty()) {
        return NO_RULES;
      }
      ListValue.Builder list = ListValue.newBuilder();
      for (int i = 0; i < rules.size(); i++) {
        String rule = rules.get(i);
        Value name = Structs.string(rule);
        list.addValues(name);
        if (!contains(rule)) {
          all.addValues(name);
          if (names != null) {
            names.add(rule);
          }
        }
      }
      return Structs.list(list);
    }

    private boolean contains(String rule) {
      if (names != null) {
        return names.contains(rule);
      }
      int n = all.getValuesCount();
      for (int i = 0; i < n; i++) {
        if (all.getValues(i).getStringValue().equals(rule)) {
          return true;
        }
      }
      if (n >= SCAN_LIMIT) {
        names = new HashSet<>();
        for (int i = 0; i < n; i++) {
          names.add(all.getValues(i).getStringValue());
        }
      }
      return false;
    }
  }

  private static Value window(Duration window) {
    Value v = UNIT_WINDOWS.get(window);
    return v != null ? v : Structs.string(Durations.format(window));
  }

  private static Map<Duration, Value> unitWindows() {
    Map<Duration, Value> out = new HashMap<>();
    for (RateLimitResponse.RateLimit.Unit unit : RateLimitResponse.RateLimit.Unit.values()) {
      long seconds = Units.seconds(unit);
      if (seconds > 0) {
        Duration w = Duration.ofSeconds(seconds);
        out.put(w, Structs.string(Durations.format(w)));
      }
    }
    return Map.copyOf(out);
  }

  /**
   * The answer given without the engine (a request over the limits, an unexpected error): every
   * descriptor and the whole gets the same code, OK when {@code open} else OVER_LIMIT, with no
   * limits and no headers. The metadata carries {@code decision_ids} (just {@code decisionId}),
   * empty {@code matched_rules}, {@code config_version}, {@code error} and, when not null, {@code
   * rejected}.
   */
  public static RateLimitResponse failure(
      int descriptors, boolean open, String decisionId, String configVersion, String error,
      String rejected) {
    Code code = open ? Code.OK : Code.OVER_LIMIT;
    RateLimitResponse.Builder out = RateLimitResponse.newBuilder().setOverallCode(code);
    DescriptorStatus status = DescriptorStatus.newBuilder().setCode(code).build();
    for (int i = 0; i < descriptors; i++) {
      out.addStatuses(status);
    }
    Struct.Builder md =
        Struct.newBuilder()
            .putFields("decision_ids", Structs.strings(List.of(decisionId)))
            .putFields("matched_rules", Structs.strings(List.of()))
            .putFields("config_version", Structs.string(configVersion))
            .putFields("error", Structs.string(error));
    if (rejected != null) {
      md.putFields("rejected", Structs.string(rejected));
    }
    return out.setDynamicMetadata(md).build();
  }

  /** A bucket with a window and a finite limit, as opposed to a failure or an unlimited result. */
  static boolean isBucket(QuotaResult r) {
    return r.window().compareTo(Duration.ZERO) > 0 && r.limit() >= 0 && r.limit() < Long.MAX_VALUE;
  }

  /** Lower is tighter: over the limit first, then least remaining. */
  private static long rank(boolean over, QuotaResult r) {
    return over ? -1 : Math.max(0, r.remaining());
  }

  private static com.google.protobuf.Duration duration(Duration d) {
    if (d.isNegative()) {
      d = Duration.ZERO;
    }
    return com.google.protobuf.Duration.newBuilder()
        .setSeconds(d.getSeconds())
        .setNanos(d.getNano())
        .build();
  }

  private static HeaderValue header(String name, String value) {
    return HeaderValue.newBuilder().setKey(name).setValue(value).build();
  }
}
