package io.sluice.node.admission;

import io.sluice.node.admission.TenantAdmission.Lease;
import io.sluice.persistence.Quantity;
import io.sluice.persistence.UsageCounters;
import io.sluice.persistence.WindowKind;
import java.util.ArrayList;
import java.util.Map;

/**
 * The settlement bookkeeping of a tenant on this node: the usage of finished requests, counted per
 * window until it is settled, and the leases and slots handed back in settlements, restored when the
 * entity did not apply them. It exists apart so that what is settled back changes in one place; its
 * state is the {@link TenantAdmission}'s (static methods, no object of its own).
 */
final class LeaseReturns {
  private static final WindowKind[] KINDS = WindowKind.values();

  private LeaseReturns() {}

  /** What one settlement handed back: unused lease amounts (of the given windows) and slots. */
  record Returned(long seq, Map<WindowKind, Long> windows, Map<Quantity, Long> amounts, long slots) {}

  /** Remembers the returns of settlement {@code seq}, which got no answer: applied or not is unknown. */
  static void unconfirmedReturn(TenantAdmission t, long seq, Map<WindowKind, Long> windows,
      Map<Quantity, Long> amounts, long slots) {
    if (t.unconfirmed == null) {
      t.unconfirmed = new ArrayList<>(2);
    }
    t.unconfirmed.add(new Returned(seq, windows, amounts, slots));
  }

  /**
   * Settles the fate of unanswered returns once a later settlement is answered: the entity's last
   * applied settlement before that one was {@code priorSeq}. One above it was never applied, and
   * the entity drops it if it still comes (its seq is older than one applied now, or its deadline
   * passed), so the node holds it again. One at or below it may have been applied and stays given
   * back: counted as spent until its window ends, the safe side.
   */
  static void confirmReturns(TenantAdmission t, long priorSeq) {
    if (t.unconfirmed == null) {
      return;
    }
    for (Returned r : t.unconfirmed) {
      if (r.seq() > priorSeq) {
        restore(t, r.windows(), r.amounts(), r.slots());
      }
    }
    t.unconfirmed = null;
  }

  /**
   * Takes back returns the entity did not apply: the amounts go back into the leases they came
   * from (unless the window has moved on, which ends them anyway) and the slots are held again;
   * an idle tenant returns them with its next settlement.
   */
  static void restore(TenantAdmission t, Map<WindowKind, Long> windows, Map<Quantity, Long> amounts, long slots) {
    amounts.forEach((q, amount) -> {
      Lease lease = t.leases.get(q.ordinal());
      Long window = windows.get(q.window());
      if (lease != null && window != null && lease.window == window) {
        lease.remaining.addAndGet(amount);
      }
    });
    if (slots > 0) {
      t.heldSlots.addAndGet(slots);
      t.slotsToReturn.addAndGet(slots);
    }
    t.touch();
  }

  /** A settlement was applied: the node's slots stay valid for another lease period. */
  static void renewed(TenantAdmission t) {
    t.slotsValidUntil = t.owner.clock().nowMillis() + t.owner.slotValidity().toMillis();
  }

  /** Counts a finished request in the usage of the windows it started in. */
  static void record(TenantAdmission t, long[] windows, UsageCounters actual) {
    for (WindowKind k : KINDS) {
      TenantAdmission.WindowUsage u = t.usage.get(k.ordinal());
      long w = windows[k.ordinal()];
      while (u == null || u.window < w) {
        TenantAdmission.WindowUsage fresh = new TenantAdmission.WindowUsage(w);
        if (t.usage.compareAndSet(k.ordinal(), u, fresh)) {
          u = fresh;
          break;
        }
        u = t.usage.get(k.ordinal());
      }
      if (u.window == w) {
        u.requests.add(actual.requests());
        u.prompt.add(actual.promptTokens());
        u.completion.add(actual.completionTokens());
        u.cost.add(actual.costNanos());
      }
    }
    t.unsettled.increment();
    t.touch();
    if (t.unsettled.sum() >= t.owner.settings().settleMaxRequests()) {
      t.owner.settleSoon(t);
    }
  }
}
