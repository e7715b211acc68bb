package io.sluice.node;

import com.typesafe.config.Config;
import java.util.Map;

/** Lets tests in other packages load the node's configuration as a node does, without the environment's list overrides. */
public final class ConfigLoaderAccess {
  private ConfigLoaderAccess() {}

  public static Config loadWithoutEnvironment() {
    return ConfigLoader.load(null, Map.of());
  }
}
