package io.arbiter.engine.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.arbiter.engine.PolicyEngine;
import io.arbiter.engine.testing.FakeAdapter;
import io.arbiter.engine.testing.TestEngines;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigCompilerTest {
  private final FakeAdapter fake = new FakeAdapter();
  private final PolicyEngine engine = new PolicyEngine(TestEngines.services(fake));

  private List<String> errors(String yaml) {
    try {
      TestEngines.compile(engine, yaml);
    } catch (ConfigException e) {
      return e.errors().stream().map(ConfigError::toString).toList();
    }
    throw new AssertionError("expected config errors");
  }

  @Test
  void reportsEveryErrorWithFileObjectFieldAndReason() {
    List<String> errors =
        errors(
            """
            handlers:
              - name: h
                adapter: nosuch
              - name: f
                adapter: fake
                params: {behavior: explode, colour: red}
            instances:
              - name: ip
                template: listentry
                params: {value: "source.ipp"}
              - name: x
                template: nosuchtemplate
            rules:
              - name: typo
                match: "reqest.path == '/'"
              - name: not-bool
                match: "request.path"
              - name: type-error
                match: "request.size == 'big'"
              - name: bad-action
                actions: [{handler: missing}, {handler: f, instances: [nope]}]
              - name: bad-header
                requestHeadersToAdd: {"bad header": "'x'"}
                colour: blue
            """);
    assertThat(errors)
        .contains(
            "test.yaml: handler \"h\": adapter: unknown adapter 'nosuch' (known: [fake])",
            "test.yaml: handler \"f\": params.behavior: 'explode' is not allow, deny, fail, hang, throw or null",
            "test.yaml: instance \"x\": template: unknown template 'nosuchtemplate' (known: [checknothing, listentry, authorization, metric, logentry, quota])",
            "test.yaml: rule \"bad-action\": actions[0].handler: no handler named 'missing'")
        .anySatisfy(e -> assertThat(e).startsWith("test.yaml: handler \"f\": params.colour: unknown setting"))
        .anySatisfy(e -> assertThat(e).startsWith("test.yaml: instance \"ip\": params.value: 'source.ipp': column 1: unknown attribute 'source.ipp' (did you mean source.ip?)"))
        .anySatisfy(e -> assertThat(e).startsWith("test.yaml: rule \"typo\": match: 'reqest.path == '/'': column 1: unknown attribute 'reqest.path' (did you mean request.path?)"))
        .anySatisfy(e -> assertThat(e).startsWith("test.yaml: rule \"not-bool\": match:").contains("expected a bool"))
        .anySatisfy(e -> assertThat(e).startsWith("test.yaml: rule \"type-error\": match:").contains("column 14", "no matching overload"))
        .anySatisfy(e -> assertThat(e).startsWith("test.yaml: rule \"bad-header\": requestHeadersToAdd.bad header: 'bad header' is not a valid header name"))
        .anySatisfy(e -> assertThat(e).startsWith("test.yaml: rule \"bad-header\": colour: unknown setting"));
    // the handler built before the errors were found is closed again
    assertThat(fake.created.get()).isEqualTo(fake.closed.get());
  }

  @Test
  void rejectsDuplicateNamesUnknownTopLevelKeysAndBadSettings() {
    assertThat(
            errors(
                """
                handlers: [{name: a, adapter: fake}, {name: a, adapter: fake}]
                rules: [{name: r}, {name: r}, {match: "true"}]
                settings: {failurePolicy: SOMETIMES, handlerTimeout: soon}
                polices: []
                """))
        .contains(
            "test.yaml: handler \"a\": name: another handler is named 'a'",
            "test.yaml: rule \"r\": name: another rule is named 'r'",
            "test.yaml: rules[2]: name: required",
            "test.yaml: settings: failurePolicy: 'SOMETIMES' is not FAIL_OPEN or FAIL_CLOSED",
            "test.yaml: unknown top-level key 'polices' (known: handlers, instances, rules, settings)")
        .anySatisfy(e -> assertThat(e).contains("handlerTimeout: 'soon' is not a duration"));
  }

  @Test
  void rejectsTemplatesTheHandlerDoesNotTake() throws Exception {
    // the engine's own denier-like fake takes all check templates; an adapter taking only listentry does not take checknothing
    var listOnly = new io.arbiter.engine.spi.Adapter() {
      public String name() { return "listonly"; }
      public java.util.Set<io.arbiter.engine.spi.Template> templates() { return java.util.Set.of(io.arbiter.engine.spi.Template.LISTENTRY); }
      public io.arbiter.engine.spi.Handler create(io.arbiter.engine.spi.Params p, io.arbiter.engine.spi.AdapterContext c) {
        p.validate();
        return (io.arbiter.engine.spi.CheckHandler) i -> java.util.concurrent.CompletableFuture.completedFuture(io.arbiter.engine.spi.CheckResult.ok());
      }
    };
    PolicyEngine e = new PolicyEngine(TestEngines.services(listOnly));
    assertThatThrownBy(() -> TestEngines.compile(e, """
        handlers: [{name: l, adapter: listonly}]
        instances: [{name: n, template: checknothing}]
        rules: [{name: r, actions: [{handler: l}, {handler: l, instances: [n]}]}]
        """))
        .isInstanceOfSatisfying(ConfigException.class, ex -> assertThat(ex.errors()).extracting(ConfigError::toString)
            .containsExactly(
                "test.yaml: rule \"r\": actions[0].instances: handler 'l' (adapter listonly) needs instances of [listentry]",
                "test.yaml: rule \"r\": actions[1].instances: handler 'l' (adapter listonly) does not take template 'checknothing' of instance 'n'"));
  }

  @Test
  void readsSettingsAndVersionsByContent() throws Exception {
    ConfigSnapshot a = TestEngines.compile(engine, "settings: {failurePolicy: FAIL_OPEN, handlerTimeout: 250ms, maxHeaders: 10}");
    assertThat(a.settings().failOpen()).isTrue();
    assertThat(a.settings().handlerTimeout()).isEqualTo(Duration.ofMillis(250));
    assertThat(a.settings().maxHeaders()).isEqualTo(10);
    ConfigSnapshot b = TestEngines.compile(engine, "settings: {failurePolicy: FAIL_OPEN, handlerTimeout: 250ms, maxHeaders: 10}");
    ConfigSnapshot c = TestEngines.compile(engine, "settings: {failurePolicy: FAIL_CLOSED}");
    assertThat(a.version()).isEqualTo(b.version()).isNotEqualTo(c.version()).hasSize(12);
    assertThat(c.settings().failOpen()).isFalse();
  }

  @Test
  void loadsADirectoryOfFilesAndNamesTheFileInErrors(@TempDir Path dir) throws Exception {
    Files.writeString(dir.resolve("10-handlers.yaml"), "handlers: [{name: f, adapter: fake}]\n");
    Files.writeString(dir.resolve("20-rules.yml"), "rules: [{name: r, actions: [{handler: f}]}]\n");
    Files.writeString(dir.resolve("notes.txt"), "not yaml: [\n");
    List<ConfigDocument> docs = ConfigLoader.load(dir);
    assertThat(docs).hasSize(2);
    ConfigSnapshot s = engine.compile(docs);
    assertThat(s.summary()).endsWith("2 file(s), 1 handler(s), 0 instance(s), 1 rule(s)");

    Files.writeString(dir.resolve("30-bad.yaml"), "rules: [{name: q, match: \"nope\"}]\n");
    assertThatThrownBy(() -> engine.compile(ConfigLoader.load(dir)))
        .isInstanceOfSatisfying(ConfigException.class, e -> assertThat(e.errors().get(0).file()).endsWith("30-bad.yaml"));
  }

  @Test
  void reportsYamlSyntaxUnreadableFilesAndNonMappings(@TempDir Path dir) throws Exception {
    Path bad = dir.resolve("bad.yaml");
    Files.writeString(bad, "rules:\n  - name: a\n    match: [unclosed\n");
    assertThatThrownBy(() -> ConfigLoader.load(bad))
        .isInstanceOfSatisfying(ConfigException.class, e -> assertThat(e.errors()).singleElement()
            .asString().contains("bad.yaml", "invalid YAML", "line"));
    assertThatThrownBy(() -> ConfigLoader.load(dir.resolve("missing.yaml")))
        .hasMessageContaining("missing.yaml: cannot read: no such file");
    Path list = dir.resolve("list.yaml");
    Files.writeString(list, "- a\n- b\n");
    assertThatThrownBy(() -> ConfigLoader.load(list)).hasMessageContaining("top level must be a mapping");
    Path dup = dir.resolve("dup.yaml");
    Files.writeString(dup, "rules: []\nrules: []\n");
    assertThatThrownBy(() -> ConfigLoader.load(dup)).hasMessageContaining("duplicate key");
    Path tagged = dir.resolve("tagged.yaml");
    Files.writeString(tagged, "rules: !!java.util.ArrayList []\n");
    assertThatThrownBy(() -> ConfigLoader.load(tagged)).isInstanceOf(ConfigException.class);
  }
}
