package io.sluice.node.admission;

import io.sluice.node.auth.TenantView;
import io.sluice.node.metrics.GatewayMetrics;
import io.sluice.node.tenant.QuotaSettings;
import io.sluice.node.tenant.TenantCommand;
import io.sluice.node.tenant.TenantCommand.LeaseReply;
import io.sluice.node.tenant.TenantCommand.SettleReply;
import io.sluice.node.tenant.TenantEntity;
import io.sluice.node.util.Stages;
import io.sluice.persistence.Quantity;
import io.sluice.persistence.UsageCounters;
import io.sluice.persistence.WindowKind;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.EnumMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.typed.Cluster;

/**
 * Node-local admission: the front of the quota system on the request path. It holds one {@link
 * TenantAdmission} per tenant seen on this node, asks tenant entities for leases, and settles
 * usage back in batches (every settle interval, or after settle-max-requests of a tenant). In
 * steady state a request sends no message at all: messages per request are
 * {@code (acquires + settlements) / requests}, far below 1.
 */
public final class Admission {
  private final ClusterSharding sharding;
  private final QuotaSettings settings;
  private final Duration askTimeout;
  private final WindowClock clock;
  private final String node;
  private final Duration slotValidity;
  private final ConcurrentHashMap<String, TenantAdmission> tenants = new ConcurrentHashMap<>();
  /** The tenants the settle timer walks: those that may have usage to settle or quota to return. */
  private final Set<TenantAdmission> listed = ConcurrentHashMap.newKeySet();
  private final GatewayMetrics metrics;
  /** What {@link #settle} returns when there was nothing to send. */
  private static final CompletableFuture<Void> NOT_SENT = CompletableFuture.completedFuture(null);
  private int settleCursor; // only the settle timer touches it
  private final ActorSystem<?> system;

  public Admission(ActorSystem<?> system, QuotaSettings settings, Duration askTimeout, InstantSource clock,
      GatewayMetrics metrics) {
    this.metrics = metrics;
    this.system = system;
    this.sharding = ClusterSharding.get(system);
    this.settings = settings;
    this.askTimeout = askTimeout;
    this.clock = new WindowClock(clock);
    var self = Cluster.get(system).selfMember().uniqueAddress();
    this.node = self.address() + "#" + self.longUid();
    // A node stops using slots well before the entity would reclaim them.
    this.slotValidity = settings.leaseTtl().multipliedBy(4).dividedBy(5);
    system.scheduler().scheduleWithFixedDelay(settings.settleInterval(), settings.settleInterval(),
        this::settleAll, system.executionContext());
  }

  QuotaSettings settings() {
    return settings;
  }

  WindowClock clock() {
    return clock;
  }

  Duration slotValidity() {
    return slotValidity;
  }

  /** This node's identity towards tenant entities: its address and incarnation. */
  public String node() {
    return node;
  }

  /**
   * Admits a request of {@code view}'s tenant: completes at once when the node's leases cover the
   * demand, else after the tenant entity granted more; fails with {@link QuotaExceeded}.
   */
  public CompletionStage<Ticket> admit(TenantView view, Demand demand) {
    TenantAdmission t = tenants.computeIfAbsent(view.tenantId(), id -> new TenantAdmission(id, this));
    t.sync(view.state());
    return t.admit(demand, 0);
  }

  /** Follows a pushed change of a tenant (limits), so new limits apply on this node at once. */
  public void onChanged(TenantView view) {
    TenantAdmission t = tenants.get(view.tenantId());
    if (t != null) {
      t.sync(view.state());
    }
  }

  CompletionStage<LeaseReply> sendAcquire(TenantAdmission t, long seq, Map<Quantity, Long> needed,
      Map<Quantity, Long> wanted, long slotsNeeded, long slotsWanted) {
    Instant now = clock.now();
    Instant deadline = now.plus(askTimeout);
    metrics.acquire();
    long sent = System.nanoTime();
    CompletionStage<LeaseReply> reply = sharding.entityRefFor(TenantEntity.ENTITY_KEY, t.tenantId)
        .ask(replyTo -> new TenantCommand.Acquire(node, seq, deadline, now, Map.copyOf(needed), Map.copyOf(wanted),
            slotsNeeded, slotsWanted, replyTo), askTimeout);
    reply.thenRun(() -> metrics.acquired(System.nanoTime() - sent));
    return reply;
  }

  /**
   * Called by the settle timer: settles the tenants that have something to settle, at most
   * {@code settle-tenants-per-interval} of them. With more tenants than that, they take turns
   * (round robin from where the last tick stopped), so journal writes per node stay bounded however
   * many tenants it serves; a tenant that reaches settle-max-requests settles at once regardless.
   * It walks only the listed tenants (see {@link #unlist}), not every tenant the node has served.
   */
  void settleAll() {
    TenantAdmission[] all = listed.toArray(new TenantAdmission[0]);
    int n = all.length;
    if (n == 0) {
      return;
    }
    int budget = settings.settleTenantsPerInterval();
    int start = Math.floorMod(settleCursor, n);
    long now = clock.nowMillis();
    int sent = 0;
    int i = 0;
    for (; i < n && sent < budget; i++) {
      TenantAdmission t = all[(start + i) % n];
      if (mayHaveWork(t, now)) {
        if (settle(t, false) != NOT_SENT) {
          sent++;
        }
      } else if (now - t.lastActivityMillis >= settings.idleReturn().toMillis() && t.heldSlots.get() == 0
          && t.settlement.get() == null) {
        unlist(t);
      }
    }
    settleCursor = start + i;
  }

  /** Whether the settle timer walks {@code tenantId} (for tests). */
  boolean isListed(String tenantId) {
    TenantAdmission t = tenants.get(tenantId);
    return t != null && t.listed && listed.contains(t);
  }

  /** The node's admission state of {@code tenantId}, or null before its first request (for tests). */
  TenantAdmission tenantAdmission(String tenantId) {
    return tenants.get(tenantId);
  }

  /** Puts a tenant on the settle timer's list: it has admitted a request or has usage to settle. */
  void list(TenantAdmission t) {
    listed.add(t);
  }

  /**
   * Takes an idle tenant that holds nothing off the settle timer's list, so that a node that has
   * served many tenants (10,000 and more) does not visit each of them twice a second: that walk
   * touched every tenant's objects and took milliseconds of the request threads' time per tick.
   * A request that races with this puts the tenant back: it writes its activity or usage before it
   * reads {@code listed}, and this writes {@code listed} before it reads them again.
   */
  private void unlist(TenantAdmission t) {
    long seen = t.lastActivityMillis;
    t.listed = false;
    listed.remove(t);
    if (t.listed || t.lastActivityMillis != seen || t.unsettled.sum() != 0 || t.slotsToReturn.get() > 0
        || t.heldSlots.get() > 0) {
      t.listed = true;
      listed.add(t);
    }
  }

  /**
   * False only when {@link #settle} would send nothing, found without allocating: the timer passes
   * over listed tenants that are idle until they can be unlisted, and {@code settle}'s work for
   * each of them allocates.
   */
  private boolean mayHaveWork(TenantAdmission t, long now) {
    if (t.unsettled.sum() != 0 || t.slotsToReturn.get() > 0
        || (t.heldSlots.get() > 0 && now - t.lastSettleMillis >= settings.leaseTtl().toMillis() / 3)) {
      return true;
    }
    if (now - t.lastActivityMillis < settings.idleReturn().toMillis()) {
      return false;
    }
    if (t.freeSlots.get() > 0) {
      return true;
    }
    for (int q = 0; q < t.leases.length(); q++) {
      TenantAdmission.Lease lease = t.leases.get(q);
      if (lease != null && lease.remaining.get() > 0) {
        return true;
      }
    }
    return false;
  }

  /** Settles one tenant soon because it passed the request-count trigger. */
  void settleSoon(TenantAdmission t) {
    settle(t, false);
  }

  /**
   * Returns everything this node holds and settles all usage; used by coordinated shutdown so a
   * leaving node hands its quota back. At most {@code settle-parallelism} settlements are in
   * flight: all of a node's tenants at once (10,000 and more) overflowed the journal's write queue,
   * and the failures opened the journal's circuit breaker, so most of them were lost. A tenant
   * whose settlement fails (the journal or the entity did not answer) is settled again every
   * settle-interval while a try can still end before {@code deadline}, so a short outage of the store
   * while the node leaves does not lose its unsettled usage.
   */
  public CompletionStage<Void> returnAll(Instant deadline) {
    TenantAdmission[] all = tenants.values().toArray(new TenantAdmission[0]);
    AtomicInteger next = new AtomicInteger();
    long lastTry = deadline.toEpochMilli() - askTimeout.toMillis(); // a try started later may outlast it
    CompletableFuture<?>[] lanes = new CompletableFuture<?>[Math.min(all.length, settings.settleParallelism())];
    for (int i = 0; i < lanes.length; i++) {
      lanes[i] = returnNext(all, next, lastTry);
    }
    return CompletableFuture.allOf(lanes);
  }

  /** Settles the tenants of {@code all} one after another, from a cursor shared with other lanes. */
  private CompletableFuture<Void> returnNext(TenantAdmission[] all, AtomicInteger next, long lastTry) {
    for (int i = next.getAndIncrement(); i < all.length; i = next.getAndIncrement()) {
      CompletableFuture<Void> returned = returnOne(all[i], lastTry);
      if (!returned.isDone()) { // wait for the reply before the next: no recursion for answers at hand
        return returned.thenCompose(v -> returnNext(all, next, lastTry));
      }
    }
    return CompletableFuture.completedFuture(null);
  }

  /**
   * Settles one tenant and returns its leases. When a settlement of the tenant is already in flight
   * (the timer's), it waits for that one and then settles again: the one in flight carries neither
   * the usage recorded after it was sent nor, unless the tenant was idle, the leases. When the
   * settlement fails its usage is still unsettled, and it is tried again after settle-interval,
   * unless that is after {@code lastTry} (epoch millis).
   */
  private CompletableFuture<Void> returnOne(TenantAdmission t, long lastTry) {
    t.lastActivityMillis = 0;
    while (true) {
      CompletableFuture<Void> running = t.settlement.get();
      if (running != null) {
        return running.handle((v, e) -> null).thenCompose(v -> returnOne(t, lastTry));
      }
      CompletionStage<Void> sent = settle(t, true);
      if (sent != NOT_SENT) { // else another settlement started between the two reads: wait for it
        return sent.toCompletableFuture().thenCompose(v -> {
          if (t.unsettled.sum() == 0 || clock.nowMillis() + settings.settleInterval().toMillis() > lastTry) {
            return CompletableFuture.completedFuture(null);
          }
          return Stages.after(system.classicSystem().scheduler(), settings.settleInterval(), system.executionContext())
              .thenCompose(x -> returnOne(t, lastTry));
        });
      }
    }
  }

  private CompletionStage<Void> settle(TenantAdmission t, boolean force) {
    CompletableFuture<Void> mine = new CompletableFuture<>();
    if (!t.settlement.compareAndSet(null, mine)) {
      return NOT_SENT;
    }
    long now = clock.nowMillis();
    boolean idle = now - t.lastActivityMillis >= settings.idleReturn().toMillis();
    long pending = t.unsettled.sumThenReset();
    Map<WindowKind, Long> windows = new EnumMap<>(WindowKind.class);
    Map<WindowKind, UsageCounters> used = new EnumMap<>(WindowKind.class);
    for (WindowKind k : WindowKind.values()) {
      TenantAdmission.WindowUsage u = t.usage.get(k.ordinal());
      if (u != null) {
        windows.put(k, u.window);
        used.put(k, u.snapshot());
      }
    }
    Map<Quantity, Long> returned = new EnumMap<>(Quantity.class);
    if (idle) {
      for (Quantity q : Quantity.values()) {
        TenantAdmission.Lease lease = t.leases.get(q.ordinal());
        if (lease == null || windows.getOrDefault(q.window(), lease.window) != lease.window) {
          continue;
        }
        long r = lease.remaining.getAndUpdate(v -> Math.min(v, 0));
        if (r > 0) {
          windows.put(q.window(), lease.window);
          returned.put(q, r);
        }
      }
    }
    long slotsReturned = t.slotsToReturn.getAndSet(0) + (idle ? t.takeFreeSlotsBack() : 0);
    t.heldSlots.addAndGet(-slotsReturned);
    // Held slots are kept alive by settling at least three times per lease period.
    boolean heartbeat = t.heldSlots.get() > 0 && now - t.lastSettleMillis >= settings.leaseTtl().toMillis() / 3;
    if (!force && pending == 0 && returned.isEmpty() && slotsReturned == 0 && !heartbeat) {
      t.settlement.set(null);
      mine.complete(null);
      return NOT_SENT;
    }
    Instant deadline = clock.now().plus(askTimeout);
    long seq = t.settleSeq.incrementAndGet();
    t.lastSettleMillis = now;
    metrics.settlement();
    long sent = System.nanoTime();
    CompletionStage<SettleReply> reply = sharding.entityRefFor(TenantEntity.ENTITY_KEY, t.tenantId)
        .ask(replyTo -> new TenantCommand.Settle(node, seq, deadline, Map.copyOf(windows), Map.copyOf(used),
            Map.copyOf(returned), slotsReturned, replyTo), askTimeout);
    return reply.handle((r, error) -> {
      if (r != null) {
        metrics.settled(System.nanoTime() - sent);
        t.confirmReturns(r.priorSeq() == null ? Long.MAX_VALUE : r.priorSeq()); // null: cannot tell
        if (!r.applied()) {
          t.restore(windows, returned, slotsReturned); // late, so never applied
        }
      } else if (!returned.isEmpty() || slotsReturned > 0) {
        t.unconfirmedReturn(seq, windows, returned, slotsReturned);
      }
      if (r != null && r.applied()) {
        t.renewed();
      } else {
        t.unsettled.add(Math.max(1, pending)); // usage is cumulative: the next settlement carries it
      }
      // After the usage is back: the timer does not unlist a tenant that is settling.
      t.settlement.set(null);
      mine.complete(null);
      return null;
    });
  }
}
