package io.arbiter.bench;

import java.util.LinkedHashMap;
import java.util.Map;

/** {@code --name value} options of the load drivers, every one with a default. */
final class DriverOptions {
  private final Map<String, String> values;

  private DriverOptions(Map<String, String> values) {
    this.values = values;
  }

  /** Parses {@code args} over {@code defaults} (kept in order for the usage line); exit 2 on an unknown option. */
  static DriverOptions parse(String program, Map<String, String> defaults, String[] args) {
    Map<String, String> a = new LinkedHashMap<>(defaults);
    for (int i = 0; i < args.length; i++) {
      String name = args[i].startsWith("--") ? args[i].substring(2) : "";
      if (!a.containsKey(name) || i + 1 == args.length) {
        System.err.println("usage: " + program + " [--" + String.join(" V] [--", a.keySet()) + " V]");
        System.exit(2);
      }
      a.put(name, args[++i]);
    }
    return new DriverOptions(a);
  }

  String get(String name) {
    String v = values.get(name);
    if (v == null) {
      throw new IllegalArgumentException("no option --" + name);
    }
    return v;
  }

  int integer(String name) {
    return Integer.parseInt(get(name));
  }

  double number(String name) {
    return Double.parseDouble(get(name));
  }
}
