package io.arbiter.envoyconfigs;

import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FileDescriptor;
import com.google.protobuf.util.JsonFormat;
import io.envoyproxy.envoy.config.bootstrap.v3.Bootstrap;
import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Collections;
import java.util.Deque;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;

/**
 * Envoy's API schema as compiled into the {@code io.envoyproxy.controlplane:api} jar: every message
 * type of every {@code .proto} file the jar holds, by full name, and a {@link JsonFormat.TypeRegistry}
 * that resolves every {@code "@type"} Envoy itself would know.
 *
 * <p>How it is built: the jar is opened (found through the code source of {@link Bootstrap}) and
 * its protoc "outer" classes, one per {@code .proto} file whatever their {@code
 * java_outer_classname}, are found: top-level classes whose bytecode calls {@code
 * FileDescriptor.internalBuildGeneratedFileFrom} (a cheap byte search: loading all ~3,400
 * top-level classes to ask takes several times longer) and which, loaded, declare a static
 * {@code getDescriptor()} returning a {@link FileDescriptor}. Their file descriptors,
 * plus every file they import (transitively), give all message types, nested ones included. No
 * hand-kept list of extension packages, so a new filter in the jar is known without a change here;
 * {@link #protoFilesWithoutDescriptor()} reports any {@code .proto} in the jar not covered.
 */
final class EnvoySchema {

  private static volatile EnvoySchema instance;

  private final Map<String, Descriptor> messages;
  private final Map<String, FileDescriptor> files;
  private final Set<String> protoSources;
  private final JsonFormat.TypeRegistry registry;

  private EnvoySchema(Map<String, FileDescriptor> files, Set<String> protoSources) {
    this.files = Collections.unmodifiableMap(files);
    this.protoSources = Collections.unmodifiableSet(protoSources);
    Map<String, Descriptor> all = new LinkedHashMap<>();
    for (FileDescriptor f : files.values()) {
      Deque<Descriptor> todo = new ArrayDeque<>(f.getMessageTypes());
      while (!todo.isEmpty()) {
        Descriptor d = todo.pop();
        all.putIfAbsent(d.getFullName(), d);
        todo.addAll(d.getNestedTypes());
      }
    }
    this.messages = Collections.unmodifiableMap(all);
    JsonFormat.TypeRegistry.Builder b = JsonFormat.TypeRegistry.newBuilder();
    // add(Descriptor) registers the descriptor's whole file and, recursively, its imports.
    for (FileDescriptor f : files.values()) {
      if (!f.getMessageTypes().isEmpty()) {
        b.add(f.getMessageTypes().get(0));
      }
    }
    this.registry = b.build();
  }

  static EnvoySchema get() {
    EnvoySchema s = instance;
    if (s == null) {
      synchronized (EnvoySchema.class) {
        s = instance;
        if (s == null) {
          s = instance = load();
        }
      }
    }
    return s;
  }

  private static EnvoySchema load() {
    Path jar;
    try {
      jar = Path.of(Bootstrap.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
    ClassLoader loader = Bootstrap.class.getClassLoader();
    Map<String, FileDescriptor> files = new LinkedHashMap<>();
    Set<String> protoSources = new TreeSet<>();
    try (JarFile jf = new JarFile(jar.toFile())) {
      for (Enumeration<JarEntry> en = jf.entries(); en.hasMoreElements(); ) {
        String name = en.nextElement().getName();
        if (name.endsWith(".proto")) {
          protoSources.add(name);
          continue;
        }
        if (!name.endsWith(".class") || name.contains("$") || name.startsWith("META-INF/")
            || name.endsWith("module-info.class") || name.endsWith("package-info.class")) {
          continue;
        }
        byte[] bytes;
        try (InputStream in = jf.getInputStream(jf.getJarEntry(name))) {
          bytes = in.readAllBytes();
        }
        if (!contains(bytes, OUTER_CLASS_MARKER)) {
          continue;
        }
        String className = name.substring(0, name.length() - ".class".length()).replace('/', '.');
        FileDescriptor fd = fileDescriptorOf(className, loader);
        if (fd != null) {
          collect(fd, files);
        }
      }
    } catch (IOException e) {
      throw new IllegalStateException("cannot read the Envoy api jar " + jar, e);
    }
    if (files.isEmpty()) {
      throw new IllegalStateException("no proto file descriptors found in " + jar);
    }
    return new EnvoySchema(files, protoSources);
  }

  /** Every protoc-generated outer class builds its FileDescriptor with this call. */
  private static final byte[] OUTER_CLASS_MARKER =
      "internalBuildGeneratedFileFrom".getBytes(StandardCharsets.US_ASCII);

  private static boolean contains(byte[] haystack, byte[] needle) {
    outer:
    for (int i = 0; i <= haystack.length - needle.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (haystack[i + j] != needle[j]) {
          continue outer;
        }
      }
      return true;
    }
    return false;
  }

  private static FileDescriptor fileDescriptorOf(String className, ClassLoader loader) {
    Class<?> c;
    try {
      c = Class.forName(className, false, loader);
    } catch (ClassNotFoundException | LinkageError e) {
      return null; // a class whose dependencies are absent is no protoc outer class we need
    }
    Method m;
    try {
      m = c.getDeclaredMethod("getDescriptor");
    } catch (NoSuchMethodException | LinkageError e) {
      return null;
    }
    if (!Modifier.isStatic(m.getModifiers()) || m.getReturnType() != FileDescriptor.class) {
      return null;
    }
    try {
      return (FileDescriptor) m.invoke(null);
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException("cannot get the file descriptor of " + className, e);
    }
  }

  private static void collect(FileDescriptor fd, Map<String, FileDescriptor> files) {
    Deque<FileDescriptor> todo = new ArrayDeque<>();
    todo.push(fd);
    while (!todo.isEmpty()) {
      FileDescriptor f = todo.pop();
      if (files.putIfAbsent(f.getName(), f) == null) {
        todo.addAll(f.getDependencies());
      }
    }
  }

  JsonFormat.TypeRegistry registry() {
    return registry;
  }

  /**
   * The message type a {@code "@type"} URL ({@code type.googleapis.com/FULL.NAME}) names, looked
   * up in the registry the JSON parser uses, or null.
   */
  Descriptor resolveTypeUrl(String typeUrl) {
    int slash = typeUrl.lastIndexOf('/');
    if (slash < 0) {
      return null; // JsonFormat needs the prefix too
    }
    return registry.find(typeUrl.substring(slash + 1));
  }

  /** The message type of that full name ({@code envoy.config.bootstrap.v3.Bootstrap}), or null. */
  Descriptor message(String fullName) {
    return messages.get(fullName);
  }

  int messageCount() {
    return messages.size();
  }

  int fileCount() {
    return files.size();
  }

  /** {@code .proto} sources shipped in the jar for which no compiled descriptor was found. */
  Set<String> protoFilesWithoutDescriptor() {
    Set<String> missing = new TreeSet<>(protoSources);
    missing.removeAll(files.keySet());
    return missing;
  }

  int protoSourceCount() {
    return protoSources.size();
  }
}
