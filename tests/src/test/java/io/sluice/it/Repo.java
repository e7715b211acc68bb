package io.sluice.it;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;

/** Where the repository and its built artifacts are, and scratch space for one test run. */
final class Repo {
  private Repo() {}

  static Path root() {
    String prop = System.getProperty("sluice.repo");
    Path p = prop != null ? Path.of(prop) : Path.of("").toAbsolutePath();
    while (p != null && !Files.exists(p.resolve("ops").resolve("mock-llm"))) {
      p = p.getParent();
    }
    if (p == null) {
      throw new IllegalStateException("repository root not found from " + prop);
    }
    return p;
  }

  /** The node jar under test; {@code -Dsluice.node.jar=FILE} runs the tests against another build. */
  static Path nodeJar() {
    String jar = System.getProperty("sluice.node.jar");
    return jar != null && !jar.isBlank() ? Path.of(jar) : root().resolve("node/target/sluice.jar");
  }

  /** A new directory under tests/target for one test's files. */
  static Path scratch(String name) {
    try {
      Path dir = root().resolve("tests/target/it-work");
      Files.createDirectories(dir);
      return Files.createTempDirectory(dir, name + "-");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A port that was free a moment ago on 127.0.0.1. */
  static int freePort() {
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      s.setReuseAddress(true);
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
