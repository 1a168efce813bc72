package io.arbiter.extauthz;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.InvalidProtocolBufferException;
import io.arbiter.engine.EngineServices;
import io.arbiter.engine.PolicyEngine;
import io.arbiter.engine.metrics.Metrics;
import io.arbiter.engine.spi.Code;
import io.envoyproxy.envoy.service.auth.v3.CheckRequest;
import io.envoyproxy.envoy.service.auth.v3.CheckResponse;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CheckResponsesTest {
  private static final String REQUEST_JSON =
      """
      {
        "attributes": {
          "source": {"address": {"socketAddress": {"address": "10.1.2.3", "portValue": 4321}}},
          "request": {
            "http": {
              "method": "DELETE",
              "path": "/admin/users/7",
              "headers": {"x-request-id": "req-9"}
            }
          }
        }
      }
      """;

  @Test
  void dryRunGivesTheDecisionAndTheResponse() throws Exception {
    PolicyEngine engine =
        Engines.engine(
            """
            rules:
            - name: no-deletes-from-outside
              match: "request.method == 'DELETE' && !source.ip.startsWith('10.0.')"
              deny: "true"
            """);
    try {
      CheckRequest request = CheckResponses.parseRequest(REQUEST_JSON);

      CheckResponses.Outcome outcome = CheckResponses.check(engine, request);

      assertThat(outcome.decision().matchedRules()).containsExactly("no-deletes-from-outside");
      assertThat(outcome.decision().result().code()).isEqualTo(Code.PERMISSION_DENIED);
      assertThat(outcome.response())
          .isEqualTo(CheckResponseMapper.toResponse(outcome.decision()));
      String json = CheckResponses.toJson(outcome.response());
      assertThat(json)
          .contains("\"decision_id\": \"" + outcome.decision().id() + "\"")
          .contains("\"code\": 7")
          .contains("\"code\": \"Forbidden\"");
      CheckResponse.Builder back = CheckResponse.newBuilder();
      com.google.protobuf.util.JsonFormat.parser().merge(json, back);
      assertThat(back.build()).isEqualTo(outcome.response());
    } finally {
      engine.services().close();
    }
  }

  @Test
  void withoutAConfigTheAnswerIsTheDefaultFailClosedDenial() {
    EngineServices services = EngineServices.create(Map.of(), Clock.systemUTC(), new Metrics());
    try {
      PolicyEngine engine = new PolicyEngine(services);

      CheckResponses.Outcome outcome = CheckResponses.check(engine, CheckRequest.getDefaultInstance());

      assertThat(outcome.decision().errors()).isEqualTo(List.of("no config loaded"));
      assertThat(outcome.response().getStatus().getCode()).isEqualTo(Code.UNAVAILABLE.number());
      assertThat(outcome.response().getDynamicMetadata().getFieldsOrThrow("error").getStringValue())
          .isEqualTo("no config loaded");
    } finally {
      services.close();
    }
  }

  @Test
  void badJsonIsReportedNotSwallowed() {
    assertThatThrownBy(() -> CheckResponses.parseRequest("{\"attributes\": {\"nope\": 1}}"))
        .isInstanceOf(InvalidProtocolBufferException.class)
        .hasMessageContaining("nope");
  }
}
