package io.sluice.node;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Loads the node's configuration: an optional HOCON file layered over {@code application.conf}
 * (which composes the cluster-config files), environment overrides through {@code ${?ENV}}, and
 * the libraries' reference.conf. The data directory is made absolute so the embedded database
 * does not depend on the working directory's spelling.
 *
 * <p>Layers, lowest first: the libraries' reference.conf, {@code application.conf}, the profile
 * named by {@code SLUICE_PROFILE} (a classpath resource such as {@code multi-node/cluster.conf}),
 * the {@code --config} file, then the list-valued environment variables.
 *
 * <p>HOCON's {@code ${?ENV}} only yields strings, so the environment variables whose value is a
 * list ({@link #LIST_ENV}, comma-separated) are applied here, over the config file.
 */
public final class ConfigLoader {
  /** Environment variable to the list setting that its comma-separated value replaces. */
  static final Map<String, String> LIST_ENV = Map.of(
      "SLUICE_CASSANDRA_CONTACT_POINTS", "datastax-java-driver.basic.contact-points",
      "SLUICE_SEED_NODES", "pekko.cluster.seed-nodes");
  /** Names a classpath profile (e.g. {@code multi-node/cluster.conf}) layered under the config file. */
  static final String PROFILE_ENV = "SLUICE_PROFILE";

  private ConfigLoader() {}

  public static Config load(Path configFile) {
    return load(configFile, System.getenv());
  }

  static Config load(Path configFile, Map<String, String> env) {
    Config app = ConfigFactory.parseResourcesAnySyntax("application");
    String profile = env.get(PROFILE_ENV);
    if (profile != null && !profile.isBlank()) {
      Config p = ConfigFactory.parseResources(profile.strip(), ConfigParseOptions.defaults().setAllowMissing(false));
      app = p.withFallback(app);
    }
    Config layered = app;
    if (configFile != null) {
      if (!Files.isRegularFile(configFile)) {
        throw new IllegalArgumentException("config file not found: " + configFile);
      }
      layered = ConfigFactory.parseFile(configFile.toFile(), ConfigParseOptions.defaults().setAllowMissing(false))
          .withFallback(app);
    }
    layered = listOverrides(env).withFallback(layered);
    Config once = ConfigFactory.load(layered);
    String dataDir = Path.of(once.getString("sluice.node.data-dir")).toAbsolutePath().normalize().toString();
    return ConfigFactory.load(ConfigFactory.parseMap(Map.of("sluice.node.data-dir", dataDir)).withFallback(layered));
  }

  private static Config listOverrides(Map<String, String> env) {
    Map<String, Object> overrides = new LinkedHashMap<>();
    LIST_ENV.forEach((variable, path) -> {
      String value = env.get(variable);
      if (value != null && !value.isBlank()) {
        List<String> items = Arrays.stream(value.split(",")).map(String::strip).filter(v -> !v.isEmpty()).toList();
        overrides.put(path, items);
      }
    });
    return ConfigFactory.parseMap(overrides, "environment");
  }
}
