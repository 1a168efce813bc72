package io.arbiter.extauthz;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageOrBuilder;
import com.google.protobuf.util.JsonFormat;
import io.arbiter.engine.CheckDecision;
import io.arbiter.engine.PolicyEngine;
import io.envoyproxy.envoy.service.auth.v3.CheckRequest;
import io.envoyproxy.envoy.service.auth.v3.CheckResponse;
import java.util.Objects;

/**
 * The ext_authz pipeline without gRPC, for the CLI's offline dry run: what the server would answer
 * to one {@code CheckRequest}, with the decision behind it.
 */
public final class CheckResponses {
  private CheckResponses() {}

  /** A decision and the response it became. */
  public record Outcome(CheckDecision decision, CheckResponse response) {
    public Outcome {
      Objects.requireNonNull(decision, "decision");
      Objects.requireNonNull(response, "response");
    }
  }

  /**
   * Maps, decides and answers {@code request} exactly as {@link AuthorizationService} does (limits,
   * failure policy included), waiting for the decision: at most the config's {@code
   * handlerTimeout} for slow handlers. Never throws for a request's content; with no config
   * applied, the answer is the default failure outcome (a fail-closed denial).
   */
  public static Outcome check(PolicyEngine engine, CheckRequest request) {
    Objects.requireNonNull(engine, "engine");
    Objects.requireNonNull(request, "request");
    return new CheckPipeline(engine).check(request).toCompletableFuture().join();
  }

  /**
   * Parses a {@code CheckRequest} from its proto3 JSON form (as {@code JsonFormat} or grpcurl
   * write it). {@code typed_filter_metadata} entries cannot be parsed (their types are unknown).
   *
   * @throws InvalidProtocolBufferException naming what is wrong with the JSON
   */
  public static CheckRequest parseRequest(String json) throws InvalidProtocolBufferException {
    CheckRequest.Builder builder = CheckRequest.newBuilder();
    JsonFormat.parser().merge(json, builder);
    return builder.build();
  }

  /** {@code message} (a {@code CheckResponse}, say) as proto3 JSON, pretty-printed. */
  public static String toJson(MessageOrBuilder message) {
    try {
      return JsonFormat.printer().print(message);
    } catch (InvalidProtocolBufferException e) {
      // Only an Any of an unknown type fails, and neither CheckRequest nor CheckResponse need one
      // unless typed metadata was set.
      throw new IllegalArgumentException("cannot print " + message.getClass().getSimpleName()
          + " as JSON: " + e.getMessage(), e);
    }
  }
}
