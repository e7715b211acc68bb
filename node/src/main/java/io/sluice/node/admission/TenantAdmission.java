package io.sluice.node.admission;

import io.sluice.node.tenant.QuotaLedger;
import io.sluice.persistence.Quantity;
import io.sluice.persistence.TenantLimits;
import io.sluice.persistence.TenantState;
import io.sluice.persistence.UsageCounters;
import io.sluice.persistence.WindowKind;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.atomic.LongAdder;
import org.apache.pekko.http.javadsl.model.HttpHeader;

/**
 * One tenant's quota on this node: the leases the tenant entity granted, spent with atomics and
 * no lock, and the usage to settle back. A request reserves its demand from the leases with a CAS
 * per limited quantity; only when a lease is short does it wait for the entity, and concurrent
 * waiters share one acquire. Leases are renewed ahead of need and returned when idle.
 *
 * <p>This class holds the state and follows the tenant's limits; the spend path is {@link
 * LeaseSpend}, the acquire and renew protocol {@link LeaseAcquire}, the settlement bookkeeping
 * {@link LeaseReturns} and the x-ratelimit headers {@link RateLimitHeaders}, all static on this
 * state, so no request pays for the split with an object or an indirection.
 */
final class TenantAdmission {
  private static final Quantity[] QUANTITIES = Quantity.values();
  private static final WindowKind[] KINDS = WindowKind.values();

  /** A lease of one quantity in one window; replaced, never reset, when the window changes. */
  static final class Lease {
    final long window;
    final AtomicLong remaining = new AtomicLong();
    final AtomicLong granted = new AtomicLong();
    volatile long lastGrant;
    volatile long lastUseMillis;

    Lease(long window) {
      this.window = window;
    }
  }

  /** Usage of finished requests in one window, cumulative, as settled to the entity. */
  static final class WindowUsage {
    final long window;
    final LongAdder requests = new LongAdder();
    final LongAdder prompt = new LongAdder();
    final LongAdder completion = new LongAdder();
    final LongAdder cost = new LongAdder();

    WindowUsage(long window) {
      this.window = window;
    }

    UsageCounters snapshot() {
      return new UsageCounters(requests.sum(), prompt.sum(), completion.sum(), cost.sum());
    }
  }

  final String tenantId;
  final Admission owner;
  final AtomicReferenceArray<Lease> leases = new AtomicReferenceArray<>(QUANTITIES.length);
  final AtomicReferenceArray<WindowUsage> usage = new AtomicReferenceArray<>(KINDS.length);
  final AtomicLongArray exhaustedUntil = new AtomicLongArray(QUANTITIES.length);
  final AtomicLongArray othersCommitted = new AtomicLongArray(QUANTITIES.length);

  /** Concurrency slots this node holds for the tenant, and how many of them are free. */
  final AtomicLong freeSlots = new AtomicLong();
  final AtomicLong heldSlots = new AtomicLong();
  final AtomicLong slotsToReturn = new AtomicLong();
  /** Bumped whenever free slots are given up; a request's slot goes back to the pool only in the same epoch. */
  final AtomicLong slotEpoch = new AtomicLong();
  volatile long slotsValidUntil;
  volatile long slotsExhaustedUntil;

  volatile long[] limits = unlimited();
  volatile HttpHeader[] limitHeaders = RateLimitHeaders.limitHeaders(limits);
  volatile long slotLimit = -1;
  /** The last tenant revision looked at, and the revision of the last change of limits. */
  private volatile long seenRevision = -1;
  volatile long limitsRevision = -1;
  private volatile TenantLimits limitsSeen;

  final AtomicReference<CompletableFuture<Void>> acquiring = new AtomicReference<>();
  /** Until when the tenant store is taken to be down, after an acquire got no answer. */
  volatile long storeDownUntil;
  /** Before this time no lease needs the next window's lease asked for ({@link LeaseAcquire#rollAheadIfDue}). */
  volatile long rollAheadAt;
  /** The window in which this node last granted itself an outage allowance, per quantity. */
  final AtomicLongArray allowanceWindow = new AtomicLongArray(QUANTITIES.length);
  final AtomicLong acquireSeq = new AtomicLong();
  /**
   * The seq of the last acquire that got no answer, or 0. The next acquire is sent with it again:
   * had the entity applied it, the grant would otherwise stay counted as this node's until its
   * window ends; the entity answers a repeat with its first answer. Only once: when the repeat
   * gets no answer either, the acquire after it takes a new seq, so a node is never stuck on one
   * (an entity of an older version drops repeats unanswered). Touched only by the acquire in
   * flight ({@link #acquiring}).
   */
  long unansweredAcquire;
  final AtomicLong settleSeq = new AtomicLong();
  /** The settlement in flight, completed once its reply is handled; null when there is none. */
  final AtomicReference<CompletableFuture<Void>> settlement = new AtomicReference<>();
  /**
   * Returns sent in settlements that got no answer, oldest first; null when there are none (most
   * tenants, always). Touched only while handling a settlement's reply, and one settlement is in
   * flight at a time ({@link #settlement}).
   */
  List<LeaseReturns.Returned> unconfirmed;
  final LongAdder unsettled = new LongAdder();
  volatile long lastActivityMillis;
  /** Whether the tenant is on the settle timer's list ({@link Admission#list}). */
  volatile boolean listed;
  volatile long lastSettleMillis;

  TenantAdmission(String tenantId, Admission owner) {
    this.tenantId = tenantId;
    this.owner = owner;
  }

  private static long[] unlimited() {
    long[] l = new long[QUANTITIES.length];
    java.util.Arrays.fill(l, -1);
    return l;
  }

  /**
   * Follows the tenant's limits. A change revokes every local lease: the entity revoked them too
   * (keeping only what was used), so spending them could overshoot the new limit.
   */
  void sync(TenantState state) {
    if (state.revision() <= seenRevision) {
      return;
    }
    synchronized (this) { // rare: once per change of the tenant, never per request
      if (state.revision() <= seenRevision) {
        return;
      }
      TenantLimits next = state.limits();
      if (!next.equals(limitsSeen)) {
        if (limitsSeen != null) {
          limitsRevision = state.revision();
          for (int i = 0; i < QUANTITIES.length; i++) {
            leases.set(i, null);
            exhaustedUntil.set(i, 0);
          }
          giveUpFreeSlots();
          slotsExhaustedUntil = 0;
        }
        long[] l = new long[QUANTITIES.length];
        for (Quantity q : QUANTITIES) {
          l[q.ordinal()] = QuotaLedger.limit(next, q);
        }
        limits = l;
        // After the limits: a request that sees the new headers sees the new limits too.
        limitHeaders = RateLimitHeaders.limitHeaders(l);
        slotLimit = QuotaLedger.slotLimit(next);
        limitsSeen = next;
      }
      // Published last: a concurrent caller that sees this revision skips the lock and admits at
      // once, so it must find the limits (and revoked leases) of this revision already in place.
      // Set first, it let the first requests of a tenant on a node pass as unlimited while the
      // limits were still being computed.
      seenRevision = state.revision();
    }
  }

  boolean limited() {
    if (slotLimit >= 0) {
      return true;
    }
    for (long l : limits) {
      if (l >= 0) return true;
    }
    return false;
  }

  /** Stops using the free slots (expired or revoked) and returns them with the next settlement. */
  void giveUpFreeSlots() {
    slotEpoch.incrementAndGet();
    slotsToReturn.addAndGet(freeSlots.getAndSet(0));
    touch();
  }

  /** Puts the tenant on the settle timer's list unless it is on it: one volatile read per call. */
  void touch() {
    if (!listed) {
      listed = true;
      owner.list(this);
    }
  }

  /** Takes back the free slots to return them while idle. */
  long takeFreeSlotsBack() {
    slotEpoch.incrementAndGet();
    return freeSlots.getAndSet(0);
  }

  long limit(Quantity q) {
    return limits[q.ordinal()];
  }

  long slotLimit() {
    return slotLimit;
  }

  /** Admits a request, waiting for the entity only when a lease is short ({@link LeaseSpend}). */
  CompletionStage<Ticket> admit(Demand d, int round) {
    return LeaseSpend.admit(this, d, round);
  }

  /** Remembers the returns of settlement {@code seq}, which got no answer ({@link LeaseReturns}). */
  void unconfirmedReturn(long seq, Map<WindowKind, Long> windows, Map<Quantity, Long> amounts, long slots) {
    LeaseReturns.unconfirmedReturn(this, seq, windows, amounts, slots);
  }

  /** Settles the fate of unanswered returns once a later settlement is answered ({@link LeaseReturns}). */
  void confirmReturns(long priorSeq) {
    LeaseReturns.confirmReturns(this, priorSeq);
  }

  /** Takes back returns the entity did not apply ({@link LeaseReturns}). */
  void restore(Map<WindowKind, Long> windows, Map<Quantity, Long> amounts, long slots) {
    LeaseReturns.restore(this, windows, amounts, slots);
  }

  /** A settlement was applied: the node's slots stay valid for another lease period. */
  void renewed() {
    LeaseReturns.renewed(this);
  }

  /** Counts a finished request in the usage of the windows it started in ({@link LeaseReturns}). */
  void record(long[] windows, UsageCounters actual) {
    LeaseReturns.record(this, windows, actual);
  }

  /** OpenAI's x-ratelimit-* headers for the per-minute limits, as they stand now. */
  List<HttpHeader> rateLimitHeaders() {
    return RateLimitHeaders.rateLimitHeaders(this);
  }

  /** Truthful remaining for the x-ratelimit headers: the limit less everything counted so far. */
  long remaining(Quantity q) {
    return RateLimitHeaders.remaining(this, q);
  }
}
