package io.sluice.node.admission;

import io.sluice.node.metrics.GatewayMetrics;
import io.sluice.node.tenant.QuotaSettings;
import io.sluice.node.tenant.TenantCommand;
import io.sluice.node.tenant.TenantCommand.SettleReply;
import io.sluice.node.tenant.TenantEntity;
import io.sluice.persistence.Quantity;
import io.sluice.persistence.UsageCounters;
import io.sluice.persistence.WindowKind;
import java.time.Duration;
import java.time.Instant;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;

/**
 * The settlements of {@link Admission}: one tenant's usage, and its idle leases and slots, sent to
 * its entity, one settlement in flight per tenant, and the reply's bookkeeping. It exists apart so
 * that what a settlement carries changes in one place, not with when it is sent ({@link
 * SettleTimer}, {@link ShutdownReturn}).
 */
final class Settlements {
  /** What {@link #settle} returns when there was nothing to send. */
  static final CompletableFuture<Void> NOT_SENT = CompletableFuture.completedFuture(null);

  private final ClusterSharding sharding;
  private final QuotaSettings settings;
  private final Duration askTimeout;
  private final WindowClock clock;
  private final String node;
  private final GatewayMetrics metrics;

  Settlements(ClusterSharding sharding, QuotaSettings settings, Duration askTimeout, WindowClock clock, String node,
      GatewayMetrics metrics) {
    this.sharding = sharding;
    this.settings = settings;
    this.askTimeout = askTimeout;
    this.clock = clock;
    this.node = node;
    this.metrics = metrics;
  }

  /**
   * Sends {@code t}'s usage and the slots it gives up, and when it is idle its leases and free
   * slots, to its entity, unless a settlement of it is in flight or there is nothing to send
   * ({@link #NOT_SENT} then). Forced, it sends even with nothing to send.
   */
  CompletionStage<Void> settle(TenantAdmission t, boolean force) {
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
