package io.arbiter.envoyconfigs;

import static io.arbiter.envoyconfigs.SnippetValidator.at;
import static io.arbiter.envoyconfigs.SnippetValidator.join;

import com.google.protobuf.ByteString;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.EnumValueDescriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Descriptors.OneofDescriptor;
import com.google.protobuf.Duration;
import com.google.protobuf.DynamicMessage;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import io.envoyproxy.pgv.validate.Validate;
import io.envoyproxy.pgv.validate.Validate.FieldRules;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import java.util.stream.Collectors;

/**
 * What Envoy checks of a parsed config beyond the proto3 JSON mapping, as far as it is cheap to
 * check here:
 *
 * <ul>
 *   <li>the {@code protoc-gen-validate} rules written in Envoy's {@code .proto} files ({@code
 *       (validate.rules)} on fields, {@code (validate.required)} on oneofs), which Envoy enforces
 *       when it loads a config: message {@code required}; numeric, bool and enum {@code const},
 *       bounds, {@code in}/{@code not_in}, {@code defined_only}; string lengths, {@code pattern},
 *       prefix/suffix/contains, {@code in}/{@code not_in} and the HTTP header well-known regexes;
 *       bytes lengths; repeated/map sizes and per-item rules; {@code Duration} and {@code Any}
 *       rules. The other well-known string formats (hostname, ip, uri, email, address, uuid),
 *       {@code unique} and timestamp bounds are not checked;
 *   <li>fields and enum values marked {@code deprecated} (Envoy warns on them, and turns them into
 *       errors releases later): a snippet we ship must not use them;
 *   <li>{@code "@type"}s of Envoy's v2 API, which Envoy no longer accepts.
 * </ul>
 *
 * Every {@code Any} is unpacked and checked in turn.
 */
final class SchemaRules {

  private static final Pattern HEADER_NAME_STRICT = Pattern.compile("^:?[0-9a-zA-Z!#$%&'*+\\-.^_|~`]+$");
  private static final Pattern HEADER_VALUE_STRICT =
      Pattern.compile("^[^\\u0000-\\u0008\\u000A-\\u001F\\u007F]*$");
  private static final Pattern HEADER_LOOSE = Pattern.compile("^[^\\u0000\\u000A\\u000D]*$");
  private static final Set<String> WRAPPERS = Set.of(
      "google.protobuf.DoubleValue", "google.protobuf.FloatValue", "google.protobuf.Int64Value",
      "google.protobuf.UInt64Value", "google.protobuf.Int32Value", "google.protobuf.UInt32Value",
      "google.protobuf.BoolValue", "google.protobuf.StringValue", "google.protobuf.BytesValue");

  private final EnvoySchema schema;
  private final List<String> problems;

  SchemaRules(EnvoySchema schema, List<String> problems) {
    this.schema = schema;
    this.problems = problems;
  }

  void check(Message m, String path) {
    Descriptor d = m.getDescriptorForType();
    if (d.getFullName().equals("google.protobuf.Any")) {
      checkAny(m, path);
      return;
    }
    boolean rulesOff = d.getOptions().getExtension(Validate.disabled)
        || d.getOptions().getExtension(Validate.ignored);
    if (!rulesOff) {
      for (OneofDescriptor o : d.getRealOneofs()) {
        if (o.getOptions().getExtension(Validate.required) && m.getOneofFieldDescriptor(o) == null) {
          problems.add(at(path) + "one of " + o.getFields().stream().map(FieldDescriptor::getName)
              .collect(Collectors.joining(", ")) + " is required (" + d.getFullName() + "."
              + o.getName() + ")");
        }
      }
    }
    for (FieldDescriptor f : d.getFields()) {
      String p = join(path, f.getName());
      boolean present = f.isRepeated() ? m.getRepeatedFieldCount(f) > 0 : m.hasField(f);
      if (present && f.getOptions().getDeprecated()) {
        problems.add(at(p) + "deprecated in Envoy's API (" + d.getFullName() + "." + f.getName()
            + "); use its replacement");
      }
      if (present && f.getJavaType() == FieldDescriptor.JavaType.ENUM) {
        for (Object v : values(m, f)) {
          EnumValueDescriptor e = (EnumValueDescriptor) v;
          if (e.getOptions().getDeprecated()) {
            problems.add(at(p) + "enum value " + e.getName() + " is deprecated in Envoy's API");
          }
        }
      }
      boolean skip = false;
      // Rules of a oneof member apply only when that member is the one set.
      boolean otherOneofMember = f.getRealContainingOneof() != null
          && !f.equals(m.getOneofFieldDescriptor(f.getRealContainingOneof()));
      if (!rulesOff && !otherOneofMember && f.getOptions().hasExtension(Validate.rules)) {
        FieldRules r = f.getOptions().getExtension(Validate.rules);
        skip = r.getMessage().getSkip();
        applyFieldRules(r, m, f, p);
      }
      if (skip || !present || f.getJavaType() != FieldDescriptor.JavaType.MESSAGE) {
        continue;
      }
      if (f.isMapField()) {
        for (Object entry : values(m, f)) {
          Message e = (Message) entry;
          Descriptor ed = e.getDescriptorForType();
          Object value = e.getField(ed.findFieldByName("value"));
          if (value instanceof Message vm) {
            check(vm, p + "[" + e.getField(ed.findFieldByName("key")) + "]");
          }
        }
      } else if (f.isRepeated()) {
        List<Object> items = values(m, f);
        for (int i = 0; i < items.size(); i++) {
          check((Message) items.get(i), p + "[" + i + "]");
        }
      } else {
        check((Message) m.getField(f), p);
      }
    }
  }

  private void checkAny(Message any, String path) {
    Descriptor d = any.getDescriptorForType();
    String url = (String) any.getField(d.findFieldByName("type_url"));
    ByteString bytes = (ByteString) any.getField(d.findFieldByName("value"));
    String typeName = url.substring(url.lastIndexOf('/') + 1);
    if (typeName.startsWith("envoy.") && (typeName.contains(".v2.") || typeName.contains(".v2alpha")
        || typeName.startsWith("envoy.config.filter."))) {
      problems.add(at(path) + "@type " + typeName + " is of Envoy's v2 API, which Envoy rejects;"
          + " use the v3 type");
    }
    Descriptor inner = schema.resolveTypeUrl(url);
    if (inner == null) {
      problems.add(at(path) + "unresolved @type '" + url + "'");
      return;
    }
    try {
      check(DynamicMessage.parseFrom(inner, bytes), path + "<" + inner.getFullName() + ">");
    } catch (InvalidProtocolBufferException e) {
      problems.add(at(path) + "cannot unpack " + url + ": " + e.getMessage());
    }
  }

  // --- protoc-gen-validate --------------------------------------------------------------------

  private void applyFieldRules(FieldRules r, Message m, FieldDescriptor f, String p) {
    if (r.getMessage().getRequired() && !f.isRepeated() && !m.hasField(f)) {
      problems.add(at(p) + "is required");
    }
    switch (r.getTypeCase()) {
      case REPEATED -> {
        Validate.RepeatedRules rr = r.getRepeated();
        int n = m.getRepeatedFieldCount(f);
        if (rr.getIgnoreEmpty() && n == 0) {
          return;
        }
        if (rr.hasMinItems() && n < rr.getMinItems()) {
          problems.add(at(p) + "needs at least " + rr.getMinItems() + " item(s), has " + n);
        }
        if (rr.hasMaxItems() && n > rr.getMaxItems()) {
          problems.add(at(p) + "allows at most " + rr.getMaxItems() + " item(s), has " + n);
        }
        if (rr.hasItems()) {
          List<Object> items = values(m, f);
          for (int i = 0; i < items.size(); i++) {
            applyValueRules(rr.getItems(), items.get(i), p + "[" + i + "]");
          }
        }
      }
      case MAP -> {
        Validate.MapRules mr = r.getMap();
        int n = m.getRepeatedFieldCount(f);
        if (mr.getIgnoreEmpty() && n == 0) {
          return;
        }
        if (mr.hasMinPairs() && n < mr.getMinPairs()) {
          problems.add(at(p) + "needs at least " + mr.getMinPairs() + " entr(ies), has " + n);
        }
        if (mr.hasMaxPairs() && n > mr.getMaxPairs()) {
          problems.add(at(p) + "allows at most " + mr.getMaxPairs() + " entr(ies), has " + n);
        }
        for (Object entry : values(m, f)) {
          Message e = (Message) entry;
          Descriptor ed = e.getDescriptorForType();
          Object key = e.getField(ed.findFieldByName("key"));
          if (mr.hasKeys()) {
            applyValueRules(mr.getKeys(), key, p + "[" + key + "] (key)");
          }
          if (mr.hasValues()) {
            applyValueRules(mr.getValues(), e.getField(ed.findFieldByName("value")), p + "[" + key + "]");
          }
        }
      }
      case TYPE_NOT_SET -> { }
      default -> {
        if (f.isRepeated()) {
          return; // scalar rules on a repeated field: not meaningful
        }
        if (f.getJavaType() == FieldDescriptor.JavaType.MESSAGE) {
          String t = f.getMessageType().getFullName();
          if (r.getTypeCase() == FieldRules.TypeCase.DURATION && r.getDuration().getRequired()
              && !m.hasField(f)) {
            problems.add(at(p) + "is required");
          } else if (r.getTypeCase() == FieldRules.TypeCase.ANY && r.getAny().getRequired()
              && !m.hasField(f)) {
            problems.add(at(p) + "is required");
          } else if (r.getTypeCase() == FieldRules.TypeCase.TIMESTAMP
              && r.getTimestamp().getRequired() && !m.hasField(f)) {
            problems.add(at(p) + "is required");
          }
          if (!m.hasField(f)) {
            return; // an unset wrapper, Duration or Any: its value rules do not apply
          }
          Message v = (Message) m.getField(f);
          if (WRAPPERS.contains(t)) {
            applyValueRules(r, v.getField(v.getDescriptorForType().findFieldByName("value")), p);
          } else {
            applyValueRules(r, v, p);
          }
          return;
        }
        if (f.hasPresence() && !m.hasField(f)) {
          return; // an unset proto3 optional scalar
        }
        applyValueRules(r, m.getField(f), p);
      }
    }
  }

  /** Rules for one value (a field's, an item's, a map key's or value's). */
  private void applyValueRules(FieldRules r, Object v, String p) {
    switch (r.getTypeCase()) {
      case BOOL -> {
        if (r.getBool().hasConst() && !v.equals(r.getBool().getConst())) {
          problems.add(at(p) + "must be " + r.getBool().getConst());
        }
      }
      case STRING -> checkString(r.getString(), (String) v, p);
      case BYTES -> {
        Validate.BytesRules b = r.getBytes();
        int n = ((ByteString) v).size();
        if (b.getIgnoreEmpty() && n == 0) {
          return;
        }
        if (b.hasLen() && n != b.getLen()) {
          problems.add(at(p) + "must be " + b.getLen() + " bytes long");
        }
        if (b.hasMinLen() && n < b.getMinLen()) {
          problems.add(at(p) + "must be at least " + b.getMinLen() + " bytes long");
        }
        if (b.hasMaxLen() && n > b.getMaxLen()) {
          problems.add(at(p) + "must be at most " + b.getMaxLen() + " bytes long");
        }
      }
      case ENUM -> {
        Validate.EnumRules e = r.getEnum();
        EnumValueDescriptor ev = (EnumValueDescriptor) v;
        int n = ev.getNumber();
        if (e.getDefinedOnly() && ev.getType().findValueByNumber(n) == null) {
          problems.add(at(p) + n + " is not a value of " + ev.getType().getFullName());
        }
        if (e.hasConst() && n != e.getConst()) {
          problems.add(at(p) + "must be enum value number " + e.getConst());
        }
        if (e.getInCount() > 0 && !e.getInList().contains(n)) {
          problems.add(at(p) + "must be one of enum value numbers " + e.getInList());
        }
        if (e.getNotInList().contains(n)) {
          problems.add(at(p) + "must not be " + ev.getName());
        }
      }
      case DURATION -> {
        if (!(v instanceof Message dm)) {
          return;
        }
        Validate.DurationRules dr = r.getDuration();
        BigDecimal d = nanos(dm);
        if (dr.hasConst() && d.compareTo(nanos(dr.getConst())) != 0) {
          problems.add(at(p) + "must be " + show(dr.getConst()));
        }
        if (dr.hasLt() && d.compareTo(nanos(dr.getLt())) >= 0) {
          problems.add(at(p) + "must be < " + show(dr.getLt()));
        }
        if (dr.hasLte() && d.compareTo(nanos(dr.getLte())) > 0) {
          problems.add(at(p) + "must be <= " + show(dr.getLte()));
        }
        if (dr.hasGt() && d.compareTo(nanos(dr.getGt())) <= 0) {
          problems.add(at(p) + "must be > " + show(dr.getGt()));
        }
        if (dr.hasGte() && d.compareTo(nanos(dr.getGte())) < 0) {
          problems.add(at(p) + "must be >= " + show(dr.getGte()));
        }
      }
      case ANY -> {
        if (!(v instanceof Message am)) {
          return;
        }
        String url = (String) am.getField(am.getDescriptorForType().findFieldByName("type_url"));
        Validate.AnyRules ar = r.getAny();
        if (ar.getInCount() > 0 && !ar.getInList().contains(url)) {
          problems.add(at(p) + "@type must be one of " + ar.getInList());
        }
        if (ar.getNotInList().contains(url)) {
          problems.add(at(p) + "@type must not be " + url);
        }
      }
      case FLOAT, DOUBLE, INT32, INT64, UINT32, UINT64, SINT32, SINT64, FIXED32, FIXED64,
          SFIXED32, SFIXED64 -> checkNumber(r, v, p);
      default -> { }
    }
  }

  private void checkString(Validate.StringRules s, String v, String p) {
    if (s.getIgnoreEmpty() && v.isEmpty()) {
      return;
    }
    long chars = v.codePointCount(0, v.length());
    long bytes = v.getBytes(StandardCharsets.UTF_8).length;
    if (s.hasConst() && !v.equals(s.getConst())) {
      problems.add(at(p) + "must be '" + s.getConst() + "'");
    }
    if (s.hasLen() && chars != s.getLen()) {
      problems.add(at(p) + "must be " + s.getLen() + " characters long");
    }
    if (s.hasMinLen() && chars < s.getMinLen()) {
      problems.add(at(p) + (s.getMinLen() == 1 ? "must not be empty"
          : "must be at least " + s.getMinLen() + " characters long"));
    }
    if (s.hasMaxLen() && chars > s.getMaxLen()) {
      problems.add(at(p) + "must be at most " + s.getMaxLen() + " characters long");
    }
    if (s.hasLenBytes() && bytes != s.getLenBytes()) {
      problems.add(at(p) + "must be " + s.getLenBytes() + " bytes long");
    }
    if (s.hasMinBytes() && bytes < s.getMinBytes()) {
      problems.add(at(p) + "must be at least " + s.getMinBytes() + " bytes long");
    }
    if (s.hasMaxBytes() && bytes > s.getMaxBytes()) {
      problems.add(at(p) + "must be at most " + s.getMaxBytes() + " bytes long");
    }
    if (s.hasPattern()) {
      try {
        if (!Pattern.compile(s.getPattern()).matcher(v).find()) {
          problems.add(at(p) + "must match /" + s.getPattern() + "/");
        }
      } catch (PatternSyntaxException e) {
        // an RE2 construct java.util.regex lacks: not checked
      }
    }
    if (s.hasPrefix() && !v.startsWith(s.getPrefix())) {
      problems.add(at(p) + "must start with '" + s.getPrefix() + "'");
    }
    if (s.hasSuffix() && !v.endsWith(s.getSuffix())) {
      problems.add(at(p) + "must end with '" + s.getSuffix() + "'");
    }
    if (s.hasContains() && !v.contains(s.getContains())) {
      problems.add(at(p) + "must contain '" + s.getContains() + "'");
    }
    if (s.hasNotContains() && v.contains(s.getNotContains())) {
      problems.add(at(p) + "must not contain '" + s.getNotContains() + "'");
    }
    if (s.getInCount() > 0 && !s.getInList().contains(v)) {
      problems.add(at(p) + "must be one of " + s.getInList());
    }
    if (s.getNotInList().contains(v)) {
      problems.add(at(p) + "must not be '" + v + "'");
    }
    if (s.hasWellKnownRegex()) {
      Pattern pattern = switch (s.getWellKnownRegex()) {
        case HTTP_HEADER_NAME -> s.getStrict() ? HEADER_NAME_STRICT : HEADER_LOOSE;
        case HTTP_HEADER_VALUE -> s.getStrict() ? HEADER_VALUE_STRICT : HEADER_LOOSE;
        default -> null;
      };
      if (pattern != null && !pattern.matcher(v).matches()) {
        problems.add(at(p) + "is not a valid " + s.getWellKnownRegex());
      }
    }
  }

  private void checkNumber(FieldRules r, Object v, String p) {
    FieldDescriptor rulesField = FieldRules.getDescriptor().findFieldByNumber(r.getTypeCase().getNumber());
    Message rules = (Message) r.getField(rulesField);
    Descriptor rd = rules.getDescriptorForType();
    boolean unsigned = Set.of("uint32", "uint64", "fixed32", "fixed64").contains(rulesField.getName());
    BigDecimal x = number(v, unsigned);
    FieldDescriptor ignoreEmpty = rd.findFieldByName("ignore_empty");
    if (ignoreEmpty != null && (Boolean) rules.getField(ignoreEmpty) && x.signum() == 0) {
      return;
    }
    String[] ops = {"const", "lt", "lte", "gt", "gte"};
    for (String op : ops) {
      FieldDescriptor of = rd.findFieldByName(op);
      if (of == null || !rules.hasField(of)) {
        continue;
      }
      int c = x.compareTo(number(rules.getField(of), unsigned));
      boolean ok = switch (op) {
        case "const" -> c == 0;
        case "lt" -> c < 0;
        case "lte" -> c <= 0;
        case "gt" -> c > 0;
        default -> c >= 0;
      };
      if (!ok) {
        String sym = switch (op) {
          case "const" -> "==";
          case "lt" -> "<";
          case "lte" -> "<=";
          case "gt" -> ">";
          default -> ">=";
        };
        problems.add(at(p) + "must be " + sym + " " + number(rules.getField(of), unsigned)
            + ", is " + x);
      }
    }
    List<BigDecimal> in = new ArrayList<>();
    for (Object o : (List<?>) rules.getField(rd.findFieldByName("in"))) {
      in.add(number(o, unsigned));
    }
    if (!in.isEmpty() && in.stream().noneMatch(i -> i.compareTo(x) == 0)) {
      problems.add(at(p) + "must be one of " + in);
    }
    for (Object o : (List<?>) rules.getField(rd.findFieldByName("not_in"))) {
      if (number(o, unsigned).compareTo(x) == 0) {
        problems.add(at(p) + "must not be " + x);
      }
    }
  }

  private static BigDecimal number(Object v, boolean unsigned) {
    if (v instanceof Integer i) {
      return BigDecimal.valueOf(unsigned ? Integer.toUnsignedLong(i) : i);
    } else if (v instanceof Long l) {
      return unsigned ? new BigDecimal(Long.toUnsignedString(l)) : BigDecimal.valueOf(l);
    } else if (v instanceof Float f) {
      return new BigDecimal(Float.toString(f));
    } else if (v instanceof Double d) {
      return BigDecimal.valueOf(d);
    }
    throw new IllegalArgumentException("not a number: " + v);
  }

  private static BigDecimal nanos(Message duration) {
    Descriptor d = duration.getDescriptorForType();
    long s = (Long) duration.getField(d.findFieldByName("seconds"));
    int n = (Integer) duration.getField(d.findFieldByName("nanos"));
    return BigDecimal.valueOf(s).scaleByPowerOfTen(9).add(BigDecimal.valueOf(n));
  }

  private static String show(Duration d) {
    return BigDecimal.valueOf(d.getSeconds()).add(BigDecimal.valueOf(d.getNanos(), 9))
        .stripTrailingZeros().toPlainString() + "s";
  }

  static List<Object> values(Message m, FieldDescriptor f) {
    List<Object> out = new ArrayList<>();
    if (f.isRepeated()) {
      for (int i = 0; i < m.getRepeatedFieldCount(f); i++) {
        out.add(m.getRepeatedField(f, i));
      }
    } else if (m.hasField(f)) {
      out.add(m.getField(f));
    }
    return out;
  }
}
