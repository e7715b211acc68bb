package io.sluice.node.admission;

import io.sluice.node.admission.TenantAdmission.Lease;
import io.sluice.persistence.Quantity;
import java.time.Instant;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * The spend path of a tenant's quota on this node: a request reserves its demand from the
 * {@link TenantAdmission}'s leases with a CAS per limited quantity, and a concurrency slot from its
 * free slots, with no lock. It exists apart so that how a request spends changes in one place, not
 * with how leases are acquired ({@link LeaseAcquire}) or settled ({@link LeaseReturns}); static, on
 * the tenant's own state, so the hot path gains no object and no indirection.
 */
final class LeaseSpend {
  private static final Quantity[] QUANTITIES = Quantity.values();

  private LeaseSpend() {}

  private static long amount(Quantity q, Demand d) {
    return switch (q) {
      case REQUESTS_PER_MINUTE -> 1;
      case TOKENS_PER_MINUTE, TOKENS_PER_DAY -> d.tokens();
      case SPEND_PER_DAY, SPEND_PER_MONTH -> d.costNanos();
    };
  }

  /** Admits a request, waiting for the entity only when a lease is short. */
  static CompletionStage<Ticket> admit(TenantAdmission t, Demand d, int round) {
    WindowClock clock = t.owner.clock();
    long now = clock.nowMillis();
    t.lastActivityMillis = now;
    t.touch();
    long[] lim = t.limits;
    Lease[] held = new Lease[QUANTITIES.length];
    long[] reserved = new long[QUANTITIES.length];
    Map<Quantity, Long> missing = null;
    for (Quantity q : QUANTITIES) {
      int i = q.ordinal();
      long amount = amount(q, d);
      if (lim[i] < 0 || amount <= 0) {
        continue;
      }
      Lease lease = t.leases.get(i);
      long window = clock.current(q.window());
      long short_ = amount;
      if (lease != null && lease.window >= window) {
        long r;
        while ((r = lease.remaining.get()) >= amount) {
          if (lease.remaining.compareAndSet(r, r - amount)) {
            held[i] = lease;
            reserved[i] = amount;
            lease.lastUseMillis = now;
            break;
          }
        }
        if (held[i] != null) {
          continue;
        }
        short_ = amount - Math.max(0, r);
      }
      if (missing == null) {
        missing = new EnumMap<>(Quantity.class);
      }
      missing.put(q, short_);
    }
    boolean slot = false;
    boolean slotMissing = false;
    if (missing == null && t.slotLimit >= 0) {
      if (now >= t.slotsValidUntil && t.freeSlots.get() > 0) {
        t.giveUpFreeSlots();
      }
      long f;
      while ((f = t.freeSlots.get()) > 0) {
        if (t.freeSlots.compareAndSet(f, f - 1)) {
          slot = true;
          break;
        }
      }
      slotMissing = !slot;
    }
    if (missing == null && !slotMissing) {
      Ticket ticket = new Ticket(t, held, reserved, slot, clock, d);
      LeaseAcquire.renewIfLow(t, now);
      LeaseAcquire.rollAheadIfDue(t, now);
      return CompletableFuture.completedFuture(ticket);
    }
    for (int i = 0; i < held.length; i++) {
      if (held[i] != null) {
        held[i].remaining.addAndGet(reserved[i]);
      }
    }
    if (now < t.storeDownUntil) {
      if (t.owner.settings().failClosedWhenStoreDown() || missing == null
          || !LeaseAcquire.grantOutageAllowance(t, missing, lim)) {
        return CompletableFuture.failedFuture(QuotaExceeded.storeUnavailable().withHeaders(t.rateLimitHeaders()));
      }
      return admit(t, d, round + 1);
    }
    if (missing != null) {
      for (Map.Entry<Quantity, Long> m : missing.entrySet()) {
        int i = m.getKey().ordinal();
        if (now < t.exhaustedUntil.get(i)) {
          Quantity q = m.getKey();
          return CompletableFuture.failedFuture(QuotaExceeded.of(q, lim[i],
              Instant.ofEpochMilli(clock.resetMillis(q.window())), clock.now()).withHeaders(t.rateLimitHeaders()));
        }
      }
    } else if (now < t.slotsExhaustedUntil) {
      return CompletableFuture.failedFuture(QuotaExceeded.concurrency(t.slotLimit, 1).withHeaders(t.rateLimitHeaders()));
    }
    if (round >= t.owner.settings().maxAcquireRounds()) {
      Quantity q = missing == null ? null : missing.keySet().iterator().next();
      return CompletableFuture.failedFuture((q == null
          ? QuotaExceeded.concurrency(t.slotLimit, 1)
          : QuotaExceeded.of(q, lim[q.ordinal()], Instant.ofEpochMilli(clock.resetMillis(q.window())), clock.now()))
          .withHeaders(t.rateLimitHeaders()));
    }
    Map<Quantity, Long> needed = missing == null ? Map.of() : missing;
    return LeaseAcquire.acquire(t, needed, slotMissing ? 1 : 0).thenCompose(ok -> {
      if (!ok) {
        throw QuotaExceeded.tenantGone();
      }
      return admit(t, d, round + 1);
    });
  }
}
