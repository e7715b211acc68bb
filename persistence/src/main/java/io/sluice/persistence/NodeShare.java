package io.sluice.persistence;

import java.time.Instant;
import java.util.Map;

/**
 * What one node holds of a tenant's quota in the current windows: the amounts granted to it per
 * quantity, the usage it reported per window kind (cumulative), its concurrency slots, and when
 * its lease expires. The node counts against each limit with {@code max(used, granted)}: the
 * unreturned part of a lease counts as spent until the node returns it, which is what makes a
 * crashed node err towards under-admission.
 *
 * @param lastAcquireSeq the node's last applied acquire; older or repeated ones are dropped
 * @param lastSettleSeq the node's last applied settlement; older or repeated ones are dropped
 */
public record NodeShare(
    Map<Quantity, Long> granted,
    Map<WindowKind, UsageCounters> used,
    long slots,
    Instant expiresAt,
    long lastAcquireSeq,
    long lastSettleSeq) implements CborSerializable {

  public static final NodeShare EMPTY = new NodeShare(Map.of(), Map.of(), 0, Instant.EPOCH, 0, 0);

  public long granted(Quantity q) {
    return granted.getOrDefault(q, 0L);
  }

  public UsageCounters used(WindowKind kind) {
    return used.getOrDefault(kind, UsageCounters.ZERO);
  }

  /** What this node counts against the limit of {@code q}. */
  public long committed(Quantity q) {
    return Math.max(q.of(used(q.window())), granted(q));
  }

  public boolean live(Instant now) {
    return now.isBefore(expiresAt);
  }
}
