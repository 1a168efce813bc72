package io.arbiter.adapters.list;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Flow;

/**
 * Collects a response body into a byte array, failing (and cancelling the stream) as soon as it
 * would exceed {@code maxBytes}, or at once if the declared Content-Length already does, so a
 * runaway provider cannot exhaust the heap.
 */
final class CappedBodySubscriber implements HttpResponse.BodySubscriber<byte[]> {
  private final long maxBytes;
  private final long declaredLength;
  private final String source;
  private final CompletableFuture<byte[]> body = new CompletableFuture<>();
  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private Flow.Subscription subscription;
  private long received;

  /**
   * @param declaredLength the response's Content-Length, or -1 if it has none
   * @param source the URL, for the error message
   */
  CappedBodySubscriber(long maxBytes, long declaredLength, String source) {
    this.maxBytes = maxBytes;
    this.declaredLength = declaredLength;
    this.source = source;
  }

  @Override
  public CompletionStage<byte[]> getBody() {
    return body;
  }

  @Override
  public void onSubscribe(Flow.Subscription s) {
    subscription = s;
    if (declaredLength > maxBytes) {
      s.cancel();
      body.completeExceptionally(tooLarge(declaredLength));
    } else {
      s.request(Long.MAX_VALUE);
    }
  }

  @Override
  public void onNext(List<ByteBuffer> buffers) {
    if (body.isDone()) {
      return;
    }
    for (ByteBuffer b : buffers) {
      received += b.remaining();
      if (received > maxBytes) {
        subscription.cancel();
        body.completeExceptionally(tooLarge(received));
        return;
      }
      byte[] chunk = new byte[b.remaining()];
      b.get(chunk);
      out.write(chunk, 0, chunk.length);
    }
  }

  @Override
  public void onError(Throwable t) {
    body.completeExceptionally(t);
  }

  @Override
  public void onComplete() {
    body.complete(out.toByteArray());
  }

  private IOException tooLarge(long bytes) {
    return new IOException(
        "response from "
            + source
            + " is "
            + (bytes == declaredLength ? "" : "over ")
            + bytes
            + " bytes, more than maxBytes "
            + maxBytes);
  }
}
