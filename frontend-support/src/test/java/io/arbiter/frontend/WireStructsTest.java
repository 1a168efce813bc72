package io.arbiter.frontend;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.NullValue;
import com.google.protobuf.Struct;
import com.google.protobuf.UnknownFieldSet;
import com.google.protobuf.Value;
import java.io.ByteArrayOutputStream;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class WireStructsTest {
  private final Random random = new Random(11);

  private final RandomStructs structs = new RandomStructs(random,
      () -> "k" + random.nextInt(5),
      () -> random.nextBoolean() ? "é" + random.nextInt(9) : "s" + random.nextInt(9),
      this::unknown);

  /** Now and then an unknown varint field, which both readers skip. */
  private UnknownFieldSet unknown() {
    if (random.nextInt(6) != 0) {
      return UnknownFieldSet.getDefaultInstance();
    }
    return UnknownFieldSet.newBuilder().addField(9,
        UnknownFieldSet.Field.newBuilder().addVarint(random.nextLong()).build()).build();
  }

  /** {@code bytes} as a length-delimited field's payload, then read back. */
  private static Map<String, Object> read(byte[] bytes, int depth) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    CodedOutputStream o = CodedOutputStream.newInstance(out);
    o.writeByteArrayNoTag(bytes);
    o.flush();
    return WireStructs.struct(CodedInputStream.newInstance(out.toByteArray()), depth);
  }

  @Test
  void randomStructsReadAsStructsConvertsTheParsedMessage() throws Exception {
    for (int i = 0; i < 5_000; i++) {
      Struct s = structs.struct(0);
      assertThat(read(s.toByteArray(), 4)).as("%s", s).isEqualTo(Structs.toMap(s));
    }
  }

  @Test
  void aKeyGivenAgainReplacesItsValueOrWithANullRemovesIt() throws Exception {
    byte[] a = Struct.newBuilder().putFields("k", Value.newBuilder().setStringValue("a").build()).build().toByteArray();
    byte[] b = Struct.newBuilder().putFields("k", Value.newBuilder().setStringValue("b").build()).build().toByteArray();
    byte[] nul = Struct.newBuilder().putFields("k", Value.newBuilder().setNullValue(NullValue.NULL_VALUE).build())
        .build().toByteArray();
    assertThat(read(concat(a, b), 4)).isEqualTo(Map.of("k", "b"))
        .isEqualTo(Structs.toMap(Struct.parseFrom(concat(a, b))));
    assertThat(read(concat(a, nul), 4)).isEmpty();
    assertThat(Structs.toMap(Struct.parseFrom(concat(a, nul)))).isEmpty();
  }

  @Test
  void whatProtobufWouldMergeOrRefuseIsLeftToTheGeneratedParser() {
    // A Value holding a struct and a string: protobuf's oneof handling, not modelled here.
    byte[] merged = concat(Value.newBuilder().setStructValue(Struct.getDefaultInstance()).build().toByteArray(),
        Value.newBuilder().setStringValue("x").build().toByteArray());
    // Replace the empty value (field 2 of the entry, length 0) with the merged bytes.
    byte[] entry = concat(new byte[] {0x0a, 0x01, 'k', 0x12, (byte) merged.length}, merged);
    byte[] withMerged = concat(new byte[] {0x0a, (byte) entry.length}, entry);
    assertThatThrownBy(() -> read(withMerged, 4)).isSameAs(WireStructs.Unmodelled.INSTANCE);
    // Nesting past the recursion limit (three messages per struct level: entry, value, struct).
    byte[] deep = nested(40).toByteArray();
    assertThatThrownBy(() -> read(deep, 4)).isSameAs(WireStructs.Unmodelled.INSTANCE);
    // A group: wire type 3, left to protobuf.
    byte[] group = {0x0b, 0x0c};
    assertThatThrownBy(() -> read(group, 4)).isSameAs(WireStructs.Unmodelled.INSTANCE);
  }

  @Test
  void nestingWithinTheLimitIsRead() throws Exception {
    Struct s = nested(30);
    assertThat(read(s.toByteArray(), 4)).isEqualTo(Structs.toMap(s));
  }

  private static Struct nested(int levels) {
    Struct s = Struct.newBuilder().putFields("leaf", Value.newBuilder().setBoolValue(true).build()).build();
    for (int i = 0; i < levels; i++) {
      s = Struct.newBuilder().putFields("d", Value.newBuilder().setStructValue(s).build()).build();
    }
    return s;
  }

  private static byte[] concat(byte[] a, byte[] b) {
    byte[] out = new byte[a.length + b.length];
    System.arraycopy(a, 0, out, 0, a.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }
}
