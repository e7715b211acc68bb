package io.sluice.node.auth;

import com.typesafe.config.Config;
import java.time.Duration;

/**
 * The tenant key lifecycle's numbers ({@code sluice.keys}): how long a rotated key keeps working
 * by default and at most, and how many keys with limits of their own a node counts at once.
 *
 * @param defaultOverlap the overlap of a rotation whose body names none
 * @param maxOverlap the longest overlap a rotation may ask for
 * @param maxLimitedKeys most keys with limits whose minute a node tracks at once (at least 1)
 */
public record KeySettings(Duration defaultOverlap, Duration maxOverlap, long maxLimitedKeys) {

  public KeySettings {
    if (defaultOverlap.isNegative() || maxOverlap.compareTo(defaultOverlap) < 0 || maxLimitedKeys < 1) {
      throw new IllegalArgumentException("sluice.keys: 0 <= default-rotation-overlap <= max-rotation-overlap and"
          + " max-limited-keys >= 1 are required");
    }
  }

  public static KeySettings from(Config config) {
    Config c = config.getConfig("sluice.keys");
    return new KeySettings(c.getDuration("default-rotation-overlap"), c.getDuration("max-rotation-overlap"),
        c.getLong("max-limited-keys"));
  }
}
