package io.sluice.node.provider;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import java.time.Duration;

/**
 * The numbers of the upstream client's own transport ({@link NettyUpstream}), read once from
 * {@code sluice.upstream.client}; per-deployment timeouts and pool sizes live with each deployment.
 *
 * @param eventLoopThreads threads that run every upstream connection
 * @param maxResponseBytes a whole response larger than this fails the attempt instead of filling the heap
 * @param idleTimeout a pooled connection unused this long is closed
 * @param bodySubscriptionTimeout a streamed response body nobody starts reading within this time
 *     (the client left before its answer was sent) is given up and its connection closed
 */
public record UpstreamClientSettings(int eventLoopThreads, int maxResponseBytes, Duration idleTimeout,
    Duration bodySubscriptionTimeout) {

  public UpstreamClientSettings {
    require(eventLoopThreads >= 1, "event-loop-threads", "must be at least 1");
    require(maxResponseBytes >= 1024, "max-response-size", "must be at least 1 KiB");
    require(!idleTimeout.isNegative() && !idleTimeout.isZero(), "idle-timeout", "must be positive");
    require(!bodySubscriptionTimeout.isNegative() && !bodySubscriptionTimeout.isZero(), "body-subscription-timeout",
        "must be positive");
  }

  private static void require(boolean ok, String key, String message) {
    if (!ok) {
      throw new ConfigException.BadValue("sluice.upstream.client." + key, message);
    }
  }

  /** Reads {@code sluice.upstream.client}. */
  public static UpstreamClientSettings from(Config config) {
    Config c = config.getConfig("sluice.upstream.client");
    long max = c.getBytes("max-response-size");
    return new UpstreamClientSettings(c.getInt("event-loop-threads"),
        (int) Math.min(Integer.MAX_VALUE, max), c.getDuration("idle-timeout"), c.getDuration("body-subscription-timeout"));
  }
}
