package io.arbiter.adapters.denier;

import static io.arbiter.adapters.testing.Stages.value;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.arbiter.adapters.testing.TestContext;
import io.arbiter.engine.spi.CheckHandler;
import io.arbiter.engine.spi.CheckResult;
import io.arbiter.engine.spi.Code;
import io.arbiter.engine.spi.HeaderValue;
import io.arbiter.engine.spi.Instance;
import io.arbiter.engine.spi.Params;
import io.arbiter.engine.spi.ParamsException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class DenierAdapterTest {
  private static final List<Instance> INSTANCES =
      List.of(
          new Instance.CheckNothing("nothing"),
          new Instance.ListEntry("entry", "10.0.0.1"),
          new Instance.Authorization(
              "authz",
              new Instance.Subject("alice", "", Map.of()),
              new Instance.Action("ns", "svc", "GET", "/", Map.of())));

  private final DenierAdapter adapter = new DenierAdapter();

  private CheckHandler create(Map<String, ?> params) {
    return (CheckHandler) adapter.create(new Params(params), new TestContext("deny-all"));
  }

  @Test
  void defaultsDenyEveryTemplateWithPermissionDenied() {
    CheckHandler h = create(Map.of());

    for (Instance i : INSTANCES) {
      CheckResult r = value(h.check(i));
      assertThat(r.allowed()).isFalse();
      assertThat(r.code()).isEqualTo(Code.PERMISSION_DENIED);
      assertThat(r.message()).isEqualTo("denied");
      assertThat(r.httpStatus()).isZero();
      assertThat(r.effectiveHttpStatus()).isEqualTo(403);
      assertThat(r.body()).isEmpty();
      assertThat(r.responseHeadersToAdd()).isEmpty();
      assertThat(r.validDuration()).isEqualTo(Duration.ofMinutes(1));
      assertThat(r.validUseCount()).isEqualTo(10_000);
    }
    assertThat(value(h.initialized())).isNull();
  }

  @Test
  void everyParamShapesTheDenial() {
    Map<String, Object> headers = new LinkedHashMap<>();
    headers.put("WWW-Authenticate", "Bearer realm=\"api\"");
    headers.put("x-denied-by", "arbiter");
    CheckHandler h =
        create(
            Map.of(
                "code", "unauthenticated",
                "httpStatus", 418,
                "message", "go away",
                "body", "{\"error\":\"no\"}",
                "headers", headers,
                "validDuration", "5s",
                "validUseCount", "3"));

    CheckResult r = value(h.check(INSTANCES.get(0)));

    assertThat(r.code()).isEqualTo(Code.UNAUTHENTICATED);
    assertThat(r.effectiveHttpStatus()).isEqualTo(418);
    assertThat(r.message()).isEqualTo("go away");
    assertThat(r.body()).isEqualTo("{\"error\":\"no\"}");
    assertThat(r.responseHeadersToAdd())
        .containsExactly(
            new HeaderValue("WWW-Authenticate", "Bearer realm=\"api\"", false),
            new HeaderValue("x-denied-by", "arbiter", false));
    assertThat(r.validDuration()).isEqualTo(Duration.ofSeconds(5));
    assertThat(r.validUseCount()).isEqualTo(3);
  }

  @ParameterizedTest
  @CsvSource({
    "PERMISSION_DENIED, 403",
    "UNAUTHENTICATED, 401",
    "RESOURCE_EXHAUSTED, 429",
    "FAILED_PRECONDITION, 403",
    "UNAVAILABLE, 403"
  })
  void httpStatusZeroMeansTheCodesDefault(String code, int status) {
    CheckResult r = value(create(Map.of("code", code, "httpStatus", 0)).check(INSTANCES.get(1)));

    assertThat(r.code()).isEqualTo(Code.valueOf(code));
    assertThat(r.httpStatus()).isZero();
    assertThat(r.effectiveHttpStatus()).isEqualTo(status);
  }

  @Test
  void zeroValidityIsAllowed() {
    CheckResult r =
        value(create(Map.of("validDuration", "0s", "validUseCount", 0)).check(INSTANCES.get(0)));

    assertThat(r.validDuration()).isZero();
    assertThat(r.validUseCount()).isZero();
  }

  @Test
  void okIsNotADenial() {
    assertThatThrownBy(() -> create(Map.of("code", "OK")))
        .isInstanceOfSatisfying(
            ParamsException.class,
            e ->
                assertThat(e.problems())
                    .singleElement()
                    .satisfies(
                        p -> {
                          assertThat(p.field()).isEqualTo("code");
                          assertThat(p.reason()).contains("'OK'");
                        }));
  }

  @Test
  void everyBadParamIsReportedAtOnceNamingItsValue() {
    Map<String, Object> params = new LinkedHashMap<>();
    params.put("code", "NOPE");
    params.put("httpStatus", 42);
    params.put("headers", Map.of("bad header", "v"));
    params.put("validDuration", "soon");
    params.put("validUseCount", -1);
    params.put("mesage", "typo");

    assertThatThrownBy(() -> create(params))
        .isInstanceOfSatisfying(
            ParamsException.class,
            e ->
                assertThat(e.problems())
                    .extracting(Params.Problem::toString)
                    .satisfiesExactlyInAnyOrder(
                        p -> assertThat(p).startsWith("code: ").contains("'NOPE'"),
                        p -> assertThat(p).startsWith("httpStatus: ").contains("42"),
                        p -> assertThat(p).startsWith("headers: ").contains("'bad header'"),
                        p -> assertThat(p).startsWith("validDuration: ").contains("'soon'"),
                        p -> assertThat(p).startsWith("validUseCount: ").contains("-1"),
                        p -> assertThat(p).startsWith("mesage: ").contains("unknown setting")));
  }

  @ParameterizedTest
  @CsvSource({"99", "600", "-1"})
  void httpStatusOutsideItsRangeIsRejected(int status) {
    assertThatThrownBy(() -> create(Map.of("httpStatus", status)))
        .isInstanceOfSatisfying(
            ParamsException.class,
            e ->
                assertThat(e.problems())
                    .singleElement()
                    .satisfies(
                        p -> {
                          assertThat(p.field()).isEqualTo("httpStatus");
                          assertThat(p.reason()).contains(String.valueOf(status));
                        }));
  }

  @Test
  void headerValuesCannotSplitTheResponse() {
    assertThatThrownBy(() -> create(Map.of("headers", Map.of("x-a", "v\r\nSet-Cookie: x=1"))))
        .isInstanceOfSatisfying(
            ParamsException.class,
            e ->
                assertThat(e.problems())
                    .singleElement()
                    .satisfies(p -> assertThat(p.field()).isEqualTo("headers.x-a")));
  }

  @Test
  void headerNamesMustBeTokens() {
    assertThat(DenierAdapter.isToken("x-custom_1.a")).isTrue();
    assertThat(DenierAdapter.isToken("")).isFalse();
    assertThat(DenierAdapter.isToken("a:b")).isFalse();
    assertThat(DenierAdapter.isToken("é")).isFalse();
  }
}
