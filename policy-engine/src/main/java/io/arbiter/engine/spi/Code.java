package io.arbiter.engine.spi;

/**
 * Status codes of a check result, numbered as gRPC's (and google.rpc.Code), so a front end maps
 * them one to one without the engine seeing a gRPC type. Envoy allows a request only on {@link #OK}.
 */
public enum Code {
  OK(0),
  CANCELLED(1),
  UNKNOWN(2),
  INVALID_ARGUMENT(3),
  DEADLINE_EXCEEDED(4),
  NOT_FOUND(5),
  ALREADY_EXISTS(6),
  PERMISSION_DENIED(7),
  RESOURCE_EXHAUSTED(8),
  FAILED_PRECONDITION(9),
  ABORTED(10),
  OUT_OF_RANGE(11),
  UNIMPLEMENTED(12),
  INTERNAL(13),
  UNAVAILABLE(14),
  DATA_LOSS(15),
  UNAUTHENTICATED(16);

  private final int number;

  Code(int number) {
    this.number = number;
  }

  public int number() {
    return number;
  }

  /** The HTTP status a denial with this code gets unless its result names one: 401 or 403. */
  public int defaultHttpStatus() {
    return switch (this) {
      case OK -> 200;
      case UNAUTHENTICATED -> 401;
      case RESOURCE_EXHAUSTED -> 429;
      default -> 403;
    };
  }
}
