package io.sluice.node.admission;

import io.sluice.node.tenant.QuotaLedger;
import io.sluice.node.tenant.TenantCommand.LeaseReply;
import io.sluice.persistence.Quantity;
import io.sluice.persistence.TenantLimits;
import io.sluice.persistence.TenantState;
import io.sluice.persistence.UsageCounters;
import io.sluice.persistence.WindowKind;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
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
import org.apache.pekko.http.javadsl.model.headers.RawHeader;

/**
 * One tenant's quota on this node: the leases the tenant entity granted, spent with atomics and
 * no lock, and the usage to settle back. A request reserves its demand from the leases with a CAS
 * per limited quantity; only when a lease is short does it wait for the entity, and concurrent
 * waiters share one acquire. Leases are renewed ahead of need and returned when idle.
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
  private final Admission owner;
  final AtomicReferenceArray<Lease> leases = new AtomicReferenceArray<>(QUANTITIES.length);
  final AtomicReferenceArray<WindowUsage> usage = new AtomicReferenceArray<>(KINDS.length);
  private final AtomicLongArray exhaustedUntil = new AtomicLongArray(QUANTITIES.length);
  private final AtomicLongArray othersCommitted = new AtomicLongArray(QUANTITIES.length);

  /** Concurrency slots this node holds for the tenant, and how many of them are free. */
  final AtomicLong freeSlots = new AtomicLong();
  final AtomicLong heldSlots = new AtomicLong();
  final AtomicLong slotsToReturn = new AtomicLong();
  /** Bumped whenever free slots are given up; a request's slot goes back to the pool only in the same epoch. */
  final AtomicLong slotEpoch = new AtomicLong();
  private volatile long slotsValidUntil;
  private volatile long slotsExhaustedUntil;

  private volatile long[] limits = unlimited();
  private volatile HttpHeader[] limitHeaders = limitHeaders(limits);
  private volatile long slotLimit = -1;
  /** The last tenant revision looked at, and the revision of the last change of limits. */
  private volatile long seenRevision = -1;
  private volatile long limitsRevision = -1;
  private volatile TenantLimits limitsSeen;

  private final AtomicReference<CompletableFuture<Void>> acquiring = new AtomicReference<>();
  /** Until when the tenant store is taken to be down, after an acquire got no answer. */
  private volatile long storeDownUntil;
  /** The window in which this node last granted itself an outage allowance, per quantity. */
  private final AtomicLongArray allowanceWindow = new AtomicLongArray(QUANTITIES.length);
  final AtomicLong acquireSeq = new AtomicLong();
  /**
   * The seq of the last acquire that got no answer, or 0. The next acquire is sent with it again:
   * had the entity applied it, the grant would otherwise stay counted as this node's until its
   * window ends; the entity answers a repeat with its first answer. Only once: when the repeat
   * gets no answer either, the acquire after it takes a new seq, so a node is never stuck on one
   * (an entity of an older version drops repeats unanswered). Touched only by the acquire in
   * flight ({@link #acquiring}).
   */
  private long unansweredAcquire;
  final AtomicLong settleSeq = new AtomicLong();
  /** The settlement in flight, completed once its reply is handled; null when there is none. */
  final AtomicReference<CompletableFuture<Void>> settlement = new AtomicReference<>();
  /**
   * Returns sent in settlements that got no answer, oldest first; null when there are none (most
   * tenants, always). Touched only while handling a settlement's reply, and one settlement is in
   * flight at a time ({@link #settlement}).
   */
  private List<Returned> unconfirmed;
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
        limitHeaders = limitHeaders(l);
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

  private static long amount(Quantity q, Demand d) {
    return switch (q) {
      case REQUESTS_PER_MINUTE -> 1;
      case TOKENS_PER_MINUTE, TOKENS_PER_DAY -> d.tokens();
      case SPEND_PER_DAY, SPEND_PER_MONTH -> d.costNanos();
    };
  }

  /** Admits a request, waiting for the entity only when a lease is short. */
  CompletionStage<Ticket> admit(Demand d, int round) {
    WindowClock clock = owner.clock();
    long now = clock.nowMillis();
    lastActivityMillis = now;
    touch();
    long[] lim = limits;
    Lease[] held = new Lease[QUANTITIES.length];
    long[] reserved = new long[QUANTITIES.length];
    Map<Quantity, Long> missing = null;
    for (Quantity q : QUANTITIES) {
      int i = q.ordinal();
      long amount = amount(q, d);
      if (lim[i] < 0 || amount <= 0) {
        continue;
      }
      Lease lease = leases.get(i);
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
    if (missing == null && slotLimit >= 0) {
      if (now >= slotsValidUntil && freeSlots.get() > 0) {
        giveUpFreeSlots();
      }
      long f;
      while ((f = freeSlots.get()) > 0) {
        if (freeSlots.compareAndSet(f, f - 1)) {
          slot = true;
          break;
        }
      }
      slotMissing = !slot;
    }
    if (missing == null && !slotMissing) {
      Ticket ticket = new Ticket(this, held, reserved, slot, clock, d);
      renewIfLow(now);
      return CompletableFuture.completedFuture(ticket);
    }
    for (int i = 0; i < held.length; i++) {
      if (held[i] != null) {
        held[i].remaining.addAndGet(reserved[i]);
      }
    }
    if (now < storeDownUntil) {
      if (owner.settings().failClosedWhenStoreDown() || missing == null || !grantOutageAllowance(missing, lim)) {
        return CompletableFuture.failedFuture(QuotaExceeded.storeUnavailable().withHeaders(rateLimitHeaders()));
      }
      return admit(d, round + 1);
    }
    if (missing != null) {
      for (Map.Entry<Quantity, Long> m : missing.entrySet()) {
        int i = m.getKey().ordinal();
        if (now < exhaustedUntil.get(i)) {
          Quantity q = m.getKey();
          return CompletableFuture.failedFuture(QuotaExceeded.of(q, lim[i],
              Instant.ofEpochMilli(clock.resetMillis(q.window())), clock.now()).withHeaders(rateLimitHeaders()));
        }
      }
    } else if (now < slotsExhaustedUntil) {
      return CompletableFuture.failedFuture(QuotaExceeded.concurrency(slotLimit, 1).withHeaders(rateLimitHeaders()));
    }
    if (round >= owner.settings().maxAcquireRounds()) {
      Quantity q = missing == null ? null : missing.keySet().iterator().next();
      return CompletableFuture.failedFuture((q == null
          ? QuotaExceeded.concurrency(slotLimit, 1)
          : QuotaExceeded.of(q, lim[q.ordinal()], Instant.ofEpochMilli(clock.resetMillis(q.window())), clock.now()))
          .withHeaders(rateLimitHeaders()));
    }
    Map<Quantity, Long> needed = missing == null ? Map.of() : missing;
    return acquire(needed, slotMissing ? 1 : 0).thenCompose(ok -> {
      if (!ok) {
        throw QuotaExceeded.tenantGone();
      }
      return admit(d, round + 1);
    });
  }

  /** Stops using the free slots (expired or revoked) and returns them with the next settlement. */
  void giveUpFreeSlots() {
    slotEpoch.incrementAndGet();
    slotsToReturn.addAndGet(freeSlots.getAndSet(0));
    touch();
  }

  /** Puts the tenant on the settle timer's list unless it is on it: one volatile read per call. */
  private void touch() {
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

  /**
   * While the tenant store is down, gives this node, once per window and quantity, its own lease
   * of {@code outage-allowance} of the limit. The usage is settled when the store is back; the
   * overshoot this allows is at most nodes x allowance x limit per window. False when spent.
   */
  private boolean grantOutageAllowance(Map<Quantity, Long> missing, long[] lim) {
    WindowClock clock = owner.clock();
    boolean granted = false;
    for (Map.Entry<Quantity, Long> m : missing.entrySet()) {
      Quantity q = m.getKey();
      int i = q.ordinal();
      long window = clock.current(q.window());
      long previous = allowanceWindow.get(i);
      if (previous == window || !allowanceWindow.compareAndSet(i, previous, window)) {
        continue;
      }
      long amount = Math.max(1, (long) Math.floor(lim[i] * owner.settings().outageAllowance()));
      Lease lease = leaseFor(i, window);
      lease.granted.addAndGet(amount);
      lease.remaining.addAndGet(amount);
      granted = true;
    }
    return granted;
  }

  /** The lease of quantity {@code i} for {@code window}, replacing one of an older window; may be newer. */
  private Lease leaseFor(int i, long window) {
    Lease lease = leases.get(i);
    while (lease == null || lease.window < window) {
      Lease fresh = new Lease(window);
      if (leases.compareAndSet(i, lease, fresh)) {
        return fresh;
      }
      lease = leases.get(i);
    }
    return lease;
  }

  /** Renews, without waiting, every lease that fell below its renewal mark. */
  private void renewIfLow(long now) {
    if (acquiring.get() != null) {
      return;
    }
    for (int i = 0; i < QUANTITIES.length; i++) {
      Lease lease = leases.get(i);
      if (lease != null && lease.remaining.get() < lease.lastGrant * owner.settings().renewBelow()
          && now >= exhaustedUntil.get(i)) {
        acquire(Map.of(), 0);
        return;
      }
    }
  }

  /**
   * Asks the entity for quota; concurrent callers share the one acquire in flight. Completes with
   * false when the tenant is gone.
   */
  private CompletableFuture<Boolean> acquire(Map<Quantity, Long> needed, long slotsNeeded) {
    CompletableFuture<Void> running = acquiring.get();
    if (running != null) {
      return running.handle((v, e) -> true);
    }
    CompletableFuture<Void> mine = new CompletableFuture<>();
    if (!acquiring.compareAndSet(null, mine)) {
      return acquiring.get() == null ? CompletableFuture.completedFuture(true) : acquiring.get().handle((v, e) -> true);
    }
    long multiplier = owner.settings().prefetchMultiplier();
    long[] lim = limits;
    Map<Quantity, Long> wanted = new EnumMap<>(Quantity.class);
    for (Quantity q : QUANTITIES) {
      int i = q.ordinal();
      if (lim[i] < 0) continue;
      Lease lease = leases.get(i);
      long need = needed.getOrDefault(q, 0L);
      long base = Math.max(need, lease == null ? 0 : lease.lastGrant);
      if (need > 0 || (lease != null && lease.remaining.get() < lease.lastGrant * owner.settings().renewBelow())) {
        wanted.put(q, Math.max(need, base * multiplier));
      }
    }
    long slotsWanted = slotLimit >= 0 && slotsNeeded > 0 ? Math.max(1, slotsNeeded * multiplier) : 0;
    long seq = unansweredAcquire != 0 ? unansweredAcquire : acquireSeq.incrementAndGet();
    return owner.sendAcquire(this, seq, needed, wanted, slotsNeeded, slotsWanted)
        .handle((reply, error) -> {
          boolean active = true;
          if (reply != null) {
            unansweredAcquire = 0;
            active = reply.tenantActive();
            apply(reply);
            storeDownUntil = 0;
          } else {
            unansweredAcquire = seq == unansweredAcquire ? 0 : seq;
            storeDownUntil = owner.clock().nowMillis() + owner.settings().denyCache().toMillis();
          }
          acquiring.set(null);
          mine.complete(null);
          return active;
        }).toCompletableFuture();
  }

  /** Adds a grant to the leases and remembers what is exhausted. */
  private void apply(LeaseReply reply) {
    if (reply.revision() < limitsRevision) {
      return; // granted under limits that have changed since: the entity revoked it already
    }
    WindowClock clock = owner.clock();
    long now = clock.nowMillis();
    reply.granted().forEach((q, amount) -> {
      int i = q.ordinal();
      long window = reply.windows().getOrDefault(q.window(), -1L);
      Lease lease = leaseFor(i, window);
      if (lease.window == window) {
        lease.granted.addAndGet(amount);
        lease.remaining.addAndGet(amount);
        lease.lastGrant = amount;
        lease.lastUseMillis = now;
        exhaustedUntil.set(i, 0);
      }
    });
    long denyUntil = now + owner.settings().denyCache().toMillis();
    reply.exhausted().forEach((q, resetAt) ->
        exhaustedUntil.set(q.ordinal(), Math.min(resetAt.toEpochMilli(), denyUntil)));
    reply.othersCommitted().forEach((q, v) -> othersCommitted.set(q.ordinal(), v));
    if (reply.slots() > 0) {
      freeSlots.addAndGet(reply.slots());
      heldSlots.addAndGet(reply.slots());
      slotsExhaustedUntil = 0;
    }
    if (reply.slots() > 0 || slotsValidUntil > now) {
      slotsValidUntil = now + owner.slotValidity().toMillis();
    }
    if (reply.slotsExhausted()) {
      slotsExhaustedUntil = denyUntil;
    }
  }

  /** What one settlement handed back: unused lease amounts (of the given windows) and slots. */
  private record Returned(long seq, Map<WindowKind, Long> windows, Map<Quantity, Long> amounts, long slots) {}

  /** Remembers the returns of settlement {@code seq}, which got no answer: applied or not is unknown. */
  void unconfirmedReturn(long seq, Map<WindowKind, Long> windows, Map<Quantity, Long> amounts, long slots) {
    if (unconfirmed == null) {
      unconfirmed = new ArrayList<>(2);
    }
    unconfirmed.add(new Returned(seq, windows, amounts, slots));
  }

  /**
   * Settles the fate of unanswered returns once a later settlement is answered: the entity's last
   * applied settlement before that one was {@code priorSeq}. One above it was never applied, and
   * the entity drops it if it still comes (its seq is older than one applied now, or its deadline
   * passed), so the node holds it again. One at or below it may have been applied and stays given
   * back: counted as spent until its window ends, the safe side.
   */
  void confirmReturns(long priorSeq) {
    if (unconfirmed == null) {
      return;
    }
    for (Returned r : unconfirmed) {
      if (r.seq() > priorSeq) {
        restore(r.windows(), r.amounts(), r.slots());
      }
    }
    unconfirmed = null;
  }

  /**
   * Takes back returns the entity did not apply: the amounts go back into the leases they came
   * from (unless the window has moved on, which ends them anyway) and the slots are held again;
   * an idle tenant returns them with its next settlement.
   */
  void restore(Map<WindowKind, Long> windows, Map<Quantity, Long> amounts, long slots) {
    amounts.forEach((q, amount) -> {
      Lease lease = leases.get(q.ordinal());
      Long window = windows.get(q.window());
      if (lease != null && window != null && lease.window == window) {
        lease.remaining.addAndGet(amount);
      }
    });
    if (slots > 0) {
      heldSlots.addAndGet(slots);
      slotsToReturn.addAndGet(slots);
    }
    touch();
  }

  /** A settlement was applied: the node's slots stay valid for another lease period. */
  void renewed() {
    slotsValidUntil = owner.clock().nowMillis() + owner.slotValidity().toMillis();
  }

  /** Counts a finished request in the usage of the windows it started in. */
  void record(long[] windows, UsageCounters actual) {
    for (WindowKind k : KINDS) {
      WindowUsage u = usage.get(k.ordinal());
      long w = windows[k.ordinal()];
      while (u == null || u.window < w) {
        WindowUsage fresh = new WindowUsage(w);
        if (usage.compareAndSet(k.ordinal(), u, fresh)) {
          u = fresh;
          break;
        }
        u = usage.get(k.ordinal());
      }
      if (u.window == w) {
        u.requests.add(actual.requests());
        u.prompt.add(actual.promptTokens());
        u.completion.add(actual.completionTokens());
        u.cost.add(actual.costNanos());
      }
    }
    unsettled.increment();
    touch();
    if (unsettled.sum() >= owner.settings().settleMaxRequests()) {
      owner.settleSoon(this);
    }
  }

  long limit(Quantity q) {
    return limits[q.ordinal()];
  }

  long slotLimit() {
    return slotLimit;
  }

  /** OpenAI's x-ratelimit-* headers for the per-minute limits, as they stand now. */
  java.util.List<HttpHeader> rateLimitHeaders() {
    java.util.List<HttpHeader> h = new java.util.ArrayList<>(6);
    HttpHeader[] limitHeaders = this.limitHeaders;
    addHeaders(h, Quantity.REQUESTS_PER_MINUTE, limitHeaders[0], "x-ratelimit-remaining-requests",
        "x-ratelimit-reset-requests");
    addHeaders(h, Quantity.TOKENS_PER_MINUTE, limitHeaders[1], "x-ratelimit-remaining-tokens",
        "x-ratelimit-reset-tokens");
    return h;
  }

  /** The x-ratelimit-limit-* headers of the limits in force, made once per change of limits; null when unlimited. */
  private static HttpHeader[] limitHeaders(long[] limits) {
    long requests = limits[Quantity.REQUESTS_PER_MINUTE.ordinal()];
    long tokens = limits[Quantity.TOKENS_PER_MINUTE.ordinal()];
    return new HttpHeader[] {
        requests < 0 ? null : RawHeader.create("x-ratelimit-limit-requests", Long.toString(requests)),
        tokens < 0 ? null : RawHeader.create("x-ratelimit-limit-tokens", Long.toString(tokens))};
  }

  private void addHeaders(java.util.List<HttpHeader> h, Quantity q, HttpHeader limit, String remainingName,
      String resetName) {
    if (limit == null) {
      return;
    }
    WindowClock clock = owner.clock();
    h.add(limit);
    h.add(RawHeader.create(remainingName, Long.toString(remaining(q))));
    h.add(RawHeader.create(resetName, duration(clock.resetMillis(q.window()) - clock.nowMillis())));
  }

  /** A duration as OpenAI writes it: "850ms", "12s", "6m0s". */
  static String duration(long millis) {
    if (millis < 1000) {
      return Math.max(0, millis) + "ms";
    }
    long s = (millis + 999) / 1000;
    return s < 60 ? s + "s" : (s / 60) + "m" + (s % 60) + "s";
  }

  /** Truthful remaining for the x-ratelimit headers: the limit less everything counted so far. */
  long remaining(Quantity q) {
    long limit = limits[q.ordinal()];
    if (limit < 0) {
      return -1;
    }
    Lease lease = leases.get(q.ordinal());
    long spent = lease == null || lease.window < owner.clock().current(q.window())
        ? 0 : lease.granted.get() - lease.remaining.get();
    return Math.max(0, limit - othersCommitted.get(q.ordinal()) - spent);
  }
}
