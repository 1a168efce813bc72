package io.arbiter.extauthz;

import com.google.protobuf.CodedOutputStream;
import io.arbiter.engine.CheckDecision;
import io.arbiter.engine.spi.CheckResult;
import io.envoyproxy.envoy.service.auth.v3.CheckResponse;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The serialized {@code CheckResponse} of a decision, byte for byte what {@link
 * CheckResponseMapper#toResponse} serializes to, with the answers to decisions reused from the
 * decision cache assembled from bytes kept per cached decision.
 *
 * <p>A reused allowed decision differs from the previous reuse of the same cache entry only in
 * its {@code decision_id}: status, {@code ok_response} and the rest of {@code dynamic_metadata}
 * are the entry's. So the first answer to a cache entry's decision serializes those parts once
 * ({@link Parts}) and later answers copy them around the new id. The parts are kept in a
 * direct-mapped table of {@value #SLOTS} slots by the identity of the entry's result (a cache entry
 * hands the same result object to every reuse), so memory stays bounded whatever the number of
 * entries; a slot taken by another entry is simply rebuilt.
 *
 * <p>Denials carry their id in a header as well, and evaluated decisions are seen once: both are
 * serialized from the message as before. Thread-safe: slots hold immutable parts, and a race
 * between two writers of a slot costs a rebuild, never a wrong answer.
 */
final class CheckResponseBytes {
  private CheckResponseBytes() {}

  static final int SLOTS = 1024;

  private static final int DYNAMIC_METADATA = 4; // CheckResponse.dynamic_metadata
  private static final byte[] DECISION_ID_KEY = "decision_id".getBytes(StandardCharsets.US_ASCII);

  /** What a reused decision's answer shares with every other reuse of it. */
  private record Parts(
      CheckResult result, List<String> matchedRules, String configVersion, byte[] head, byte[] entries) {}

  private static final Parts[] TABLE = new Parts[SLOTS];

  /** {@code decision}'s answer, serialized. */
  static byte[] of(CheckDecision decision) {
    CheckResult result = decision.result();
    if (!decision.cached() || !result.allowed() || decision.failed()) {
      return CheckResponseMapper.toResponse(decision).toByteArray();
    }
    int slot = System.identityHashCode(result) & (SLOTS - 1);
    Parts parts = TABLE[slot];
    if (parts == null
        || parts.result() != result
        || parts.matchedRules() != decision.matchedRules()
        || !parts.configVersion().equals(decision.configVersion())) {
      parts = parts(decision);
      TABLE[slot] = parts;
    }
    return assemble(parts, decision.id());
  }

  /** The answer serialized once without its {@code dynamic_metadata}, and that metadata's entries but the id. */
  private static Parts parts(CheckDecision decision) {
    CheckResponse full = CheckResponseMapper.toResponse(decision);
    byte[] head = full.toBuilder().clearDynamicMetadata().build().toByteArray();
    // A Struct is its one map field, so its serialization is the concatenation of its entries.
    byte[] entries = full.getDynamicMetadata().toBuilder().removeFields("decision_id").build().toByteArray();
    return new Parts(decision.result(), decision.matchedRules(), decision.configVersion(), head, entries);
  }

  /** {@code head}, then {@code dynamic_metadata} holding the id's entry and the shared entries. */
  private static byte[] assemble(Parts parts, String id) {
    byte[] idBytes = id.getBytes(StandardCharsets.UTF_8);
    // Value { string_value (3) = id }
    int valueSize = CodedOutputStream.computeByteArraySize(3, idBytes);
    // Struct.FieldsEntry { key (1) = "decision_id", value (2) = that Value }
    int entrySize = CodedOutputStream.computeByteArraySize(1, DECISION_ID_KEY)
        + CodedOutputStream.computeTagSize(2) + CodedOutputStream.computeUInt32SizeNoTag(valueSize)
        + valueSize;
    // Struct { fields (1) = that entry, then the shared entries }
    int structSize = CodedOutputStream.computeTagSize(1)
        + CodedOutputStream.computeUInt32SizeNoTag(entrySize) + entrySize + parts.entries().length;
    int size = parts.head().length + CodedOutputStream.computeTagSize(DYNAMIC_METADATA)
        + CodedOutputStream.computeUInt32SizeNoTag(structSize) + structSize;
    byte[] out = new byte[size];
    CodedOutputStream o = CodedOutputStream.newInstance(out);
    try {
      o.writeRawBytes(parts.head());
      o.writeTag(DYNAMIC_METADATA, 2);
      o.writeUInt32NoTag(structSize);
      o.writeTag(1, 2);
      o.writeUInt32NoTag(entrySize);
      o.writeByteArray(1, DECISION_ID_KEY);
      o.writeTag(2, 2);
      o.writeUInt32NoTag(valueSize);
      o.writeByteArray(3, idBytes);
      o.writeRawBytes(parts.entries());
      o.checkNoSpaceLeft();
    } catch (IOException e) {
      throw new UncheckedIOException(e); // sizes computed above: cannot happen
    }
    return out;
  }

  /** For tests: the parts of {@code decision}'s slot, if it holds them. */
  static boolean holds(CheckDecision decision) {
    Parts p = TABLE[System.identityHashCode(decision.result()) & (SLOTS - 1)];
    return p != null && p.result() == decision.result();
  }
}
