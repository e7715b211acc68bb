package io.sluice.node;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * Loads the node's configuration: an optional HOCON file layered over {@code application.conf}
 * (which composes the cluster-config files), environment overrides through {@code ${?ENV}}, and
 * the libraries' reference.conf. The data directory is made absolute so the embedded database
 * does not depend on the working directory's spelling.
 */
public final class ConfigLoader {
  private ConfigLoader() {}

  public static Config load(Path configFile) {
    Config app = ConfigFactory.parseResourcesAnySyntax("application");
    Config layered = app;
    if (configFile != null) {
      if (!Files.isRegularFile(configFile)) {
        throw new IllegalArgumentException("config file not found: " + configFile);
      }
      layered = ConfigFactory.parseFile(configFile.toFile(), ConfigParseOptions.defaults().setAllowMissing(false))
          .withFallback(app);
    }
    Config once = ConfigFactory.load(layered);
    String dataDir = Path.of(once.getString("sluice.node.data-dir")).toAbsolutePath().normalize().toString();
    return ConfigFactory.load(ConfigFactory.parseMap(Map.of("sluice.node.data-dir", dataDir)).withFallback(layered));
  }
}
