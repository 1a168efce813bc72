package io.arbiter.adapters.list;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;

/**
 * A list in a local file, read whole on each fetch, on the calling thread (a short blocking read:
 * the file is local and at most {@code maxBytes} long).
 *
 * @param path the file, already resolved against the config's directory
 * @param maxBytes the largest file accepted; a larger one is a failed fetch
 */
record FileSource(Path path, long maxBytes) implements ListSource {

  /**
   * Reads the file.
   *
   * @throws IOException if it is missing, unreadable, larger than {@code maxBytes} or not UTF-8
   */
  String read() throws IOException {
    long size = Files.size(path);
    if (size > maxBytes) {
      throw new IOException(path + " is " + size + " bytes, more than maxBytes " + maxBytes);
    }
    byte[] bytes = Files.readAllBytes(path);
    if (bytes.length > maxBytes) {
      throw new IOException(path + " grew past maxBytes " + maxBytes + " while being read");
    }
    return ListSource.decode(bytes, path);
  }

  @Override
  public CompletableFuture<String> fetch() {
    try {
      return CompletableFuture.completedFuture(read());
    } catch (IOException | RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  @Override
  public String toString() {
    return path.toString();
  }
}
