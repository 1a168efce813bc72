package io.arbiter.extauthz;

import com.google.protobuf.InvalidProtocolBufferException;
import io.arbiter.frontend.Texts;
import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * Header names read off the wire, lowercased, as shared strings: a request's names are nearly
 * always the same few dozen, so the string for a name's bytes is kept in a small table and reused,
 * with its hash already computed (every name is a key of the request's header map). The table is
 * direct-mapped by a hash of the bytes; a name that meets another in its slot replaces it, so it
 * stays bounded whatever names arrive. Thread-safe: slots hold immutable entries, and a race
 * between two writers costs a rebuild.
 */
final class HeaderNames {
  private HeaderNames() {}

  private static final int SLOTS = 512;
  private static final int MAX_LENGTH = 64;

  private record Name(byte[] bytes, String lower) {}

  private static final Name[] TABLE = new Name[SLOTS];

  /**
   * The name in {@code bytes} (a string field of the wire), lowercased.
   *
   * @throws InvalidProtocolBufferException when the bytes are not valid UTF-8
   */
  static String lower(ByteBuffer bytes) throws InvalidProtocolBufferException {
    int length = bytes.remaining();
    if (length == 0 || length > MAX_LENGTH) {
      return Texts.lowerAscii(CheckWireDecoder.string(bytes));
    }
    byte[] array = bytes.array();
    int from = bytes.arrayOffset() + bytes.position();
    int to = from + length;
    int h = length;
    for (int i = from; i < to; i++) {
      h = 31 * h + array[i];
    }
    int slot = (h ^ (h >>> 16)) & (SLOTS - 1);
    Name n = TABLE[slot];
    if (n != null && Arrays.equals(n.bytes(), 0, n.bytes().length, array, from, to)) {
      return n.lower();
    }
    String lower = Texts.lowerAscii(CheckWireDecoder.string(bytes)); // validates before keeping
    lower.hashCode(); // computed once, kept by the string
    TABLE[slot] = new Name(Arrays.copyOfRange(array, from, to), lower);
    return lower;
  }
}
