package io.sluice.node.routing;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import java.time.Duration;

/**
 * The numbers of routing and retries, read once from {@code sluice.routing}: how many attempts a
 * request may make, its overall deadline, the backoff between attempts and the latency
 * estimator's constants. It exists so that the decision classes hold no literals.
 *
 * @param maxAttempts upstream attempts per request, the first included (at least 1)
 * @param deadline time budget of a request across all its attempts and waits
 * @param backoff the wait between attempts when the upstream does not say how long to wait
 * @param latencyDecay how fast {@link PeakEwma} forgets a latency (its EWMA time constant)
 * @param defaultRtt the latency assumed for a deployment that has not answered yet
 */
public record RoutingSettings(
    int maxAttempts, Duration deadline, BackoffSettings backoff, Duration latencyDecay, Duration defaultRtt) {

  /**
   * Exponential backoff: {@code initial * multiplier^(retry-1)}, capped at {@code max}, spread
   * by {@code ±jitter} (a fraction) so that clients failing together do not retry together.
   */
  public record BackoffSettings(Duration initial, Duration max, double multiplier, double jitter) {
    public BackoffSettings {
      Settings.require(!initial.isNegative() && !initial.isZero(), "backoff.initial", "must be positive");
      Settings.require(max.compareTo(initial) >= 0, "backoff.max", "must be at least backoff.initial");
      Settings.require(multiplier >= 1, "backoff.multiplier", "must be at least 1");
      Settings.require(jitter >= 0 && jitter <= 1, "backoff.jitter", "must be between 0 and 1");
    }
  }

  public RoutingSettings {
    Settings.require(maxAttempts >= 1, "max-attempts", "must be at least 1");
    Settings.require(Settings.positive(deadline), "deadline", "must be positive");
    Settings.require(Settings.positive(latencyDecay), "latency.decay", "must be positive");
    Settings.require(Settings.positive(defaultRtt), "latency.default-rtt", "must be positive");
  }

  /** Reads {@code sluice.routing}. */
  public static RoutingSettings from(Config config) {
    Config r = config.getConfig("sluice.routing");
    return new RoutingSettings(
        r.getInt("max-attempts"),
        r.getDuration("deadline"),
        new BackoffSettings(
            r.getDuration("backoff.initial"),
            r.getDuration("backoff.max"),
            r.getDouble("backoff.multiplier"),
            r.getDouble("backoff.jitter")),
        r.getDuration("latency.decay"),
        r.getDuration("latency.default-rtt"));
  }

  /** Shared checks of the settings records: a bad value fails at start, naming its key. */
  static final class Settings {
    private Settings() {}

    static boolean positive(Duration d) {
      return !d.isNegative() && !d.isZero();
    }

    static void require(boolean ok, String key, String message) {
      if (!ok) {
        throw new ConfigException.BadValue(key, message);
      }
    }
  }
}
