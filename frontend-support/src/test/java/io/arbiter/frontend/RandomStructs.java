package io.arbiter.frontend;

import com.google.protobuf.ListValue;
import com.google.protobuf.NullValue;
import com.google.protobuf.Struct;
import com.google.protobuf.UnknownFieldSet;
import com.google.protobuf.Value;
import java.util.Random;
import java.util.function.Supplier;

/**
 * Random JSON-like {@code google.protobuf.Struct}s and {@code Value}s, for the differential tests
 * of the wire readers (this module's {@code WireStructs}, extauthz's and accesslog's decoders):
 * nested structs and lists, nulls, unset values (dropped like nulls), numbers, strings, booleans,
 * and whatever unknown fields the test supplies. Nesting stops growing past depth 3. Shared through
 * this module's test-jar.
 */
public final class RandomStructs {
  private final Random random;
  private final Supplier<String> keys;
  private final Supplier<String> strings;
  private final Supplier<UnknownFieldSet> unknown;

  /**
   * @param random the test's seeded source, so a failure reproduces
   * @param keys the structs' field names
   * @param strings the string values
   * @param unknown unknown fields for each value and struct (mostly empty)
   */
  public RandomStructs(Random random, Supplier<String> keys, Supplier<String> strings,
      Supplier<UnknownFieldSet> unknown) {
    this.random = random;
    this.keys = keys;
    this.strings = strings;
    this.unknown = unknown;
  }

  public Value value(int depth) {
    Value.Builder v = Value.newBuilder();
    switch (random.nextInt(depth > 3 ? 5 : 7)) {
      case 0 -> v.setNullValue(NullValue.NULL_VALUE);
      case 1 -> v.setNumberValue(random.nextBoolean() ? random.nextInt(100) : random.nextGaussian());
      case 2 -> v.setStringValue(strings.get());
      case 3 -> v.setBoolValue(random.nextBoolean());
      case 4 -> { } // unset: dropped like a null
      case 5 -> v.setStructValue(struct(depth + 1));
      default -> {
        ListValue.Builder l = ListValue.newBuilder();
        for (int i = random.nextInt(4); i > 0; i--) {
          l.addValues(value(depth + 1));
        }
        v.setListValue(l);
      }
    }
    return v.setUnknownFields(unknown.get()).build();
  }

  public Struct struct(int depth) {
    Struct.Builder s = Struct.newBuilder();
    for (int i = random.nextInt(4); i > 0; i--) {
      s.putFields(keys.get(), value(depth));
    }
    return s.setUnknownFields(unknown.get()).build();
  }
}
