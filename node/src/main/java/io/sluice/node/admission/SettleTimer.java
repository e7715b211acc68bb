package io.sluice.node.admission;

import io.sluice.node.tenant.QuotaSettings;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The settle timer's walk of {@link Admission}: the list of tenants that may have usage to settle
 * or quota to return, walked in turns every settle interval. It exists apart so that which tenants
 * are visited, and when, changes in one place, not with what a settlement sends ({@link
 * Settlements}).
 */
final class SettleTimer {
  private final QuotaSettings settings;
  private final WindowClock clock;
  private final Settlements settlements;
  /** The tenants the settle timer walks: those that may have usage to settle or quota to return. */
  private final Set<TenantAdmission> listed = ConcurrentHashMap.newKeySet();
  private int settleCursor; // only the settle timer touches it

  SettleTimer(QuotaSettings settings, WindowClock clock, Settlements settlements) {
    this.settings = settings;
    this.clock = clock;
    this.settlements = settlements;
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
        if (settlements.settle(t, false) != Settlements.NOT_SENT) {
          sent++;
        }
      } else if (now - t.lastActivityMillis >= settings.idleReturn().toMillis() && t.heldSlots.get() == 0
          && t.settlement.get() == null) {
        unlist(t);
      }
    }
    settleCursor = start + i;
  }

  /** Whether the settle timer walks {@code t}. */
  boolean isListed(TenantAdmission t) {
    return t.listed && listed.contains(t);
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
   * False only when {@link Settlements#settle} would send nothing, found without allocating: the
   * timer passes over listed tenants that are idle until they can be unlisted, and {@code settle}'s
   * work for each of them allocates.
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
}
