package io.sluice.node.admission;

import io.sluice.node.tenant.QuotaSettings;
import io.sluice.node.util.Stages;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.actor.typed.ActorSystem;

/**
 * A leaving node's return of everything it holds, in bounded lanes, retried until its deadline. It
 * exists apart from {@link Admission} so that how shutdown hands quota back changes in one place.
 */
final class ShutdownReturn {
  private final Map<String, TenantAdmission> tenants;
  private final QuotaSettings settings;
  private final Duration askTimeout;
  private final WindowClock clock;
  private final Settlements settlements;
  private final ActorSystem<?> system;

  ShutdownReturn(Map<String, TenantAdmission> tenants, QuotaSettings settings, Duration askTimeout, WindowClock clock,
      Settlements settlements, ActorSystem<?> system) {
    this.tenants = tenants;
    this.settings = settings;
    this.askTimeout = askTimeout;
    this.clock = clock;
    this.settlements = settlements;
    this.system = system;
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
  CompletionStage<Void> returnAll(Instant deadline) {
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
      CompletionStage<Void> sent = settlements.settle(t, true);
      if (sent != Settlements.NOT_SENT) { // else another settlement started between the two reads: wait for it
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
}
