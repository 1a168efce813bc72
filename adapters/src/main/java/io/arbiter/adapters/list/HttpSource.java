package io.arbiter.adapters.list;

import io.arbiter.engine.spi.Durations;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * A list served over HTTP(S), fetched with a GET on the shared client. Only status 200 is a
 * success. The whole exchange, body included, must end within {@code timeout}: the request's own
 * timeout bounds the wait for headers, and a deadline on the scheduler bounds a body that stalls.
 * Bodies over {@code maxBytes} fail. Thread-safe; each fetch is independent.
 */
final class HttpSource implements ListSource {
  private final HttpClient client;
  private final URI uri;
  private final Duration timeout;
  private final long maxBytes;
  private final ScheduledExecutorService scheduler;

  HttpSource(
      HttpClient client,
      URI uri,
      Duration timeout,
      long maxBytes,
      ScheduledExecutorService scheduler) {
    this.client = client;
    this.uri = uri;
    this.timeout = timeout;
    this.maxBytes = maxBytes;
    this.scheduler = scheduler;
  }

  @Override
  public CompletableFuture<String> fetch() {
    CompletableFuture<String> result = new CompletableFuture<>();
    try {
      HttpRequest request =
          HttpRequest.newBuilder(uri).timeout(timeout).header("Accept", "text/plain").GET().build();
      CompletableFuture<HttpResponse<byte[]>> send =
          client.sendAsync(
              request,
              info ->
                  info.statusCode() == 200
                      ? new CappedBodySubscriber(
                          maxBytes,
                          info.headers().firstValueAsLong("content-length").orElse(-1),
                          uri.toString())
                      : HttpResponse.BodySubscribers.replacing(new byte[0]));
      ScheduledFuture<?> deadline =
          scheduler.schedule(
              () -> {
                result.completeExceptionally(timedOut());
                send.cancel(true);
              },
              timeout.toNanos(),
              TimeUnit.NANOSECONDS);
      send.whenComplete(
          (response, error) -> {
            deadline.cancel(false);
            if (unwrap(error) instanceof HttpTimeoutException) {
              result.completeExceptionally(timedOut()); // the request's own timeout, for headers
            } else if (error != null) {
              result.completeExceptionally(
                  new IOException(
                      "fetching " + uri + " failed: " + ListSource.reason(error), error));
            } else if (response.statusCode() != 200) {
              result.completeExceptionally(
                  new IOException("HTTP " + response.statusCode() + " from " + uri));
            } else {
              try {
                result.complete(ListSource.decode(response.body(), uri));
              } catch (IOException e) {
                result.completeExceptionally(e);
              }
            }
          });
      result.whenComplete(
          (text, error) -> {
            if (result.isCancelled()) {
              send.cancel(true);
              deadline.cancel(false);
            }
          });
    } catch (RuntimeException e) {
      result.completeExceptionally(e);
    }
    return result;
  }

  private HttpTimeoutException timedOut() {
    return new HttpTimeoutException(
        "no complete response from " + uri + " within " + Durations.format(timeout));
  }

  private static Throwable unwrap(Throwable t) {
    while (t instanceof java.util.concurrent.CompletionException && t.getCause() != null) {
      t = t.getCause();
    }
    return t;
  }

  @Override
  public String toString() {
    return uri.toString();
  }
}
