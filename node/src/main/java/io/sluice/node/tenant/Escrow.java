package io.sluice.node.tenant;

import io.sluice.persistence.Quantity;
import io.sluice.persistence.RegionRights;
import io.sluice.persistence.RightsPool;
import io.sluice.persistence.TenantEvent.RightsTransferred;
import io.sluice.persistence.TenantEvent.RightsWanted;
import io.sluice.persistence.TenantLimits;
import io.sluice.persistence.TenantState;
import io.sluice.persistence.WindowKind;
import java.math.BigInteger;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A region's escrow decisions, pure: its share of each limit, its rights after transfers, when to
 * ask other regions for rights and what to give them (Barbará and Garcia-Molina's demarcation
 * protocol; the bounded counter of Balegas et al.).
 *
 * <p>Invariants, for each pool and window:
 * <ul>
 *   <li>the base shares of all regions sum to exactly the limit {@code L};</li>
 *   <li>a transfer only moves rights, so the true rights of all regions sum to {@code L};</li>
 *   <li>a region's view of its own rights is at most its true rights: its outgoing transfers are
 *       its own events, applied at once, and incoming ones count only once seen;</li>
 *   <li>a donor gives only from its free rights ({@code rights - committed}), at most {@link
 *       RegionSettings#donateShare} of them, so after giving it still covers what it committed.</li>
 * </ul>
 * The regional ledger grants against these rights ({@link #caps}) exactly as against a limit, so
 * what all regions commit in a window is at most {@code L}, during a partition too.
 */
public final class Escrow {
  private final RegionSettings settings;
  private final String self;
  private final long[] weights;
  private final long weightSum;

  public Escrow(RegionSettings settings) {
    if (settings.regions().isEmpty()) {
      throw new IllegalArgumentException("the escrow needs at least one region");
    }
    this.settings = settings;
    this.self = settings.self();
    this.weights = new long[settings.regions().size()];
    long sum = 0;
    for (int i = 0; i < weights.length; i++) {
      weights[i] = settings.weights().get(settings.regions().get(i));
      sum += weights[i];
    }
    this.weightSum = sum;
  }

  /**
   * Region {@code index}'s base share of {@code limit}: {@code floor(L * w_i / W)}, plus one for
   * each of the first {@code L - sum of those} regions. With equal weights that is {@code
   * floor(L/R) + [i < L mod R]}. The shares sum to exactly {@code limit}.
   */
  public static long baseShare(long limit, long[] weights, long weightSum, int index) {
    if (limit <= 0) {
      return 0;
    }
    long floorSum = 0;
    long own = 0;
    for (int i = 0; i < weights.length; i++) {
      long f = BigInteger.valueOf(limit).multiply(BigInteger.valueOf(weights[i]))
          .divide(BigInteger.valueOf(weightSum)).longValueExact();
      floorSum += f;
      if (i == index) {
        own = f;
      }
    }
    long remainder = limit - floorSum; // < number of regions
    return own + (index < remainder ? 1 : 0);
  }

  /** {@code region}'s base share of {@code limit}. */
  public long baseShare(long limit, String region) {
    return baseShare(limit, weights, weightSum, settings.index(region));
  }

  /** The limit of {@code pool}, or -1 when unlimited. */
  public static long limit(TenantLimits limits, RightsPool pool) {
    return pool.quantity() == null ? QuotaLedger.slotLimit(limits) : QuotaLedger.limit(limits, pool.quantity());
  }

  /** The window the tenant is in for {@code pool} ({@link RightsPool#NO_WINDOW} for slots). */
  public static long currentWindow(TenantState s, RightsPool pool) {
    return pool.window() == null ? RightsPool.NO_WINDOW : s.window(pool.window());
  }

  /**
   * {@code region}'s rights in a limited pool and window as this replica knows them: its base
   * share plus the transfers to it seen here, minus the ones from it seen here. For this region
   * that is at most its true rights. It may be negative after the limit was lowered below what
   * was given away, so callers check {@link #limit} for "unlimited", never the sign.
   */
  public long rights(TenantState s, RightsPool pool, long windowId, String region) {
    RegionRights r = s.rights();
    return baseShare(limit(s.limits(), pool), region) + r.incoming(pool, windowId, region)
        - r.outgoing(pool, windowId, region);
  }

  /** This region's rights in a limited pool and window. */
  public long rights(TenantState s, RightsPool pool, long windowId) {
    return rights(s, pool, windowId, self);
  }

  /**
   * What this region counts against {@code pool} in {@code windowId}: what its nodes committed
   * when that is the current window, nothing in a window that has not begun here.
   */
  public static long committed(TenantState s, RightsPool pool, long windowId, Instant now) {
    if (pool.quantity() == null) {
      return QuotaLedger.liveSlots(s, now);
    }
    return windowId == s.window(pool.window()) ? QuotaLedger.committed(s, pool.quantity()) : 0;
  }

  /** This region's free rights in a limited pool and window, 0 when it is short. */
  public long free(TenantState s, RightsPool pool, long windowId, Instant now) {
    return Math.max(0, rights(s, pool, windowId) - committed(s, pool, windowId, now));
  }

  /** The caps this region's ledger grants against: its rights in the current windows, never below 0. */
  public QuotaLedger.Caps caps(TenantState s) {
    return new QuotaLedger.Caps() {
      @Override
      public long limit(Quantity q) {
        return cap(s, RightsPool.of(q));
      }

      @Override
      public long slots() {
        return cap(s, RightsPool.CONCURRENCY);
      }
    };
  }

  /** -1 for an unlimited pool, else this region's rights in the current window, never below 0. */
  private long cap(TenantState s, RightsPool pool) {
    if (limit(s.limits(), pool) < 0) {
      return -1;
    }
    return Math.max(0, rights(s, pool, currentWindow(s, pool)));
  }

  /**
   * The requests for rights this region should persist now: one per limited pool whose free
   * rights after {@code needed} fall below {@code wantBelow} of its base share, unless it asked
   * for that pool and window less than {@code wantInterval} ago. It asks for what brings it back
   * to its base share free after the need, at least one unit. Call after rolling the windows.
   */
  public List<RightsWanted> wants(TenantState s, Map<RightsPool, Long> needed, Instant now) {
    List<RightsWanted> out = new ArrayList<>(1);
    if (!settings.multiRegion()) {
      return out;
    }
    for (Map.Entry<RightsPool, Long> e : needed.entrySet()) {
      RightsPool pool = e.getKey();
      long need = Math.max(0, e.getValue());
      long limit = limit(s.limits(), pool);
      long windowId = currentWindow(s, pool);
      if (limit < 0 || windowId < 0) {
        continue;
      }
      long base = baseShare(limit, self);
      long free = free(s, pool, windowId, now);
      long lowWater = (long) Math.ceil(base * settings.wantBelow());
      if (free - need >= lowWater && free >= need) {
        continue;
      }
      RegionRights.Want last = s.rights().want(pool, windowId, self);
      if (last != null && now.isBefore(last.at().plus(settings.wantInterval()))) {
        continue;
      }
      long amount = Math.max(1, need + base - free);
      out.add(new RightsWanted(pool, windowId, self, last == null ? 1 : last.seq() + 1, amount, now));
    }
    return out;
  }

  /**
   * This region's answers to the other regions' unanswered wants. For a want in window {@code w}
   * it gives, in {@code w} and in every later window that starts within the pool's horizon,
   * {@code min(wanted, floor(free * donateShare))}. It answers a want once: the answer in {@code
   * w} carries the want's seq, with amount 0 when only later windows got something; when nothing
   * can be given at all it stays unanswered and is tried again at the next call. Call after
   * rolling the windows; the events are this region's own, so apply them before deciding again.
   */
  public List<RightsTransferred> answers(TenantState s, Instant now) {
    List<RightsTransferred> out = new ArrayList<>(2);
    if (!settings.multiRegion()) {
      return out;
    }
    for (RegionRights.Want want : s.rights().wants()) {
      if (want.region().equals(self) || !settings.regions().contains(want.region())) {
        continue;
      }
      RightsPool pool = want.pool();
      if (limit(s.limits(), pool) < 0) {
        continue;
      }
      if (pool.window() != null && want.windowId() < s.window(pool.window())) {
        continue; // its window has ended here
      }
      RegionRights.Transfer asked = s.rights().transfer(pool, want.windowId(), self, want.region());
      long answered = asked == null ? 0 : asked.answeredSeq();
      if (want.seq() <= answered) {
        continue;
      }
      List<RightsTransferred> gifts = new ArrayList<>(2);
      long last = lastWindow(pool, want.windowId(), now);
      boolean any = false;
      for (long w = want.windowId(); w <= last; w++) {
        long free = free(s, pool, w, now);
        long give = Math.min(want.amount(), (long) Math.floor(free * settings.donateShare()));
        boolean isAsked = w == want.windowId();
        if (give > 0 || isAsked) {
          RegionRights.Transfer t = s.rights().transfer(pool, w, self, want.region());
          long total = (t == null ? 0 : t.total()) + Math.max(0, give);
          long seq = isAsked ? want.seq() : (t == null ? 0 : t.answeredSeq());
          gifts.add(new RightsTransferred(pool, w, self, want.region(), Math.max(0, give), total, seq, now));
          any |= give > 0;
        }
      }
      if (any) {
        out.addAll(gifts);
      }
    }
    return out;
  }

  /** The last window a donor gives in for a want in {@code windowId}: the horizon's end, at least that window. */
  private long lastWindow(RightsPool pool, long windowId, Instant now) {
    WindowKind kind = pool.window();
    if (kind == null) {
      return windowId;
    }
    long last = Windows.id(kind, now.plus(settings.horizon().get(kind)));
    return Math.max(windowId, last);
  }
}
