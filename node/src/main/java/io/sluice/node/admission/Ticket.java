package io.sluice.node.admission;

import io.sluice.persistence.Quantity;
import io.sluice.persistence.UsageCounters;
import io.sluice.persistence.WindowKind;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.pekko.http.javadsl.model.HttpHeader;

/**
 * An admitted request's reservation. {@link #finish} replaces the reserved estimate with the
 * actual usage, exactly once, whether the request succeeded, failed or its client went away, and
 * gives back the concurrency slot.
 */
public final class Ticket {
  private static final Quantity[] QUANTITIES = Quantity.values();

  private final TenantAdmission tenant;
  private final TenantAdmission.Lease[] held;
  private final long[] reserved;
  private final boolean slot;
  private final long slotEpoch;
  private final long[] windows;
  private final Demand demand;
  private final WindowClock clock;
  private final AtomicBoolean done = new AtomicBoolean();
  /** The request's reservation from its key's own limits, or null; set before the ticket is handed out. */
  private volatile KeyLimiter.Hold keyHold;

  Ticket(TenantAdmission tenant, TenantAdmission.Lease[] held, long[] reserved, boolean slot, WindowClock clock,
      Demand demand) {
    this.tenant = tenant;
    this.held = held;
    this.reserved = reserved;
    this.slot = slot;
    this.slotEpoch = tenant.slotEpoch.get();
    this.clock = clock;
    this.demand = demand;
    this.windows = new long[WindowKind.values().length];
    for (WindowKind k : WindowKind.values()) {
      windows[k.ordinal()] = clock.current(k);
    }
  }

  void keyHold(KeyLimiter.Hold hold) {
    this.keyHold = hold;
  }

  public Demand demand() {
    return demand;
  }

  /** Settles the request with its actual usage and returns true; later calls do nothing and return false. */
  public boolean finish(UsageCounters actual) {
    if (!done.compareAndSet(false, true)) {
      return false;
    }
    for (int i = 0; i < held.length; i++) {
      TenantAdmission.Lease lease = held[i];
      if (lease != null && tenant.leases.get(i) == lease) {
        // Give back what the estimate over-reserved, or take what it under-reserved.
        lease.remaining.addAndGet(reserved[i] - QUANTITIES[i].of(actual));
      }
    }
    if (slot) {
      if (tenant.slotEpoch.get() == slotEpoch) {
        tenant.freeSlots.incrementAndGet();
      } else {
        tenant.slotsToReturn.incrementAndGet();
      }
    }
    tenant.record(windows, actual);
    KeyLimiter.Hold k = keyHold;
    if (k != null) {
      k.settle(actual.tokens());
    }
    return true;
  }

  public boolean finished() {
    return done.get();
  }

  /** OpenAI's x-ratelimit-* headers for the tenant's per-minute limits, as they stand now. */
  public List<HttpHeader> rateLimitHeaders() {
    return tenant.rateLimitHeaders();
  }
}
