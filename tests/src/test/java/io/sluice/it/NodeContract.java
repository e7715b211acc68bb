package io.sluice.it;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigResolveOptions;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * What a deployment may rely on, read from the sources that define it rather than restated: the
 * environment variables the node reads (every {@code ${?NAME}} in the HOCON it ships, and the
 * names in ConfigLoader), the ones the launcher reads, the ports and shutdown timings of the
 * defaults, and the health paths the node serves. The image and manifest tests check against this,
 * so a renamed variable or a moved port fails them.
 */
final class NodeContract {
  /** Where the image's launcher finds the mounted HOCON file (SLUICE_CONFIG in the image). */
  static final String IMAGE_CONFIG_FILE = "/etc/sluice/sluice.conf";
  /** The image's data directory (SLUICE_DATA_DIR in the image, and its volume). */
  static final String IMAGE_DATA_DIR = "/var/lib/sluice";

  private static final Pattern HOCON_ENV = Pattern.compile("\\$\\{\\?([A-Z][A-Z0-9_]*)}");
  private static final Pattern JAVA_ENV_NAME = Pattern.compile("\"((?:SLUICE|OPENAI|OTEL)_[A-Z0-9_]+)\"");
  private static final Pattern SHELL_VAR = Pattern.compile("\\$\\{?([A-Z][A-Z0-9_]*)");
  private static final Pattern HEALTH_PATH = Pattern.compile("segment\\(\"(\\w+)\"\\)\\.slash\\(\"(\\w+)\"\\)");

  private NodeContract() {}

  /** Environment variables that the node itself reads. */
  static Set<String> nodeVariables() {
    Set<String> names = new TreeSet<>();
    for (Path dir : resourceDirs()) {
      for (Path conf : files(dir, ".conf")) {
        collect(HOCON_ENV, read(conf), names);
      }
    }
    collect(JAVA_ENV_NAME, read(javaSource("ConfigLoader.java")), names);
    return names;
  }

  /** Environment variables that ops/sluice, the launcher and the image's entrypoint, reads. */
  static Set<String> launcherVariables() {
    Set<String> names = new TreeSet<>();
    collect(SHELL_VAR, read(Repo.root().resolve("ops/sluice")), names);
    return names;
  }

  /** What a container may set: the node's variables and the launcher's. */
  static Set<String> allVariables() {
    Set<String> all = new TreeSet<>(nodeVariables());
    all.addAll(launcherVariables());
    return all;
  }

  /** The node's HTTP port by default ({@code sluice.http.port}). */
  static int httpPort() {
    return defaults().getInt("sluice.http.port");
  }

  /**
   * The remoting port of the cluster config ({@code sluice/cluster.conf}; the single-node profile
   * replaces it with any free port, the multi-node profile with SLUICE_CLUSTER_PORT).
   */
  static int remotingPort() {
    return parse(clusterConfig().resolve("sluice/cluster.conf")).getInt("pekko.remote.artery.canonical.port");
  }

  /** The paths that HealthRoutes (or wherever the node defines them) serves under /health. */
  static Set<String> healthPaths() {
    Set<String> paths = new TreeSet<>();
    for (Path source : files(Repo.root().resolve("node/src/main/java"), ".java")) {
      Matcher m = HEALTH_PATH.matcher(read(source));
      while (m.find()) {
        if (m.group(1).equals("health")) {
          paths.add("/" + m.group(1) + "/" + m.group(2));
        }
      }
    }
    return paths;
  }

  /** The node's defaults, resolved without the environment of the test run. */
  static Config defaults() {
    return ConfigFactory.parseFile(clusterConfig().resolve("application.conf").toFile(),
            ConfigParseOptions.defaults().setAllowMissing(false))
        .resolve(ConfigResolveOptions.noSystem().setAllowUnresolved(true));
  }

  /**
   * The longest a clean shutdown takes before the node leaves the cluster: the unready delay, the
   * drain timeout and the settle phase's timeout (service-stop).
   */
  static Duration drainAndSettle() {
    Config c = defaults();
    return c.getDuration("sluice.node.shutdown.unready-delay")
        .plus(c.getDuration("sluice.node.shutdown.drain-timeout"))
        .plus(c.getDuration("pekko.coordinated-shutdown.phases.service-stop.timeout"));
  }

  static Config parse(Path hocon) {
    return ConfigFactory.parseFile(hocon.toFile(), ConfigParseOptions.defaults().setAllowMissing(false))
        .resolve(ConfigResolveOptions.noSystem().setAllowUnresolved(true));
  }

  private static Path clusterConfig() {
    return Repo.root().resolve("cluster-config/src/main/resources");
  }

  private static Path[] resourceDirs() {
    return new Path[] {clusterConfig(), Repo.root().resolve("persistence/src/main/resources"),
        Repo.root().resolve("node/src/main/resources")};
  }

  private static Path javaSource(String name) {
    return files(Repo.root().resolve("node/src/main/java"), ".java").stream()
        .filter(p -> p.getFileName().toString().equals(name)).findFirst()
        .orElseThrow(() -> new IllegalStateException(name + " not found under node/src/main/java"));
  }

  private static void collect(Pattern pattern, String text, Set<String> into) {
    Matcher m = pattern.matcher(text);
    while (m.find()) {
      into.add(m.group(1));
    }
  }

  private static java.util.List<Path> files(Path dir, String suffix) {
    if (!Files.isDirectory(dir)) {
      return java.util.List.of();
    }
    try (Stream<Path> walk = Files.walk(dir)) {
      return walk.filter(p -> p.toString().endsWith(suffix)).sorted().toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String read(Path p) {
    try {
      return Files.readString(p);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
