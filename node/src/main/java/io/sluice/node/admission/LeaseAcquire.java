package io.sluice.node.admission;

import io.sluice.node.admission.TenantAdmission.Lease;
import io.sluice.node.tenant.TenantCommand.LeaseReply;
import io.sluice.persistence.Quantity;
import io.sluice.persistence.WindowKind;
import java.time.Instant;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * The acquire and renew protocol of a tenant's leases on this node: a request short of quota waits
 * for the tenant entity, concurrent waiters share one acquire, leases are renewed ahead of need,
 * and an unanswered acquire is repeated with its seq. It exists apart so that the protocol with the
 * entity changes in one place; its state is the {@link TenantAdmission}'s (static methods, no
 * object of its own).
 */
final class LeaseAcquire {
  private static final Quantity[] QUANTITIES = Quantity.values();

  private LeaseAcquire() {}

  /**
   * While the tenant store is down, gives this node, once per window and quantity, its own lease
   * of {@code outage-allowance} of the limit. The usage is settled when the store is back; the
   * overshoot this allows is at most nodes x allowance x limit per window. False when spent.
   */
  static boolean grantOutageAllowance(TenantAdmission t, Map<Quantity, Long> missing, long[] lim) {
    WindowClock clock = t.owner.clock();
    boolean granted = false;
    for (Map.Entry<Quantity, Long> m : missing.entrySet()) {
      Quantity q = m.getKey();
      int i = q.ordinal();
      long window = clock.current(q.window());
      long previous = t.allowanceWindow.get(i);
      if (previous == window || !t.allowanceWindow.compareAndSet(i, previous, window)) {
        continue;
      }
      long amount = Math.max(1, (long) Math.floor(lim[i] * t.owner.settings().outageAllowance()));
      Lease lease = leaseFor(t, i, window);
      lease.granted.addAndGet(amount);
      lease.remaining.addAndGet(amount);
      granted = true;
    }
    return granted;
  }

  /** The lease of quantity {@code i} for {@code window}, replacing one of an older window; may be newer. */
  static Lease leaseFor(TenantAdmission t, int i, long window) {
    Lease lease = t.leases.get(i);
    while (lease == null || lease.window < window) {
      Lease fresh = new Lease(window);
      if (t.leases.compareAndSet(i, lease, fresh)) {
        return fresh;
      }
      lease = t.leases.get(i);
    }
    return lease;
  }

  /** Renews, without waiting, every lease that fell below its renewal mark. */
  static void renewIfLow(TenantAdmission t, long now) {
    if (t.acquiring.get() != null) {
      return;
    }
    for (int i = 0; i < QUANTITIES.length; i++) {
      Lease lease = t.leases.get(i);
      if (lease != null && lease.remaining.get() < lease.lastGrant * t.owner.settings().renewBelow()
          && now >= t.exhaustedUntil.get(i)) {
        acquire(t, Map.of(), 0);
        return;
      }
    }
  }

  /**
   * Asks, once per window boundary and without waiting, for the leases of the windows that end
   * within {@code roll-ahead}, when their lease of the current window is in use: the acquire is
   * dated at the boundary, so the entity rolls the window then ({@link
   * io.sluice.node.tenant.QuotaLedger#eventTime}, within the clock-skew tolerance) and no request
   * arriving at the boundary waits for it. Requests until the boundary spend the new lease (the
   * spend path takes a lease of the current window or a later one), so each window, as the entity
   * counts it, still admits at most its limit.
   */
  static void rollAheadIfDue(TenantAdmission t, long now) {
    if (now < t.rollAheadAt || t.acquiring.get() != null) {
      return;
    }
    long ahead = t.owner.settings().rollAhead().toMillis();
    if (ahead <= 0) {
      t.rollAheadAt = Long.MAX_VALUE;
      return;
    }
    WindowClock clock = t.owner.clock();
    long boundary = Long.MAX_VALUE;
    for (Quantity q : QUANTITIES) {
      Lease lease = t.leases.get(q.ordinal());
      if (lease != null && t.limits[q.ordinal()] >= 0 && lease.window == clock.current(q.window())) {
        boundary = Math.min(boundary, clock.resetMillis(q.window()));
      }
    }
    if (boundary == Long.MAX_VALUE || boundary - now > ahead) {
      // Nothing to roll yet: look again when the nearest window (a minute at most) is due.
      t.rollAheadAt = Math.min(boundary, clock.resetMillis(WindowKind.MINUTE)) - ahead;
      return;
    }
    t.rollAheadAt = boundary; // once per boundary
    Map<Quantity, Long> wanted = new EnumMap<>(Quantity.class);
    for (Quantity q : QUANTITIES) {
      Lease lease = t.leases.get(q.ordinal());
      if (lease != null && t.limits[q.ordinal()] >= 0 && lease.window == clock.current(q.window())
          && clock.resetMillis(q.window()) == boundary && lease.lastGrant > 0) {
        wanted.put(q, lease.lastGrant);
      }
    }
    if (!wanted.isEmpty()) {
      acquire(t, Map.of(), wanted, 0, Instant.ofEpochMilli(boundary));
    }
  }

  /**
   * Asks the entity for quota; concurrent callers share the one acquire in flight. Completes with
   * false when the tenant is gone.
   */
  static CompletableFuture<Boolean> acquire(TenantAdmission t, Map<Quantity, Long> needed, long slotsNeeded) {
    return acquire(t, needed, null, slotsNeeded, null);
  }

  /**
   * {@link #acquire(TenantAdmission, Map, long)} asking for {@code wantedOrNull} (null: what is
   * needed and what the leases below their renewal mark want) as of {@code at} (null: now).
   */
  private static CompletableFuture<Boolean> acquire(TenantAdmission t, Map<Quantity, Long> needed,
      Map<Quantity, Long> wantedOrNull, long slotsNeeded, Instant at) {
    CompletableFuture<Void> running = t.acquiring.get();
    if (running != null) {
      return running.handle((v, e) -> true);
    }
    CompletableFuture<Void> mine = new CompletableFuture<>();
    if (!t.acquiring.compareAndSet(null, mine)) {
      // Read once: the acquire that won may end (and clear the field) between two reads.
      CompletableFuture<Void> other = t.acquiring.get();
      return other == null ? CompletableFuture.completedFuture(true) : other.handle((v, e) -> true);
    }
    Map<Quantity, Long> wanted = wantedOrNull != null ? wantedOrNull : wanted(t, needed);
    long slotsWanted = t.slotLimit >= 0 && slotsNeeded > 0
        ? Math.max(1, slotsNeeded * t.owner.settings().prefetchMultiplier()) : 0;
    long seq = t.unansweredAcquire != 0 ? t.unansweredAcquire : t.acquireSeq.incrementAndGet();
    return t.owner.sendAcquire(t, seq, needed, wanted, slotsNeeded, slotsWanted, at)
        .handle((reply, error) -> {
          boolean active = true;
          if (reply != null) {
            t.unansweredAcquire = 0;
            active = reply.tenantActive();
            apply(t, reply);
            t.storeDownUntil = 0;
          } else {
            t.unansweredAcquire = seq == t.unansweredAcquire ? 0 : seq;
            t.storeDownUntil = t.owner.clock().nowMillis() + t.owner.settings().denyCache().toMillis();
          }
          t.acquiring.set(null);
          mine.complete(null);
          return active;
        }).toCompletableFuture();
  }

  /** What to ask for: what is needed, and a prefetch for each lease below its renewal mark. */
  private static Map<Quantity, Long> wanted(TenantAdmission t, Map<Quantity, Long> needed) {
    long multiplier = t.owner.settings().prefetchMultiplier();
    long[] lim = t.limits;
    Map<Quantity, Long> wanted = new EnumMap<>(Quantity.class);
    for (Quantity q : QUANTITIES) {
      int i = q.ordinal();
      if (lim[i] < 0) continue;
      Lease lease = t.leases.get(i);
      long need = needed.getOrDefault(q, 0L);
      long base = Math.max(need, lease == null ? 0 : lease.lastGrant);
      if (need > 0 || (lease != null && lease.remaining.get() < lease.lastGrant * t.owner.settings().renewBelow())) {
        wanted.put(q, Math.max(need, base * multiplier));
      }
    }
    return wanted;
  }

  /** Adds a grant to the leases and remembers what is exhausted. */
  private static void apply(TenantAdmission t, LeaseReply reply) {
    if (reply.revision() < t.limitsRevision) {
      return; // granted under limits that have changed since: the entity revoked it already
    }
    WindowClock clock = t.owner.clock();
    long now = clock.nowMillis();
    reply.granted().forEach((q, amount) -> {
      int i = q.ordinal();
      long window = reply.windows().getOrDefault(q.window(), -1L);
      Lease lease = leaseFor(t, i, window);
      if (lease.window == window) {
        lease.granted.addAndGet(amount);
        lease.remaining.addAndGet(amount);
        lease.lastGrant = amount;
        lease.lastUseMillis = now;
        t.exhaustedUntil.set(i, 0);
      }
    });
    long denyUntil = now + t.owner.settings().denyCache().toMillis();
    reply.exhausted().forEach((q, resetAt) ->
        t.exhaustedUntil.set(q.ordinal(), Math.min(resetAt.toEpochMilli(), denyUntil)));
    reply.othersCommitted().forEach((q, v) -> t.othersCommitted.set(q.ordinal(), v));
    if (reply.slots() > 0) {
      t.freeSlots.addAndGet(reply.slots());
      t.heldSlots.addAndGet(reply.slots());
      t.slotsExhaustedUntil = 0;
    }
    if (reply.slots() > 0 || t.slotsValidUntil > now) {
      t.slotsValidUntil = now + t.owner.slotValidity().toMillis();
    }
    if (reply.slotsExhausted()) {
      t.slotsExhaustedUntil = denyUntil;
    }
  }
}
