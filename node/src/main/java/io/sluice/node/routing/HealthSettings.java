package io.sluice.node.routing;

import static io.sluice.node.routing.RoutingSettings.Settings.positive;
import static io.sluice.node.routing.RoutingSettings.Settings.require;

import com.typesafe.config.Config;
import java.time.Duration;

/**
 * The numbers of node-local deployment health ({@link OutlierDetector}), read once from {@code
 * sluice.health}. It exists so that the detector holds no literals.
 *
 * @param consecutiveFailures this many server errors, timeouts or connect failures in a row eject
 * @param failureRate a failure rate (0..1] over the window that ejects, once it has enough requests
 * @param window the sliding window of the failure rate
 * @param windowBuckets how many counters the window is split into (its resolution)
 * @param minRequests the failure rate is not judged on fewer requests than this in the window
 * @param baseEjection the first ejection's cooldown; each further one doubles it
 * @param maxEjection the longest cooldown
 * @param stablePeriod after this long healthy, the next ejection starts again at the base cooldown
 * @param probeTimeout a half-open probe that reported nothing for this long is presumed lost and
 *     another one is admitted; keep it above the upstream first-byte timeout
 */
public record HealthSettings(
    int consecutiveFailures,
    double failureRate,
    Duration window,
    int windowBuckets,
    int minRequests,
    Duration baseEjection,
    Duration maxEjection,
    Duration stablePeriod,
    Duration probeTimeout) {

  public HealthSettings {
    require(consecutiveFailures >= 1, "consecutive-failures", "must be at least 1");
    require(failureRate > 0 && failureRate <= 1, "failure-rate", "must be in (0, 1]");
    require(windowBuckets >= 1, "window-buckets", "must be at least 1");
    require(window.toMillis() >= windowBuckets, "window", "must be at least 1 ms per bucket");
    require(minRequests >= 1, "min-requests", "must be at least 1");
    require(positive(baseEjection), "base-ejection", "must be positive");
    require(maxEjection.compareTo(baseEjection) >= 0, "max-ejection", "must be at least base-ejection");
    require(!stablePeriod.isNegative(), "stable-period", "must not be negative");
    require(positive(probeTimeout), "probe-timeout", "must be positive");
  }

  /** Reads {@code sluice.health}. */
  public static HealthSettings from(Config config) {
    Config h = config.getConfig("sluice.health");
    return new HealthSettings(
        h.getInt("consecutive-failures"),
        h.getDouble("failure-rate"),
        h.getDuration("window"),
        h.getInt("window-buckets"),
        h.getInt("min-requests"),
        h.getDuration("base-ejection"),
        h.getDuration("max-ejection"),
        h.getDuration("stable-period"),
        h.getDuration("probe-timeout"));
  }
}
