package io.sluice.node.auth;

import com.typesafe.config.Config;
import java.time.Duration;

/**
 * How failed authentication is throttled per client address ({@code sluice.http.auth-failures}):
 * a token bucket per address that holds {@code burst} failures and refills at {@code refillPerMinute}.
 * At most {@code maxAddresses} buckets are kept (least recently used go first), which bounds the
 * memory an attacker with many addresses can make the node spend.
 *
 * @param enabled whether failures are throttled at all
 * @param burst failures an address may make in a row before it is throttled (at least 1)
 * @param refillPerMinute failures per minute an address may make in the long run (positive)
 * @param maxAddresses most addresses tracked at once (at least 1)
 */
public record AuthThrottleSettings(boolean enabled, int burst, double refillPerMinute, long maxAddresses) {

  public AuthThrottleSettings {
    if (burst < 1 || !(refillPerMinute > 0) || maxAddresses < 1) {
      throw new IllegalArgumentException("sluice.http.auth-failures: burst >= 1, refill-per-minute > 0"
          + " and max-addresses >= 1 are required");
    }
  }

  /** How long an idle bucket takes to refill completely: after that it is no different from none. */
  public Duration fullRefill() {
    return Duration.ofNanos((long) Math.ceil(burst * 60e9 / refillPerMinute));
  }

  public static AuthThrottleSettings from(Config config) {
    Config c = config.getConfig("sluice.http.auth-failures");
    return new AuthThrottleSettings(c.getBoolean("enabled"), c.getInt("burst"), c.getDouble("refill-per-minute"),
        c.getLong("max-addresses"));
  }
}
