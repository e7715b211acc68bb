package io.sluice.node.tenant;

import com.typesafe.config.Config;
import java.time.Duration;

/**
 * Quota and circuit settings ({@code sluice.quota}, {@code sluice.circuit}).
 *
 * @param rollAhead how long before a window ends a node with a lease in use asks for the next
 *     window's lease, so that no request waits for the entity at the boundary; 0 turns it off
 */
public record QuotaSettings(
    Duration leaseTtl,
    double share,
    long prefetchMultiplier,
    double renewBelow,
    Duration settleInterval,
    long settleMaxRequests,
    int settleTenantsPerInterval,
    int settleParallelism,
    Duration idleReturn,
    Duration denyCache,
    long defaultCompletionEstimate,
    Duration clockSkewTolerance,
    int maxAcquireRounds,
    int circuitThreshold,
    Duration circuitOpenFor,
    boolean failClosedWhenStoreDown,
    double outageAllowance,
    int tokenCacheEntries,
    int usageHistoryMinutes,
    Duration rollAhead) {

  public QuotaSettings {
    // A grant is at most share x what is left: above 1 a grant could exceed the limit.
    if (!(share > 0 && share <= 1)) {
      throw new IllegalArgumentException("sluice.quota.share must be in (0, 1], was " + share);
    }
    if (!(outageAllowance >= 0 && outageAllowance <= 1)) {
      throw new IllegalArgumentException("sluice.quota.outage-allowance must be in [0, 1]");
    }
    if (settleTenantsPerInterval < 1 || settleParallelism < 1) {
      throw new IllegalArgumentException(
          "sluice.quota.settle-tenants-per-interval and settle-parallelism must be at least 1");
    }
    if (usageHistoryMinutes < 0) {
      throw new IllegalArgumentException("sluice.quota.usage-history-minutes must be at least 0");
    }
    if (tokenCacheEntries < 0) {
      throw new IllegalArgumentException("sluice.quota.token-cache-entries must be at least 0");
    }
    // The entity decides with a node's clock only up to the skew tolerance ahead of its own.
    if (rollAhead.isNegative() || rollAhead.compareTo(clockSkewTolerance) >= 0) {
      throw new IllegalArgumentException("sluice.quota.roll-ahead must be in [0, clock-skew-tolerance)");
    }
    if (renewBelow < 0 || renewBelow >= 1 || prefetchMultiplier < 1 || maxAcquireRounds < 1) {
      throw new IllegalArgumentException("sluice.quota: renew-below must be in [0, 1), prefetch-multiplier and "
          + "max-acquire-rounds at least 1");
    }
  }

  public static QuotaSettings from(Config config) {
    Config q = config.getConfig("sluice.quota");
    Config c = config.getConfig("sluice.circuit");
    return new QuotaSettings(
        q.getDuration("lease-ttl"),
        q.getDouble("share"),
        q.getLong("prefetch-multiplier"),
        q.getDouble("renew-below"),
        q.getDuration("settle-interval"),
        q.getLong("settle-max-requests"),
        q.getInt("settle-tenants-per-interval"),
        q.getInt("settle-parallelism"),
        q.getDuration("idle-return"),
        q.getDuration("deny-cache"),
        q.getLong("default-completion-estimate"),
        q.getDuration("clock-skew-tolerance"),
        q.getInt("max-acquire-rounds"),
        c.getInt("threshold"),
        c.getDuration("open-for"),
        switch (q.getString("on-store-unavailable")) {
          case "fail-closed" -> true;
          case "allowance" -> false;
          default -> throw new IllegalArgumentException(
              "sluice.quota.on-store-unavailable must be fail-closed or allowance");
        },
        q.getDouble("outage-allowance"),
        q.getInt("token-cache-entries"),
        q.getInt("usage-history-minutes"),
        q.getDuration("roll-ahead"));
  }
}
