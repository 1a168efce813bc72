package io.arbiter.it;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * What a test class that runs the Node clients ({@link NodeClients}) needs around its tests,
 * registered as {@code @RegisterExtension static final NodeClientsSetup node = new
 * NodeClientsSetup();}:
 *
 * <ul>
 *   <li>before all tests, whether the clients can run here (and whatever else the class needs,
 *       {@link #alsoNeeding}); if they can, Envoy's {@code .proto} sources extracted into a
 *       temporary directory ({@link #protoDir()});
 *   <li>before each test, a skip with the reason when something is missing, except on CI
 *       (environment {@code CI=true}), where it fails instead: there a skip would hide a missing
 *       install step in {@code .ci/run};
 *   <li>after all tests of the class that registered it, the directory deleted.
 * </ul>
 *
 * <p>{@code @Nested} classes inherit it; their callbacks find it prepared and leave the clean-up
 * to the outer class.
 */
final class NodeClientsSetup implements BeforeAllCallback, BeforeEachCallback, AfterAllCallback {
  private final Supplier<String> otherNeeds;
  private Class<?> owner;
  private String missing;
  private Path protoDir;

  /** Needs only the Node clients. */
  NodeClientsSetup() {
    this(() -> null);
  }

  private NodeClientsSetup(Supplier<String> otherNeeds) {
    this.otherNeeds = otherNeeds;
  }

  /**
   * Needs {@code otherNeeds} too: it answers null when what it checks is there, else what is
   * missing (e.g. {@code RedisProcess::unavailableReason}); it is asked first.
   */
  static NodeClientsSetup alsoNeeding(Supplier<String> otherNeeds) {
    return new NodeClientsSetup(otherNeeds);
  }

  @Override
  public void beforeAll(ExtensionContext context) throws Exception {
    if (owner != null) {
      return; // a @Nested class of the owner
    }
    owner = context.getRequiredTestClass();
    missing = otherNeeds.get();
    if (missing == null) {
      missing = NodeClients.unavailableReason();
    }
    if (missing != null) {
      System.err.println(owner.getSimpleName() + " skipped: " + missing);
      return;
    }
    protoDir = NodeClients.extractEnvoyProtos(Files.createTempDirectory("node-protos"));
  }

  @Override
  public void beforeEach(ExtensionContext context) {
    if (missing != null && "true".equals(System.getenv("CI"))) {
      throw new AssertionError("CI=true but the tests cannot run: " + missing);
    }
    Assumptions.assumeTrue(missing == null, () -> "cannot run: " + missing);
  }

  @Override
  public void afterAll(ExtensionContext context) throws Exception {
    if (context.getRequiredTestClass() != owner || protoDir == null) {
      return;
    }
    try (Stream<Path> files = Files.walk(protoDir)) {
      for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }

  /** True when the clients (and the other needs) are there; known from the first beforeAll on. */
  boolean available() {
    return owner != null && missing == null;
  }

  /** Where Envoy's {@code .proto} sources were extracted, for the clients' {@code --proto-path}. */
  Path protoDir() {
    if (protoDir == null) {
      throw new IllegalStateException("no proto directory: " + missing);
    }
    return protoDir;
  }
}
