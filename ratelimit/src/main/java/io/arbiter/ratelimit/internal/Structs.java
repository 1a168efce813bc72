package io.arbiter.ratelimit.internal;

import com.google.protobuf.ListValue;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import java.util.Collection;

/** Builds protobuf {@code Struct} values for dynamic metadata. */
public final class Structs {
  private Structs() {}

  public static Value string(String s) {
    return Value.newBuilder().setStringValue(s).build();
  }

  public static Value number(double n) {
    return Value.newBuilder().setNumberValue(n).build();
  }

  public static Value strings(Collection<String> items) {
    ListValue.Builder list = ListValue.newBuilder();
    for (String s : items) {
      list.addValues(string(s));
    }
    return Value.newBuilder().setListValue(list).build();
  }

  public static Value list(Collection<Value> items) {
    return Value.newBuilder().setListValue(ListValue.newBuilder().addAllValues(items)).build();
  }

  public static Value struct(Struct.Builder struct) {
    return Value.newBuilder().setStructValue(struct).build();
  }
}
