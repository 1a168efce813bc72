package io.arbiter.adapters.list;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

/**
 * Where a list's provider entries come from: a file or an HTTP(S) URL holding UTF-8 text, one entry
 * per line.
 */
sealed interface ListSource permits FileSource, HttpSource {

  /**
   * Fetches the text. Never throws: a failure (unreadable, too large, not UTF-8, an HTTP status
   * other than 200, a timeout) completes the future exceptionally with a message that names the
   * source; cancelling the future abandons the fetch.
   */
  CompletableFuture<String> fetch();

  /** The file path or URL, for messages. */
  @Override
  String toString();

  /**
   * The entries of a provider's text: each line trimmed of blanks; empty lines and lines that start
   * with {@code #} skipped. A {@code #} later in a line is part of the entry.
   */
  static List<Entry> entries(String text, ListSource source) {
    List<Entry> out = new ArrayList<>();
    int[] number = {0};
    text.lines()
        .forEach(
            line -> {
              number[0]++;
              String entry = line.strip();
              if (!entry.isEmpty() && entry.charAt(0) != '#') {
                out.add(new Entry(entry, source + " line " + number[0]));
              }
            });
    return out;
  }

  /**
   * Decodes strict UTF-8, dropping a leading byte order mark.
   *
   * @throws IOException naming {@code source} if the bytes are not UTF-8
   */
  static String decode(byte[] bytes, Object source) throws IOException {
    try {
      String text =
          StandardCharsets.UTF_8
              .newDecoder()
              .onMalformedInput(CodingErrorAction.REPORT)
              .onUnmappableCharacter(CodingErrorAction.REPORT)
              .decode(ByteBuffer.wrap(bytes))
              .toString();
      return text.startsWith("\uFEFF") ? text.substring(1) : text;
    } catch (CharacterCodingException e) {
      throw new IOException(source + " is not valid UTF-8 text", e);
    }
  }

  /** A short reason for a failure: its message, unwrapped, with the exception kind if helpful. */
  static String reason(Throwable t) {
    while ((t instanceof CompletionException || t instanceof ExecutionException)
        && t.getCause() != null) {
      t = t.getCause();
    }
    if (t instanceof NoSuchFileException e) {
      return "no such file " + e.getFile();
    } else if (t instanceof AccessDeniedException e) {
      return "permission denied reading " + e.getFile();
    } else if (t.getMessage() == null || t.getMessage().isBlank()) {
      return t.getClass().getSimpleName();
    } else if (t instanceof IOException && t.getClass() != IOException.class) {
      return t.getClass().getSimpleName() + ": " + t.getMessage();
    }
    return t.getMessage();
  }
}
