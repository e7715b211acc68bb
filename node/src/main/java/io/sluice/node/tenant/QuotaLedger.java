package io.sluice.node.tenant;

import io.sluice.persistence.NodeShare;
import io.sluice.persistence.Quantity;
import io.sluice.persistence.TenantEvent.WindowRolled;
import io.sluice.persistence.TenantLimits;
import io.sluice.persistence.TenantState;
import io.sluice.persistence.WindowKind;
import java.math.BigDecimal;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * The entity's quota decisions, pure: which windows roll, how much to grant a node, what is used.
 *
 * <p>Each node counts against a limit with {@code max(used, granted)} ({@link NodeShare#committed}),
 * so the entity's invariant is {@code sum over nodes of max(used, granted) <= limit}: settled usage
 * plus outstanding leases never exceed the limit. A grant is at most {@code share} of what is left,
 * split among live nodes, so grants shrink geometrically near the limit and end in single units.
 */
public final class QuotaLedger {
  private static final long NANOS_PER_USD = 1_000_000_000L;
  private final QuotaSettings settings;

  public QuotaLedger(QuotaSettings settings) {
    this.settings = settings;
  }

  /** A grant decision: amounts per quantity and slots, and what is exhausted until when. */
  public record Grant(Map<Quantity, Long> amounts, long slots, Map<Quantity, Instant> exhausted,
      boolean slotsExhausted) {
    public boolean denied() {
      return !exhausted.isEmpty() || slotsExhausted;
    }
  }

  /**
   * What a decision caps usage at: the tenant's limits with one region, or a region's escrow
   * rights under them with several ({@link Escrow#caps}). -1 means unlimited.
   */
  public interface Caps {
    long limit(Quantity q);

    long slots();

    /** The tenant's own limits. */
    static Caps of(TenantLimits limits) {
      return new Caps() {
        @Override
        public long limit(Quantity q) {
          return QuotaLedger.limit(limits, q);
        }

        @Override
        public long slots() {
          return slotLimit(limits);
        }
      };
    }
  }

  /** The limit of {@code q}, or -1 when unlimited. Spend limits are in nano-USD. */
  public static long limit(TenantLimits limits, Quantity q) {
    return switch (q) {
      case REQUESTS_PER_MINUTE -> orUnlimited(limits.requestsPerMinute());
      case TOKENS_PER_MINUTE -> orUnlimited(limits.tokensPerMinute());
      case TOKENS_PER_DAY -> orUnlimited(limits.tokensPerDay());
      case SPEND_PER_DAY -> nanos(limits.spendUsdPerDay());
      case SPEND_PER_MONTH -> nanos(limits.spendUsdPerMonth());
    };
  }

  /** The concurrency limit, or -1 when unlimited. */
  public static long slotLimit(TenantLimits limits) {
    return orUnlimited(limits.maxConcurrentRequests());
  }

  private static long orUnlimited(Long v) {
    return v == null ? -1 : v;
  }

  private static long nanos(BigDecimal usd) {
    if (usd == null) {
      return -1;
    }
    BigDecimal n = usd.multiply(BigDecimal.valueOf(NANOS_PER_USD));
    return n.compareTo(BigDecimal.valueOf(Long.MAX_VALUE)) >= 0 ? Long.MAX_VALUE : n.longValue();
  }

  /**
   * The time the entity decides with: its own clock, or the node's when that is ahead by no more
   * than the skew tolerance, so a node whose clock crossed a window boundary first gets a lease
   * for the window it is in.
   */
  public Instant eventTime(Instant now, Instant nodeNow) {
    if (nodeNow != null && nodeNow.isAfter(now) && !nodeNow.isAfter(now.plus(settings.clockSkewTolerance()))) {
      return nodeNow;
    }
    return now;
  }

  /** The windows that must roll before deciding at {@code t}. */
  public List<WindowRolled> rolls(TenantState s, Instant t) {
    List<WindowRolled> out = new ArrayList<>(3);
    for (WindowKind kind : WindowKind.values()) {
      long id = Windows.id(kind, t);
      if (id > s.window(kind)) {
        out.add(new WindowRolled(kind, id, t));
      }
    }
    return out;
  }

  /** What all nodes together count against the limit of {@code q}. */
  public static long committed(TenantState s, Quantity q) {
    long sum = 0;
    for (NodeShare share : s.nodes().values()) {
      sum = saturatedAdd(sum, share.committed(q));
    }
    return sum;
  }

  /** What nodes other than {@code node} count against {@code q}. */
  public static long committedByOthers(TenantState s, String node, Quantity q) {
    NodeShare own = s.nodes().get(node);
    return committed(s, q) - (own == null ? 0 : own.committed(q));
  }

  /** Concurrency slots held by live nodes; an expired node's slots are free again. */
  public static long liveSlots(TenantState s, Instant now) {
    long sum = 0;
    for (NodeShare share : s.nodes().values()) {
      if (share.live(now)) {
        sum += share.slots();
      }
    }
    return sum;
  }

  private static int liveNodes(TenantState s, String node, Instant now) {
    int n = 0;
    for (Map.Entry<String, NodeShare> e : s.nodes().entrySet()) {
      if (e.getValue().live(now) && !e.getKey().equals(node)) {
        n++;
      }
    }
    return n + 1;
  }

  /**
   * Decides a node's request for quota. {@code needed} is what a waiting request must have now;
   * {@code wanted} what the node would like to hold. Either every needed quantity is granted, or
   * nothing is and the exhausted ones are named with their reset time.
   */
  public Grant decide(TenantState s, String node, Map<Quantity, Long> needed, Map<Quantity, Long> wanted,
      long slotsNeeded, long slotsWanted, Instant now) {
    return decide(s, Caps.of(s.limits()), node, needed, wanted, slotsNeeded, slotsWanted, now);
  }

  /** {@link #decide} against {@code caps} instead of the tenant's limits. */
  public Grant decide(TenantState s, Caps caps, String node, Map<Quantity, Long> needed, Map<Quantity, Long> wanted,
      long slotsNeeded, long slotsWanted, Instant now) {
    int nodes = liveNodes(s, node, now);
    Map<Quantity, Long> amounts = new EnumMap<>(Quantity.class);
    Map<Quantity, Instant> exhausted = new EnumMap<>(Quantity.class);
    for (Quantity q : Quantity.values()) {
      long limit = caps.limit(q);
      long need = Math.max(0, needed.getOrDefault(q, 0L));
      long want = Math.max(need, wanted.getOrDefault(q, 0L));
      if (limit < 0 || want == 0) {
        continue;
      }
      long available = Math.max(0, limit - committed(s, q));
      if (available < need) {
        exhausted.put(q, Windows.resetAt(q.window(), s.window(q.window())));
        continue;
      }
      long grant = Math.min(want, Math.max(need, (long) Math.floor(available * settings.share() / nodes)));
      if (grant > 0) {
        amounts.put(q, grant);
      }
    }
    long slots = 0;
    boolean slotsExhausted = false;
    long slotLimit = caps.slots();
    if (slotLimit >= 0 && Math.max(slotsNeeded, slotsWanted) > 0) {
      long available = Math.max(0, slotLimit - liveSlots(s, now));
      if (available < slotsNeeded) {
        slotsExhausted = true;
      } else {
        long want = Math.max(slotsNeeded, slotsWanted);
        slots = Math.min(want, Math.max(slotsNeeded, (long) Math.floor(available * settings.share() / nodes)));
      }
    }
    if (!exhausted.isEmpty() || slotsExhausted) {
      // All or nothing for what is needed: a partial grant could not admit the request anyway.
      Map<Quantity, Long> prefetchOnly = new EnumMap<>(Quantity.class);
      amounts.forEach((q, a) -> {
        if (needed.getOrDefault(q, 0L) == 0) prefetchOnly.put(q, a);
      });
      return new Grant(prefetchOnly, slotsNeeded == 0 ? slots : 0, exhausted, slotsExhausted);
    }
    return new Grant(amounts, slots, exhausted, false);
  }

  private static long saturatedAdd(long a, long b) {
    long r = a + b;
    return ((a ^ r) & (b ^ r)) < 0 ? Long.MAX_VALUE : r;
  }
}
