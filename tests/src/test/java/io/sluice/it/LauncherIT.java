package io.sluice.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@code ops/sluice}, the README's first command: it execs the JDK it is given with the tuned
 * flags, appends {@code JAVA_OPTS}, passes {@code --config} and the SLUICE_* environment through,
 * and the node it starts answers {@code /health/ready}. The JVM's own command line is read from
 * {@code /proc/PID/cmdline}: after the exec the script's pid is the JVM's.
 */
class LauncherIT {

  /** The JDK running the tests (17 in CI) and, when the machine has one, a JDK 25. */
  static Stream<Path> jdks() {
    List<Path> jdks = new ArrayList<>();
    jdks.add(Path.of(System.getProperty("java.home")));
    try (Stream<Path> jvms = Files.list(Path.of("/usr/lib/jvm"))) {
      jvms.filter(p -> p.getFileName().toString().startsWith("temurin-25"))
          .filter(p -> Files.isExecutable(p.resolve("bin/java")))
          .sorted().limit(1).forEach(jdks::add);
    } catch (IOException e) {
      // no /usr/lib/jvm: only the JDK running the tests
    }
    return jdks.stream();
  }

  @ParameterizedTest
  @MethodSource("jdks")
  void launcher_javaHomeJavaOptsAndConfig_startsReadyNodeWithTunedFlags(Path javaHome) throws Exception {
    Path dir = Repo.scratch("launcher");
    int port = Repo.freePort();
    Path config = dir.resolve("node.conf");
    // The port comes only from the config file, so a node answering on it proves --config arrived.
    Files.writeString(config, "sluice.http.port = " + port + "\n");
    Map<String, String> env = new HashMap<>();
    env.put("JAVA_HOME", javaHome.toString());
    env.put("JAVA_OPTS", "-Dsluice.it.launcher=on -Xmx256m");
    env.put("SLUICE_HTTP_HOST", "127.0.0.1");
    env.put("SLUICE_ADMIN_KEY", SluiceNode.ADMIN_KEY);
    env.put("SLUICE_DATA_DIR", dir.resolve("data").toString());
    env.remove("MALLOC_ARENA_MAX");
    Path script = Repo.root().resolve("ops/sluice");
    try (ManagedProcess node = new ManagedProcess(
        List.of("bash", script.toString(), "--config", config.toString()), env, dir.resolve("node.log"))) {
      String url = "http://127.0.0.1:" + port;
      await("node ready on " + port).atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(200))
          .until(() -> {
            if (!node.alive()) {
              throw new IllegalStateException("node exited: " + MockUpstream.read(node.log));
            }
            return Api.status("GET", url + "/health/ready") == 200;
          });

      List<String> argv = procList(node.pid(), "cmdline");
      assertEquals(javaHome.resolve("bin/java").toString(), argv.get(0), "the script exec'd the JVM: " + argv);
      for (String flag : List.of("-XX:+UseSerialGC", "-Xmn48m", "-XX:MaxMetaspaceSize=128m",
          "-XX:ReservedCodeCacheSize=96m", "-Xss512k", "-XX:+ExitOnOutOfMemoryError",
          "-XX:TrimNativeHeapInterval=5000")) {
        assertTrue(argv.contains(flag), flag + " in " + argv);
      }
      // Compact object headers on JDK 25+ only (JDK 17 does not know the flag).
      boolean jdk25 = Files.readString(javaHome.resolve("release")).contains("JAVA_VERSION=\"25");
      assertEquals(jdk25, argv.contains("-XX:+UseCompactObjectHeaders"), "compact headers on JDK 25: " + argv);
      // JAVA_OPTS comes after the defaults (a later flag wins) and its heap size replaces theirs.
      int serial = argv.indexOf("-XX:+UseSerialGC");
      assertTrue(argv.indexOf("-Dsluice.it.launcher=on") > serial, "JAVA_OPTS appended: " + argv);
      assertTrue(argv.indexOf("-Xmx256m") > serial, "JAVA_OPTS appended: " + argv);
      assertFalse(argv.contains("-Xmx192m") || argv.contains("-Xms192m"), "default heap left out: " + argv);
      assertEquals(List.of("--config", config.toString()), argv.subList(argv.size() - 2, argv.size()));
      // The build's class-data-sharing archive is made by the JDK that runs the build (and these
      // tests); the launcher gives it to that JDK only, and the JVM maps it.
      Path archive = Repo.nodeJar().resolveSibling("sluice-jdk" + System.getProperty("java.version") + ".jsa");
      boolean buildJdk = javaHome.equals(Path.of(System.getProperty("java.home")));
      if (buildJdk) {
        assertTrue(Files.isRegularFile(archive), "the build made " + archive);
      }
      assertEquals(buildJdk, argv.contains("-XX:SharedArchiveFile=" + archive), "the archive for this JDK: " + argv);
      assertEquals(buildJdk, Files.readString(Path.of("/proc", Long.toString(node.pid()), "maps"))
          .contains(archive.toString()), "the JVM mapped the archive");
      assertTrue(procList(node.pid(), "environ").contains("MALLOC_ARENA_MAX=2"));

      // SLUICE_ADMIN_KEY reached the node: the admin API takes it.
      assertEquals(200, Api.admin(path -> url + path, "GET", "/admin/v1/cluster", null).statusCode());

      assertFalse(MockUpstream.read(node.log).contains("started without heap or GC flags"), "tuned: no warning");

      // SIGTERM to the pid reaches the JVM itself, which runs coordinated shutdown in its shutdown
      // hook and exits with 128 + 15.
      node.terminate();
      assertTrue(node.awaitExit(Duration.ofSeconds(40)), "node exited on SIGTERM");
      assertEquals(143, node.exitCode(), MockUpstream.read(node.log));
    }
  }

  @org.junit.jupiter.api.Test
  void plainJavaJar_noFlags_runsAndLogsWhatItLoses() throws Exception {
    Path dir = Repo.scratch("plain-jar");
    int port = Repo.freePort();
    Map<String, String> env = Map.of("SLUICE_HTTP_PORT", String.valueOf(port), "SLUICE_HTTP_HOST", "127.0.0.1",
        "SLUICE_DATA_DIR", dir.resolve("data").toString());
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    try (ManagedProcess node = new ManagedProcess(List.of(java, "-jar", Repo.nodeJar().toString()), env,
        dir.resolve("node.log"))) {
      await("node ready on " + port).atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(200))
          .until(() -> {
            if (!node.alive()) {
              throw new IllegalStateException("node exited: " + MockUpstream.read(node.log));
            }
            return Api.status("GET", "http://127.0.0.1:" + port + "/health/ready") == 200;
          });
      String log = MockUpstream.read(node.log);
      assertTrue(log.contains("started without heap or GC flags") && log.contains("ops/sluice"), log);
    }
  }

  private static List<String> procList(long pid, String file) {
    try {
      String raw = new String(Files.readAllBytes(Path.of("/proc", Long.toString(pid), file)), StandardCharsets.UTF_8);
      return Arrays.asList(raw.split("\0"));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
