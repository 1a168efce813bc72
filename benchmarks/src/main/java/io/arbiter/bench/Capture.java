package io.arbiter.bench;

import io.grpc.stub.StreamObserver;

/** Holds a unary call's last answer, like the gRPC call's response observer; fails on an error. */
final class Capture<T> implements StreamObserver<T> {
  T response;

  @Override
  public void onNext(T value) {
    response = value;
  }

  @Override
  public void onError(Throwable t) {
    throw new IllegalStateException(t);
  }

  @Override
  public void onCompleted() {}
}
