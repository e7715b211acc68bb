package io.sluice.node.console;

import com.typesafe.config.Config;
import java.time.Duration;

/** The console's settings ({@code sluice.console}): whether {@code /ui/} is served, and how long browsers may cache its scripts and styles. */
public record ConsoleSettings(boolean enabled, Duration maxAge) {

  public static ConsoleSettings from(Config config) {
    Config c = config.getConfig("sluice.console");
    return new ConsoleSettings(c.getBoolean("enabled"), c.getDuration("max-age"));
  }
}
