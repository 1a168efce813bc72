package io.arbiter.envoyconfigs;

import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.DynamicMessage;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.ListValue;
import com.google.protobuf.Message;
import com.google.protobuf.NullValue;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import com.google.protobuf.util.JsonFormat;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.YAMLException;

/**
 * Validates one Envoy config snippet (YAML) against Envoy's proto schema, the way Envoy loads
 * its YAML: YAML → {@code google.protobuf.Struct} → proto3 JSON → the declared message, with
 * every {@code "@type"} resolved through {@link EnvoySchema}'s registry and unknown fields
 * rejected. It then checks what Envoy checks beyond the JSON mapping ({@link SchemaRules}: the
 * {@code protoc-gen-validate} rules of the API, deprecated fields and enum values, v2 types).
 *
 * <p>A snippet names its message type on its first line: {@code # envoy-message: FULL.NAME}.
 */
final class SnippetValidator {

  static final String HEADER = "# envoy-message:";

  /** JSON of these types is not an object of their fields; they are left to the parser. */
  private static final Set<String> SPECIAL_JSON = Set.of(
      "google.protobuf.Duration", "google.protobuf.Timestamp", "google.protobuf.FieldMask",
      "google.protobuf.Struct", "google.protobuf.Value", "google.protobuf.ListValue",
      "google.protobuf.DoubleValue", "google.protobuf.FloatValue", "google.protobuf.Int64Value",
      "google.protobuf.UInt64Value", "google.protobuf.Int32Value", "google.protobuf.UInt32Value",
      "google.protobuf.BoolValue", "google.protobuf.StringValue", "google.protobuf.BytesValue");

  /** A snippet that parsed: its source (file name), declared type and the message. */
  record Parsed(String source, String messageType, Message message) {}

  /** Every problem found in one snippet, each naming the source and, where known, the path. */
  static final class InvalidSnippetException extends Exception {
    private static final long serialVersionUID = 1L;
    private final List<String> problems;

    InvalidSnippetException(String source, List<String> problems) {
      super(source + ":\n  " + String.join("\n  ", problems));
      this.problems = List.copyOf(problems);
    }

    List<String> problems() {
      return problems;
    }
  }

  private final EnvoySchema schema;

  SnippetValidator(EnvoySchema schema) {
    this.schema = schema;
  }

  /** The message type a snippet declares on its first line. */
  static String declaredMessageType(String source, String yaml) throws InvalidSnippetException {
    String first = yaml.lines().findFirst().orElse("").strip();
    if (!first.startsWith(HEADER) || first.substring(HEADER.length()).isBlank()) {
      throw new InvalidSnippetException(source, List.of(
          "the first line must name the Envoy message type, e.g. '" + HEADER
              + " envoy.config.bootstrap.v3.Bootstrap'; it is: '" + first + "'"));
    }
    return first.substring(HEADER.length()).strip();
  }

  /** Validates a snippet as the message type its header names. */
  Parsed validate(String source, String yaml) throws InvalidSnippetException {
    return validate(source, yaml, declaredMessageType(source, yaml));
  }

  /** Validates a snippet as {@code messageType}. */
  Parsed validate(String source, String yaml, String messageType) throws InvalidSnippetException {
    Descriptor type = schema.message(messageType);
    if (type == null) {
      throw new InvalidSnippetException(source, List.of(
          "declares message type '" + messageType + "', which Envoy's API does not have"));
    }
    Value tree = toValue(source, yaml);
    if (!tree.hasStructValue()) {
      throw new InvalidSnippetException(source, List.of("the document must be a YAML mapping"));
    }
    // First, every unknown field and unresolved @type, each with its path (the parser below
    // stops at the first and names no path).
    List<String> problems = new ArrayList<>();
    checkFields(type, tree.getStructValue(), "", problems);
    if (!problems.isEmpty()) {
      throw new InvalidSnippetException(source, problems);
    }
    DynamicMessage.Builder builder = DynamicMessage.newBuilder(type);
    try {
      String json = JsonFormat.printer().print(tree.getStructValue());
      // No ignoringUnknownFields(): an unknown field is an error, as it is for Envoy.
      JsonFormat.parser().usingTypeRegistry(schema.registry()).merge(json, builder);
    } catch (InvalidProtocolBufferException | RuntimeException e) {
      throw new InvalidSnippetException(source, List.of(
          "does not match Envoy's schema for " + messageType + ": " + e.getMessage()));
    }
    Message message = builder.build();
    new SchemaRules(schema, problems).check(message, "");
    if (!problems.isEmpty()) {
      throw new InvalidSnippetException(source, problems);
    }
    return new Parsed(source, messageType, message);
  }

  // --- YAML -> Struct, the way Envoy turns YAML into JSON -------------------------------------

  static Value toValue(String source, String yaml) throws InvalidSnippetException {
    LoaderOptions options = new LoaderOptions();
    options.setAllowDuplicateKeys(false); // Envoy rejects duplicate keys too
    List<Object> docs = new ArrayList<>();
    try {
      new Yaml(new SafeConstructor(options)).loadAll(yaml).forEach(docs::add);
    } catch (YAMLException e) {
      throw new InvalidSnippetException(source, List.of("is not valid YAML: " + e.getMessage()));
    }
    if (docs.size() != 1) {
      throw new InvalidSnippetException(source, List.of(
          "must hold exactly one YAML document, it holds " + docs.size()));
    }
    List<String> problems = new ArrayList<>();
    Value v = toValue(docs.get(0), "", problems);
    if (!problems.isEmpty()) {
      throw new InvalidSnippetException(source, problems);
    }
    return v;
  }

  private static final BigInteger MAX_EXACT = BigInteger.valueOf(1L << 53);

  private static Value toValue(Object o, String path, List<String> problems) {
    if (o == null) {
      return Value.newBuilder().setNullValue(NullValue.NULL_VALUE).build();
    } else if (o instanceof String s) {
      return Value.newBuilder().setStringValue(s).build();
    } else if (o instanceof Boolean b) {
      return Value.newBuilder().setBoolValue(b).build();
    } else if (o instanceof Integer || o instanceof Long || o instanceof BigInteger) {
      BigInteger i = new BigInteger(o.toString());
      if (i.abs().compareTo(MAX_EXACT) > 0) {
        problems.add(at(path) + "integer " + i + " does not fit a JSON number exactly; quote it");
      }
      return Value.newBuilder().setNumberValue(i.doubleValue()).build();
    } else if (o instanceof Double || o instanceof Float) {
      return Value.newBuilder().setNumberValue(((Number) o).doubleValue()).build();
    } else if (o instanceof List<?> list) {
      ListValue.Builder lb = ListValue.newBuilder();
      for (int i = 0; i < list.size(); i++) {
        lb.addValues(toValue(list.get(i), path + "[" + i + "]", problems));
      }
      return Value.newBuilder().setListValue(lb).build();
    } else if (o instanceof Map<?, ?> map) {
      Struct.Builder sb = Struct.newBuilder();
      for (Map.Entry<?, ?> e : map.entrySet()) {
        if (!(e.getKey() instanceof String key)) {
          problems.add(at(path) + "key " + e.getKey() + " is not a string; quote it");
          continue;
        }
        sb.putFields(key, toValue(e.getValue(), join(path, key), problems));
      }
      return Value.newBuilder().setStructValue(sb).build();
    }
    problems.add(at(path) + "YAML value of type " + o.getClass().getSimpleName()
        + " (a timestamp or binary?) has no JSON form; quote it");
    return Value.getDefaultInstance();
  }

  // --- unknown fields and @types, with paths ---------------------------------------------------

  private void checkFields(Descriptor type, Struct s, String path, List<String> problems) {
    if (type.getFullName().equals("google.protobuf.Any")) {
      Value t = s.getFieldsOrDefault("@type", null);
      if (t == null || !t.hasStringValue()) {
        problems.add(at(path) + "an Any (typed_config) needs a string \"@type\"");
        return;
      }
      Descriptor inner = resolve(t.getStringValue());
      if (inner == null) {
        problems.add(at(path) + "unresolved @type '" + t.getStringValue()
            + "': no such message in Envoy's API");
        return;
      }
      if (SPECIAL_JSON.contains(inner.getFullName())) {
        return;
      }
      Struct.Builder rest = s.toBuilder().removeFields("@type");
      checkFields(inner, rest.build(), path + "<" + inner.getFullName() + ">", problems);
      return;
    }
    for (Map.Entry<String, Value> e : s.getFieldsMap().entrySet()) {
      String key = e.getKey();
      String p = join(path, key);
      FieldDescriptor f = field(type, key);
      if (f == null) {
        problems.add(at(p) + "unknown field '" + key + "' in " + type.getFullName()
            + suggestion(type, key));
        continue;
      }
      if (f.getJavaType() != FieldDescriptor.JavaType.MESSAGE) {
        continue;
      }
      Value v = e.getValue();
      if (f.isMapField()) {
        FieldDescriptor valueField = f.getMessageType().findFieldByName("value");
        if (v.hasStructValue() && valueField.getJavaType() == FieldDescriptor.JavaType.MESSAGE) {
          for (Map.Entry<String, Value> me : v.getStructValue().getFieldsMap().entrySet()) {
            checkMessage(valueField.getMessageType(), me.getValue(), p + "[" + me.getKey() + "]",
                problems);
          }
        }
      } else if (f.isRepeated()) {
        if (v.hasListValue()) {
          List<Value> items = v.getListValue().getValuesList();
          for (int i = 0; i < items.size(); i++) {
            checkMessage(f.getMessageType(), items.get(i), p + "[" + i + "]", problems);
          }
        }
      } else {
        checkMessage(f.getMessageType(), v, p, problems);
      }
    }
  }

  private void checkMessage(Descriptor type, Value v, String path, List<String> problems) {
    if (v.hasStructValue() && !SPECIAL_JSON.contains(type.getFullName())) {
      checkFields(type, v.getStructValue(), path, problems);
    }
    // anything else (a scalar where an object belongs, ...) is reported by the parser
  }

  Descriptor resolve(String typeUrl) {
    return schema.resolveTypeUrl(typeUrl);
  }

  private static FieldDescriptor field(Descriptor type, String key) {
    FieldDescriptor f = type.findFieldByName(key);
    if (f != null) {
      return f;
    }
    for (FieldDescriptor candidate : type.getFields()) {
      if (candidate.getJsonName().equals(key)) {
        return candidate;
      }
    }
    return null;
  }

  private static String suggestion(Descriptor type, String key) {
    String best = null;
    int bestDistance = Integer.MAX_VALUE;
    for (FieldDescriptor f : type.getFields()) {
      int d = distance(key, f.getName());
      if (d < bestDistance) {
        bestDistance = d;
        best = f.getName();
      }
    }
    return best != null && bestDistance <= Math.max(2, key.length() / 4)
        ? " (did you mean '" + best + "'?)" : "";
  }

  private static int distance(String a, String b) {
    int[] prev = new int[b.length() + 1];
    int[] cur = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) {
      prev[j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      cur[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
        cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
      }
      int[] t = prev;
      prev = cur;
      cur = t;
    }
    return prev[b.length()];
  }

  static String join(String path, String field) {
    return path.isEmpty() ? field : path + "." + field;
  }

  static String at(String path) {
    return path.isEmpty() ? "" : path + ": ";
  }
}
