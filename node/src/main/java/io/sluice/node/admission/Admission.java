package io.sluice.node.admission;

import io.sluice.node.auth.KeySettings;
import io.sluice.node.auth.TenantView;
import io.sluice.node.metrics.GatewayMetrics;
import io.sluice.node.tenant.QuotaSettings;
import io.sluice.node.tenant.TenantCommand;
import io.sluice.node.tenant.TenantCommand.LeaseReply;
import io.sluice.node.tenant.TenantEntity;
import io.sluice.persistence.Quantity;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.typed.Cluster;

/**
 * Node-local admission: the front of the quota system on the request path. It holds one {@link
 * TenantAdmission} per tenant seen on this node, asks tenant entities for leases, and settles
 * usage back in batches (every settle interval, or after settle-max-requests of a tenant). In
 * steady state a request sends no message at all: messages per request are
 * {@code (acquires + settlements) / requests}, far below 1.
 *
 * <p>The settle timer's walk is {@link SettleTimer}, what a settlement sends {@link Settlements},
 * and the shutdown's return {@link ShutdownReturn}; the spend path does not pass through them.
 */
public final class Admission {
  private final ClusterSharding sharding;
  private final QuotaSettings settings;
  private final Duration askTimeout;
  private final WindowClock clock;
  private final String node;
  private final Duration slotValidity;
  private final ConcurrentHashMap<String, TenantAdmission> tenants = new ConcurrentHashMap<>();
  private final GatewayMetrics metrics;
  private final Settlements settlements;
  private final SettleTimer timer;
  private final ShutdownReturn shutdown;

  private final KeyLimiter keys;

  public Admission(ActorSystem<?> system, QuotaSettings settings, Duration askTimeout, InstantSource clock,
      GatewayMetrics metrics) {
    this(system, settings, askTimeout, clock, metrics, KeySettings.from(system.settings().config()));
  }

  /** @param keySettings how many keys with limits of their own this node counts ({@link KeyLimiter}) */
  public Admission(ActorSystem<?> system, QuotaSettings settings, Duration askTimeout, InstantSource clock,
      GatewayMetrics metrics, KeySettings keySettings) {
    this.metrics = metrics;
    this.sharding = ClusterSharding.get(system);
    this.settings = settings;
    this.askTimeout = askTimeout;
    this.clock = new WindowClock(clock);
    this.keys = new KeyLimiter(this.clock, keySettings.maxLimitedKeys());
    var self = Cluster.get(system).selfMember().uniqueAddress();
    this.node = self.address() + "#" + self.longUid();
    // A node stops using slots well before the entity would reclaim them.
    this.slotValidity = settings.leaseTtl().multipliedBy(4).dividedBy(5);
    this.settlements = new Settlements(sharding, settings, askTimeout, this.clock, node, metrics);
    this.timer = new SettleTimer(settings, this.clock, settlements);
    this.shutdown = new ShutdownReturn(tenants, settings, askTimeout, this.clock, settlements, system);
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
   * demand, else after the tenant entity granted more; fails with {@link QuotaExceeded}. A request
   * whose key has limits of its own passes them first ({@link KeyLimiter}), so a key never admits
   * what its tenant would not.
   */
  public CompletionStage<Ticket> admit(TenantView view, Demand demand) {
    TenantAdmission t = tenants.computeIfAbsent(view.tenantId(), id -> new TenantAdmission(id, this));
    t.sync(view.state());
    if (view.key() == null || view.key().limits() == null || !view.key().limits().limited()) {
      return t.admit(demand, 0);
    }
    KeyLimiter.Hold hold;
    try {
      hold = keys.reserve(view.tenantId(), view.key(), demand);
    } catch (QuotaExceeded e) {
      return CompletableFuture.failedFuture(e.withHeaders(t.rateLimitHeaders()));
    }
    return t.admit(demand, 0).whenComplete((ticket, error) -> {
      if (error != null) {
        hold.release();
      } else {
        ticket.keyHold(hold);
      }
    });
  }

  /** Follows a pushed change of a tenant (limits), so new limits apply on this node at once. */
  public void onChanged(TenantView view) {
    TenantAdmission t = tenants.get(view.tenantId());
    if (t != null) {
      t.sync(view.state());
    }
  }

  CompletionStage<LeaseReply> sendAcquire(TenantAdmission t, long seq, Map<Quantity, Long> needed,
      Map<Quantity, Long> wanted, long slotsNeeded, long slotsWanted, Instant at) {
    Instant now = at != null ? at : clock.now();
    Instant deadline = clock.now().plus(askTimeout);
    metrics.acquire();
    long sent = System.nanoTime();
    CompletionStage<LeaseReply> reply = sharding.entityRefFor(TenantEntity.ENTITY_KEY, t.tenantId)
        .ask(replyTo -> new TenantCommand.Acquire(node, seq, deadline, now, Map.copyOf(needed), Map.copyOf(wanted),
            slotsNeeded, slotsWanted, replyTo), askTimeout);
    reply.thenRun(() -> metrics.acquired(System.nanoTime() - sent));
    return reply;
  }

  /**
   * Called by the settle timer: settles the listed tenants that have something to settle, at most
   * {@code settle-tenants-per-interval} of them, in turns ({@link SettleTimer#settleAll}).
   */
  void settleAll() {
    timer.settleAll();
  }

  /** Whether the settle timer walks {@code tenantId} (for tests). */
  boolean isListed(String tenantId) {
    TenantAdmission t = tenants.get(tenantId);
    return t != null && timer.isListed(t);
  }

  /** The node's admission state of {@code tenantId}, or null before its first request (for tests). */
  TenantAdmission tenantAdmission(String tenantId) {
    return tenants.get(tenantId);
  }

  /** Puts a tenant on the settle timer's list: it has admitted a request or has usage to settle. */
  void list(TenantAdmission t) {
    timer.list(t);
  }

  /** Settles one tenant soon because it passed the request-count trigger. */
  void settleSoon(TenantAdmission t) {
    settlements.settle(t, false);
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
    return shutdown.returnAll(deadline);
  }
}
