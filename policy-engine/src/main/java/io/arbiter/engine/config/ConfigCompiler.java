package io.arbiter.engine.config;

import io.arbiter.engine.EngineServices;
import io.arbiter.engine.internal.CelEnvironment;
import io.arbiter.engine.internal.CompiledInstance;
import io.arbiter.engine.internal.CompiledRule;
import io.arbiter.engine.internal.HandlerGuard;
import io.arbiter.engine.internal.Expression;
import io.arbiter.engine.internal.HandlerContext;
import io.arbiter.engine.internal.Sampler;
import io.arbiter.engine.spi.Adapter;
import io.arbiter.engine.spi.CheckHandler;
import io.arbiter.engine.spi.CheckResult;
import io.arbiter.engine.spi.Code;
import io.arbiter.engine.spi.Handler;
import io.arbiter.engine.spi.HeaderValue;
import io.arbiter.engine.spi.Params;
import io.arbiter.engine.spi.QuotaHandler;
import io.arbiter.engine.spi.ReportHandler;
import io.arbiter.engine.spi.ParamsException;
import io.arbiter.engine.spi.Template;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;

/**
 * Turns config documents into a {@link ConfigSnapshot}: validates every object, compiles and
 * type-checks every expression, and builds the handlers (reusing the previous snapshot's handler
 * when its adapter and params are unchanged). Collects every error before failing; on failure no
 * handler it built stays open.
 *
 * <p>Thread-safe; compiles run one at a time per config source by the caller's design.
 */
public final class ConfigCompiler {
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,126}");
  private static final Pattern HEADER = Pattern.compile("[!#$%&'*+.^_`|~0-9a-zA-Z-]+");
  private static final Set<String> TOP_LEVEL = Set.of("handlers", "instances", "rules", "settings");
  private static final Map<Integer, CelEnvironment> ENVIRONMENTS = new ConcurrentHashMap<>();

  private final EngineServices services;

  public ConfigCompiler(EngineServices services) {
    this.services = services;
  }

  /** One config object as found in a file, with a label for errors. */
  private record Item(ConfigDocument doc, String label, Map<String, Object> fields) {}

  /** Collects errors against the object being compiled. */
  private static final class Errors {
    final List<ConfigError> list = new ArrayList<>();

    void add(Item item, String field, String reason) {
      list.add(new ConfigError(item.doc.name(), item.label, field, reason));
    }

    void add(ConfigDocument doc, String reason) {
      list.add(new ConfigError(doc.name(), "", "", reason));
    }

    /** Validates {@code p} and records its problems under {@code prefix}. */
    boolean check(Item item, String prefix, Params p) {
      try {
        p.validate();
        return true;
      } catch (ParamsException e) {
        for (Params.Problem problem : e.problems()) {
          add(item, prefix + problem.field(), problem.reason());
        }
        return false;
      }
    }
  }

  /**
   * @param previous the snapshot now serving, whose unchanged handlers are reused; may be null
   * @throws ConfigException with every error found
   */
  public ConfigSnapshot compile(List<ConfigDocument> docs, ConfigSnapshot previous)
      throws ConfigException {
    Errors errors = new Errors();
    Map<String, List<Item>> sections = new HashMap<>();
    Item settingsItem = null;
    for (ConfigDocument doc : docs) {
      for (Map.Entry<String, Object> e : doc.content().entrySet()) {
        String key = e.getKey();
        if (!TOP_LEVEL.contains(key)) {
          errors.add(doc, "unknown top-level key '" + key + "' (known: handlers, instances, rules, settings)");
        } else if (key.equals("settings")) {
          if (settingsItem != null) {
            errors.add(doc, "settings are already given in " + settingsItem.doc.name());
          } else if (e.getValue() != null && !(e.getValue() instanceof Map)) {
            errors.add(doc, "settings must be a mapping");
          } else {
            settingsItem = new Item(doc, "settings", asMap(e.getValue()));
          }
        } else {
          collect(doc, key, e.getValue(), sections, errors);
        }
      }
    }
    Settings settings = Settings.DEFAULT;
    if (settingsItem != null) {
      Params p = new Params(settingsItem.fields);
      settings = Settings.read(p);
      errors.check(settingsItem, "", p);
    }
    CelEnvironment cel =
        ENVIRONMENTS.computeIfAbsent(settings.celMaxIterations(), CelEnvironment::new);

    Map<String, ConfigSnapshot.HandlerEntry> handlers = new LinkedHashMap<>();
    List<Handler> created = new ArrayList<>();
    for (Item item : sections.getOrDefault("handlers", List.of())) {
      compileHandler(item, previous, settings, handlers, created, errors);
    }
    Map<String, CompiledInstance> instances = new LinkedHashMap<>();
    for (Item item : sections.getOrDefault("instances", List.of())) {
      compileInstance(item, cel, instances, errors);
    }
    List<CompiledRule> rules = new ArrayList<>();
    Set<String> ruleNames = new java.util.HashSet<>();
    for (Item item : sections.getOrDefault("rules", List.of())) {
      CompiledRule rule = compileRule(item, cel, handlers, instances, errors);
      if (rule != null) {
        if (!ruleNames.add(rule.name())) {
          errors.add(item, "name", "another rule is named '" + rule.name() + "'");
        } else {
          rules.add(rule);
        }
      }
    }
    if (!errors.list.isEmpty()) {
      created.forEach(Handler::close);
      for (ConfigSnapshot.HandlerEntry e : handlers.values()) {
        ConfigSnapshot.HandlerEntry was = previous == null ? null : previous.handlers().get(e.name());
        if (was == null || was.guard() != e.guard()) {
          e.guard().close();
        }
      }
      throw new ConfigException(errors.list);
    }
    return ConfigSnapshot.of(
        ConfigDocument.fingerprint(docs), services.clock().instant(), docs, settings, rules, handlers,
        instances.size());
  }

  private static void collect(
      ConfigDocument doc, String key, Object value, Map<String, List<Item>> sections, Errors errors) {
    if (value == null) {
      return;
    }
    if (!(value instanceof List<?> list)) {
      errors.add(doc, key + " must be a list");
      return;
    }
    String singular = key.substring(0, key.length() - 1);
    for (int i = 0; i < list.size(); i++) {
      Object o = list.get(i);
      String label = key + "[" + i + "]";
      if (!(o instanceof Map<?, ?>)) {
        errors.list.add(new ConfigError(doc.name(), label, "", "must be a mapping"));
        continue;
      }
      Map<String, Object> fields = asMap(o);
      Object name = fields.get("name");
      if (name instanceof String s && !s.isEmpty()) {
        label = singular + " \"" + s + "\"";
      }
      sections.computeIfAbsent(key, k -> new ArrayList<>()).add(new Item(doc, label, fields));
    }
  }

  private String name(Item item, Params p, Errors errors) {
    String name = p.string("name", "");
    if (name.isEmpty()) {
      errors.add(item, "name", "required");
      return null;
    }
    if (!NAME.matcher(name).matches()) {
      errors.add(item, "name", "'" + name + "' must be letters, digits, '.', '_' or '-' (at most 127)");
      return null;
    }
    return name;
  }

  private void compileHandler(
      Item item,
      ConfigSnapshot previous,
      Settings settings,
      Map<String, ConfigSnapshot.HandlerEntry> handlers,
      List<Handler> created,
      Errors errors) {
    Params p = new Params(item.fields);
    String name = name(item, p, errors);
    String adapterName = p.string("adapter", "");
    Object rawParams = item.fields.get("params");
    p.has("params");
    if (rawParams != null && !(rawParams instanceof Map)) {
      errors.add(item, "params", "must be a mapping");
      rawParams = null;
    }
    p.has("resilience");
    Resilience resilience =
        Resilience.read(item.fields.get("resilience"), (field, reason) -> errors.add(item, field, reason));
    errors.check(item, "", p);
    if (adapterName.isEmpty()) {
      errors.add(item, "adapter", "required");
      return;
    }
    Adapter adapter = services.adapters().get(adapterName);
    if (adapter == null) {
      errors.add(item, "adapter", "unknown adapter '" + adapterName + "' (known: " + services.adapters().keySet() + ")");
      return;
    }
    if (name == null) {
      return;
    }
    if (handlers.containsKey(name)) {
      errors.add(item, "name", "another handler is named '" + name + "'");
      return;
    }
    Map<String, Object> params = asMap(rawParams);
    Path baseDir = baseDir(item.doc);
    ConfigSnapshot.HandlerEntry old = previous == null ? null : previous.handlers().get(name);
    if (old != null && old.sameConfig(adapterName, params, baseDir.toString())) {
      handlers.put(name, old.guard().sameAs(resilience, settings.handlerTimeout()) ? old
          : new ConfigSnapshot.HandlerEntry(name, adapterName, params, baseDir.toString(), old.handler(),
              guard(name, resilience, settings)));
      return;
    }
    try {
      Handler h = adapter.create(new Params(params), new HandlerContext(services, name, baseDir));
      created.add(h);
      handlers.put(name, new ConfigSnapshot.HandlerEntry(name, adapterName, params, baseDir.toString(), h,
          guard(name, resilience, settings)));
    } catch (ParamsException e) {
      for (Params.Problem problem : e.problems()) {
        errors.add(item, "params." + problem.field(), problem.reason());
      }
    } catch (RuntimeException e) {
      errors.add(item, "params", "adapter '" + adapterName + "' failed: " + e);
    }
  }

  private HandlerGuard guard(String name, Resilience resilience, Settings settings) {
    return new HandlerGuard(name, resilience, settings.handlerTimeout(), services.clock(), services.metrics());
  }

  private void compileInstance(
      Item item, CelEnvironment cel, Map<String, CompiledInstance> instances, Errors errors) {
    Params p = new Params(item.fields);
    String name = name(item, p, errors);
    String templateName = p.string("template", "");
    Object rawParams = item.fields.get("params");
    p.has("params");
    errors.check(item, "", p);
    if (templateName.isEmpty()) {
      errors.add(item, "template", "required");
      return;
    }
    Template template = Template.byConfigName(templateName).orElse(null);
    if (template == null) {
      List<String> known = new ArrayList<>();
      for (Template t : Template.values()) {
        known.add(t.configName());
      }
      errors.add(item, "template", "unknown template '" + templateName + "' (known: " + known + ")");
      return;
    }
    if (rawParams != null && !(rawParams instanceof Map)) {
      errors.add(item, "params", "must be a mapping");
      return;
    }
    Params params = new Params(asMap(rawParams));
    ExpressionReader exprs = new ExpressionReader(item, cel, errors);
    CompiledInstance compiled =
        switch (template) {
          case CHECKNOTHING -> new CompiledInstance.CheckNothing(name);
          case LISTENTRY -> {
            Expression value = exprs.required(params, "params.", "value", CelEnvironment.Expect.TEXT);
            yield new CompiledInstance.ListEntry(name, value);
          }
          case AUTHORIZATION -> compileAuthorization(name, params, exprs, item, errors);
          case METRIC -> new CompiledInstance.Metric(name,
              exprs.required(params, "params.", "value", CelEnvironment.Expect.ANY),
              exprs.map(params, "params.", "dimensions", CelEnvironment.Expect.TEXT));
          case LOGENTRY -> new CompiledInstance.LogEntry(name,
              exprs.optional(params, "params.", "severity", CelEnvironment.Expect.TEXT),
              exprs.optional(params, "params.", "timestamp", CelEnvironment.Expect.ANY),
              exprs.map(params, "params.", "variables", CelEnvironment.Expect.ANY));
          case QUOTA -> new CompiledInstance.Quota(name,
              exprs.map(params, "params.", "dimensions", CelEnvironment.Expect.TEXT));
        };
    errors.check(item, "params.", params);
    if (name == null) {
      return;
    }
    if (instances.putIfAbsent(name, compiled) != null) {
      errors.add(item, "name", "another instance is named '" + name + "'");
    }
  }

  private CompiledInstance compileAuthorization(
      String name, Params params, ExpressionReader exprs, Item item, Errors errors) {
    Params subject = new Params(params.has("subject") ? nested(params, "subject", item, errors) : Map.of());
    Params action = new Params(params.has("action") ? nested(params, "action", item, errors) : Map.of());
    CompiledInstance.Authorization a =
        new CompiledInstance.Authorization(
            name,
            exprs.optional(subject, "params.subject.", "user", CelEnvironment.Expect.TEXT),
            exprs.optional(subject, "params.subject.", "groups", CelEnvironment.Expect.TEXT),
            exprs.map(subject, "params.subject.", "properties", CelEnvironment.Expect.ANY),
            exprs.optional(action, "params.action.", "namespace", CelEnvironment.Expect.TEXT),
            exprs.optional(action, "params.action.", "service", CelEnvironment.Expect.TEXT),
            exprs.optional(action, "params.action.", "method", CelEnvironment.Expect.TEXT),
            exprs.optional(action, "params.action.", "path", CelEnvironment.Expect.TEXT),
            exprs.map(action, "params.action.", "properties", CelEnvironment.Expect.ANY));
    errors.check(item, "params.subject.", subject);
    errors.check(item, "params.action.", action);
    return a;
  }

  private static Map<String, Object> nested(Params p, String key, Item item, Errors errors) {
    Object v = p.asMap().get(key);
    if (!(v instanceof Map)) {
      errors.add(item, "params." + key, "must be a mapping");
      return Map.of();
    }
    return asMap(v);
  }

  private CompiledRule compileRule(
      Item item,
      CelEnvironment cel,
      Map<String, ConfigSnapshot.HandlerEntry> handlers,
      Map<String, CompiledInstance> instances,
      Errors errors) {
    Params p = new Params(item.fields);
    String name = name(item, p, errors);
    ExpressionReader exprs = new ExpressionReader(item, cel, errors);
    Expression match = exprs.optional(p, "", "match", CelEnvironment.Expect.BOOL);
    if (match == null && !p.asMap().containsKey("match")) {
      match = exprs.compile("match", "true", CelEnvironment.Expect.BOOL);
    }
    List<CompiledRule.Action> actions = new ArrayList<>();
    Object rawActions = item.fields.get("actions");
    p.has("actions");
    if (rawActions != null && !(rawActions instanceof List)) {
      errors.add(item, "actions", "must be a list");
    } else if (rawActions != null) {
      List<?> list = (List<?>) rawActions;
      for (int i = 0; i < list.size(); i++) {
        CompiledRule.Action a = compileAction(item, "actions[" + i + "].", list.get(i), handlers, instances, errors);
        if (a != null) {
          actions.add(a);
        }
      }
    }
    List<CompiledRule.HeaderDirective> requestAdd = headers(item, p, "requestHeadersToAdd", exprs, errors);
    List<String> requestRemove = headerNames(item, p, "requestHeadersToRemove", errors);
    List<CompiledRule.HeaderDirective> responseAdd = headers(item, p, "responseHeadersToAdd", exprs, errors);
    Map<String, Expression> querySet = exprs.map(p, "", "queryParametersToSet", CelEnvironment.Expect.TEXT);
    List<String> queryRemove = p.stringList("queryParametersToRemove");
    Expression allow = exprs.optional(p, "", "allow", CelEnvironment.Expect.BOOL);
    Expression deny = exprs.optional(p, "", "deny", CelEnvironment.Expect.BOOL);
    CheckResult denial = denial(item, p, errors);
    Sampler sampler = sampler(item, p, errors);
    boolean shadow = p.bool("shadow", false);
    CompiledRule.CacheCap cacheCap = cacheCap(item, p, errors);
    errors.check(item, "", p);
    if (name == null || match == null) {
      return null;
    }
    return new CompiledRule(
        name, match, actions, requestAdd, requestRemove, responseAdd, querySet, queryRemove,
        allow, deny, denial, sampler, shadow,
        services.metrics().counter(
            "arbiter_rule_matches_total", "Calls each rule matched (checks, reports and quota calls).",
            "rule", name),
        services.metrics().counter(
            "arbiter_rule_shadow_denials_total",
            "Denials (over-limit quota included) that a rule in shadow mode counted but did not apply.",
            "rule", name),
        cacheCap);
  }

  /** A rule's {@code cache: {validDuration, validUseCount}}: caps on reusing its decisions. */
  private static CompiledRule.CacheCap cacheCap(Item item, Params p, Errors errors) {
    if (!p.has("cache")) {
      return null;
    }
    Object raw = p.asMap().get("cache");
    if (!(raw instanceof Map)) {
      errors.add(item, "cache", "must be a mapping of validDuration and/or validUseCount");
      return null;
    }
    Params c = new Params(asMap(raw));
    java.time.Duration d = c.duration("validDuration", CheckResult.DEFAULT_VALID_DURATION);
    if (d.isNegative()) {
      c.error("validDuration", "must not be negative");
    }
    int uses = (int) c.integer("validUseCount", CheckResult.DEFAULT_VALID_USE_COUNT, 0, Integer.MAX_VALUE);
    errors.check(item, "cache.", c);
    return new CompiledRule.CacheCap(d, uses);
  }

  private CompiledRule.Action compileAction(
      Item item,
      String prefix,
      Object raw,
      Map<String, ConfigSnapshot.HandlerEntry> handlers,
      Map<String, CompiledInstance> instances,
      Errors errors) {
    if (!(raw instanceof Map)) {
      errors.add(item, prefix.substring(0, prefix.length() - 1), "must be a mapping");
      return null;
    }
    Params p = new Params(asMap(raw));
    String handlerName = p.string("handler", "");
    List<String> instanceNames = p.stringList("instances");
    p.string("name", "");
    errors.check(item, prefix, p);
    if (handlerName.isEmpty()) {
      errors.add(item, prefix + "handler", "required");
      return null;
    }
    ConfigSnapshot.HandlerEntry handler = handlers.get(handlerName);
    if (handler == null) {
      errors.add(item, prefix + "handler", "no handler named '" + handlerName + "'");
      return null;
    }
    Adapter adapter = services.adapters().get(handler.adapter());
    Handler h = handler.handler();
    List<CompiledInstance> checks = new ArrayList<>();
    List<CompiledInstance> reports = new ArrayList<>();
    List<CompiledInstance.Quota> quotas = new ArrayList<>();
    boolean ok = true;
    for (String instanceName : instanceNames) {
      CompiledInstance instance = instances.get(instanceName);
      if (instance == null) {
        errors.add(item, prefix + "instances", "no instance named '" + instanceName + "'");
        ok = false;
      } else if (!adapter.templates().contains(instance.template())) {
        errors.add(item, prefix + "instances",
            "handler '" + handlerName + "' (adapter " + adapter.name() + ") does not take template '"
                + instance.template().configName() + "' of instance '" + instanceName + "'");
        ok = false;
      } else {
        switch (instance.template().variety()) {
          case CHECK -> checks.add(instance);
          case REPORT -> reports.add(instance);
          case QUOTA -> quotas.add((CompiledInstance.Quota) instance);
        }
      }
    }
    if (instanceNames.isEmpty()) {
      if (!adapter.templates().contains(Template.CHECKNOTHING)) {
        errors.add(item, prefix + "instances", "handler '" + handlerName + "' (adapter " + adapter.name()
            + ") needs instances of " + templateNames(adapter.templates()));
        ok = false;
      } else {
        checks.add(new CompiledInstance.CheckNothing(handlerName));
      }
    }
    ok &= implemented(item, prefix, handlerName, h, checks, CheckHandler.class, "checks", errors);
    ok &= implemented(item, prefix, handlerName, h, reports, ReportHandler.class, "reports", errors);
    ok &= implemented(item, prefix, handlerName, h, quotas, QuotaHandler.class, "quota allocations", errors);
    if (!ok) {
      return null;
    }
    return new CompiledRule.Action(handlerName, handler.guard(),
        checks.isEmpty() ? null : (CheckHandler) h, checks,
        reports.isEmpty() ? null : (ReportHandler) h, reports,
        quotas.isEmpty() ? null : (QuotaHandler) h, quotas);
  }

  private static boolean implemented(Item item, String prefix, String handlerName, Handler h,
      List<?> instances, Class<?> variety, String what, Errors errors) {
    if (!instances.isEmpty() && !variety.isInstance(h)) {
      errors.add(item, prefix + "handler", "handler '" + handlerName + "' does not take " + what);
      return false;
    }
    return true;
  }

  private static List<String> templateNames(Set<Template> templates) {
    List<String> out = new ArrayList<>();
    templates.forEach(t -> out.add(t.configName()));
    return out;
  }

  private List<CompiledRule.HeaderDirective> headers(
      Item item, Params p, String key, ExpressionReader exprs, Errors errors) {
    Object raw = p.asMap().get(key);
    p.has(key);
    if (raw == null) {
      return List.of();
    }
    if (!(raw instanceof Map)) {
      errors.add(item, key, "must be a mapping of header name to expression");
      return List.of();
    }
    List<CompiledRule.HeaderDirective> out = new ArrayList<>();
    for (Map.Entry<String, Object> e : asMap(raw).entrySet()) {
      String header = headerName(item, key + "." + e.getKey(), e.getKey(), errors);
      Object v = e.getValue();
      String text;
      boolean append = false;
      if (v instanceof Map) {
        Params hp = new Params(asMap(v));
        text = hp.string("value", null);
        append = hp.bool("append", false);
        errors.check(item, key + "." + e.getKey() + ".", hp);
        if (text == null) {
          errors.add(item, key + "." + e.getKey() + ".value", "required");
          continue;
        }
      } else if (v == null || v instanceof List) {
        errors.add(item, key + "." + e.getKey(), "must be an expression or {value, append}");
        continue;
      } else {
        text = String.valueOf(v);
      }
      Expression value = exprs.compile(key + "." + e.getKey(), text, CelEnvironment.Expect.TEXT);
      if (header != null && value != null) {
        out.add(new CompiledRule.HeaderDirective(header, value, append));
      }
    }
    return out;
  }

  private List<String> headerNames(Item item, Params p, String key, Errors errors) {
    List<String> out = new ArrayList<>();
    for (String name : p.stringList(key)) {
      String h = headerName(item, key, name, errors);
      if (h != null) {
        out.add(h);
      }
    }
    return out;
  }

  private static String headerName(Item item, String field, String name, Errors errors) {
    if (!HEADER.matcher(name).matches()) {
      errors.add(item, field, "'" + name + "' is not a valid header name");
      return null;
    }
    return name.toLowerCase(Locale.ROOT);
  }

  private static Sampler sampler(Item item, Params rule, Errors errors) {
    Object raw = rule.asMap().get("sampling");
    rule.has("sampling");
    if (raw == null) {
      return null;
    }
    if (!(raw instanceof Map)) {
      errors.add(item, "sampling", "must be a mapping {percent: 0..100, maxPerSecond: N}");
      return null;
    }
    Params p = new Params(asMap(raw));
    double percent = 100;
    Object rawPercent = p.asMap().get("percent");
    p.has("percent");
    if (rawPercent != null) {
      if (rawPercent instanceof Number n && n.doubleValue() >= 0 && n.doubleValue() <= 100) {
        percent = n.doubleValue();
      } else {
        p.error("percent", "must be a number from 0 to 100, was '" + rawPercent + "'");
      }
    }
    long perSecond = p.integer("maxPerSecond", 0, 0, Long.MAX_VALUE);
    errors.check(item, "sampling.", p);
    return new Sampler(percent / 100.0, perSecond);
  }

  private static CheckResult denial(Item item, Params rule, Errors errors) {
    Object raw = rule.asMap().get("denial");
    rule.has("denial");
    Params p = new Params(raw instanceof Map ? asMap(raw) : Map.of());
    if (raw != null && !(raw instanceof Map)) {
      errors.add(item, "denial", "must be a mapping (code, httpStatus, message, body, headers)");
    }
    Code code = p.enumValue("code", Code.class, Code.PERMISSION_DENIED);
    if (code == Code.OK) {
      p.error("code", "a denial cannot have code OK");
      code = Code.PERMISSION_DENIED;
    }
    int status = (int) p.integer("httpStatus", 0, 0, 599);
    String message = p.string("message", "denied by rule '" + rule.asMap().get("name") + "'");
    String body = p.string("body", "");
    List<HeaderValue> headers = new ArrayList<>();
    p.stringMap("headers").forEach((k, v) -> {
      String h = headerName(item, "denial.headers." + k, k, errors);
      if (h != null) {
        headers.add(new HeaderValue(h, v, false));
      }
    });
    errors.check(item, "denial.", p);
    return CheckResult.deny(code, message, status == 0 ? 0 : Math.max(status, 100))
        .withBody(body)
        .withResponseHeaders(headers);
  }

  /** Reads and compiles expressions, recording errors against one object. */
  private static final class ExpressionReader {
    private final Item item;
    private final CelEnvironment cel;
    private final Errors errors;

    ExpressionReader(Item item, CelEnvironment cel, Errors errors) {
      this.item = item;
      this.cel = cel;
      this.errors = errors;
    }

    Expression compile(String field, String text, CelEnvironment.Expect expect) {
      try {
        return cel.compile(text, expect);
      } catch (CelEnvironment.CompileException e) {
        for (CelEnvironment.Problem problem : e.problems()) {
          errors.add(item, field, "'" + text + "': " + problem);
        }
        return null;
      }
    }

    Expression optional(Params p, String prefix, String key, CelEnvironment.Expect expect) {
      String text = p.string(key, null);
      return text == null ? null : compile(prefix + key, text, expect);
    }

    Expression required(Params p, String prefix, String key, CelEnvironment.Expect expect) {
      String text = p.string(key, null);
      if (text == null) {
        p.error(key, "required");
        return null;
      }
      return compile(prefix + key, text, expect);
    }

    Map<String, Expression> map(Params p, String prefix, String key, CelEnvironment.Expect expect) {
      Map<String, Expression> out = new LinkedHashMap<>();
      p.stringMap(key).forEach((k, text) -> {
        Expression e = compile(prefix + key + "." + k, text, expect);
        if (e != null) {
          out.put(k, e);
        }
      });
      return out;
    }
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> asMap(Object o) {
    if (o == null) {
      return Map.of();
    }
    Map<String, Object> out = new LinkedHashMap<>();
    ((Map<Object, Object>) o).forEach((k, v) -> out.put(String.valueOf(k), v));
    return out;
  }

  private static Path baseDir(ConfigDocument doc) {
    Path parent = doc.file().toAbsolutePath().getParent();
    return parent == null ? Path.of(".").toAbsolutePath() : parent;
  }

}
