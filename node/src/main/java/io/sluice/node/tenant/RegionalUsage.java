package io.sluice.node.tenant;

import io.sluice.persistence.NodeShare;
import io.sluice.persistence.ReplicatedTenantState;
import io.sluice.persistence.RightsPool;
import io.sluice.persistence.TenantState;
import io.sluice.persistence.UsageCounters;
import io.sluice.persistence.WindowKind;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * A tenant's usage across regions as one region's replica knows it: each region's part of the
 * current windows and its escrow rights there, and their sum. It exists so that the usage view
 * is computed in one pure place from the replica's state ({@link ReplicatedTenantState#quotaOf}
 * for the parts, {@link Escrow#rights} for the rights) and the admin API only renders it.
 *
 * <p>This region's part is exact; another region's is what its settlements that have arrived
 * say (behind by the replication lag), and its rights are this replica's view of them: its base
 * share plus the transfers seen here. The rights of all regions sum to the limit once every
 * transfer has arrived.
 */
public final class RegionalUsage {
  /**
   * One region's part: its settled usage per current window, its live concurrency slots, and its
   * rights per limited pool in the current window (a pool without a limit is absent).
   */
  public record Part(String region, Map<WindowKind, UsageCounters> used, long slots, Map<RightsPool, Long> rights) {
    public Part {
      used = Map.copyOf(used);
      rights = Map.copyOf(rights);
    }
  }

  /** Every region's part, in configured order, and the sums of their usage. */
  public record View(String self, List<Part> parts, Map<WindowKind, UsageCounters> total, long slots) {
    public View {
      parts = List.copyOf(parts);
      total = Map.copyOf(total);
    }
  }

  private RegionalUsage() {}

  /** The view of {@code rs}, the replica of {@code settings.self()}, at {@code now}. */
  public static View of(ReplicatedTenantState rs, RegionSettings settings, Instant now) {
    Escrow escrow = new Escrow(settings);
    TenantState own = rs.tenant();
    List<Part> parts = new ArrayList<>(settings.regions().size());
    Map<WindowKind, UsageCounters> total = new EnumMap<>(WindowKind.class);
    long slots = 0;
    for (String region : settings.regions()) {
      TenantState quota = rs.quotaOf(region, settings.self());
      Map<WindowKind, UsageCounters> used = new EnumMap<>(WindowKind.class);
      for (WindowKind k : WindowKind.values()) {
        UsageCounters u = used(quota, k, Windows.id(k, now));
        used.put(k, u);
        total.merge(k, u, UsageCounters::plus);
      }
      Map<RightsPool, Long> rights = new EnumMap<>(RightsPool.class);
      for (RightsPool pool : RightsPool.values()) {
        if (Escrow.limit(own.limits(), pool) >= 0) {
          long window = pool.window() == null ? RightsPool.NO_WINDOW : Windows.id(pool.window(), now);
          rights.put(pool, Math.max(0, escrow.rights(own, pool, window, region)));
        }
      }
      long live = QuotaLedger.liveSlots(quota, now);
      slots += live;
      parts.add(new Part(region, used, live, rights));
    }
    return new View(settings.self(), parts, total, slots);
  }

  /** What a region's nodes settled in window {@code id} of {@code kind}: nothing when its state is in another window. */
  private static UsageCounters used(TenantState quota, WindowKind kind, long id) {
    UsageCounters sum = UsageCounters.ZERO;
    if (quota.window(kind) == id) {
      for (NodeShare n : quota.nodes().values()) {
        sum = sum.plus(n.used(kind));
      }
    }
    return sum;
  }
}
