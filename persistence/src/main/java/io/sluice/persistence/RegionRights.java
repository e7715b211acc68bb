package io.sluice.persistence;

import io.sluice.persistence.TenantEvent.RightsTransferred;
import io.sluice.persistence.TenantEvent.RightsWanted;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * The replicated part of the regional escrow: every transfer of rights between regions and every
 * region's latest request for rights, per pool and window. Pure and stored in the snapshot.
 *
 * <p>It is a state-based CRDT, so replicas that saw the same events in any order, any number of
 * times, hold equal values: a transfer entry is the cumulative total that {@code from} ever moved
 * to {@code to} in that pool and window, written only by {@code from} and merged by maximum; a
 * want is per asking region, written only by that region and merged by highest {@code seq}. A
 * region therefore knows its own outgoing transfers exactly and sees incoming ones late or not at
 * all, never more than were made: its view of its own rights is at most its true rights.
 *
 * <p>Entries of a window that has ended are dropped by {@link #prune}; an event for such a
 * window is dropped by the caller, so pruning and late delivery commute.
 */
public record RegionRights(List<Transfer> transfers, List<Want> wants) implements CborSerializable {

  /**
   * What {@code from} moved to {@code to} in one pool and window, in total, and the highest seq
   * of {@code to}'s wants there that {@code from} has answered.
   */
  public record Transfer(RightsPool pool, long windowId, String from, String to, long total, long answeredSeq)
      implements CborSerializable {}

  /** {@code region}'s latest request for {@code amount} more rights in a pool and window. */
  public record Want(RightsPool pool, long windowId, String region, long seq, long amount, Instant at)
      implements CborSerializable {}

  public static final RegionRights EMPTY = new RegionRights(List.of(), List.of());

  private static final Comparator<Transfer> TRANSFER_ORDER = Comparator.comparing(Transfer::pool)
      .thenComparingLong(Transfer::windowId).thenComparing(Transfer::from).thenComparing(Transfer::to);
  private static final Comparator<Want> WANT_ORDER = Comparator.comparing(Want::pool)
      .thenComparingLong(Want::windowId).thenComparing(Want::region);

  /** Entries are kept sorted by key, so equal contents are equal values whatever the merge order. */
  public RegionRights {
    transfers = transfers == null ? List.of() : sorted(transfers, TRANSFER_ORDER);
    wants = wants == null ? List.of() : sorted(wants, WANT_ORDER);
  }

  private static <T> List<T> sorted(List<T> in, Comparator<T> order) {
    List<T> out = new ArrayList<>(in);
    out.sort(order);
    return List.copyOf(out);
  }

  /** The entry for {@code from -> to}, or null. */
  public Transfer transfer(RightsPool pool, long windowId, String from, String to) {
    for (Transfer t : transfers) {
      if (t.pool() == pool && t.windowId() == windowId && t.from().equals(from) && t.to().equals(to)) {
        return t;
      }
    }
    return null;
  }

  /** What {@code from} moved to {@code to} in total, as far as this replica knows. */
  public long transferred(RightsPool pool, long windowId, String from, String to) {
    Transfer t = transfer(pool, windowId, from, to);
    return t == null ? 0 : t.total();
  }

  /** What {@code region} received from all others, as far as this replica knows. */
  public long incoming(RightsPool pool, long windowId, String region) {
    long sum = 0;
    for (Transfer t : transfers) {
      if (t.pool() == pool && t.windowId() == windowId && t.to().equals(region)) {
        sum += t.total();
      }
    }
    return sum;
  }

  /** What {@code region} gave to all others, as far as this replica knows (exact for itself). */
  public long outgoing(RightsPool pool, long windowId, String region) {
    long sum = 0;
    for (Transfer t : transfers) {
      if (t.pool() == pool && t.windowId() == windowId && t.from().equals(region)) {
        sum += t.total();
      }
    }
    return sum;
  }

  /** {@code region}'s latest want in the pool and window, or null. */
  public Want want(RightsPool pool, long windowId, String region) {
    for (Want w : wants) {
      if (w.pool() == pool && w.windowId() == windowId && w.region().equals(region)) {
        return w;
      }
    }
    return null;
  }

  /** Merges a want: the one with the higher seq stays, so a repeat or an older one changes nothing. */
  public RegionRights apply(RightsWanted e) {
    Want old = want(e.pool(), e.windowId(), e.region());
    if (old != null && old.seq() >= e.seq()) {
      return this;
    }
    List<Want> next = new ArrayList<>(wants.size() + 1);
    for (Want w : wants) {
      if (w != old) {
        next.add(w);
      }
    }
    next.add(new Want(e.pool(), e.windowId(), e.region(), e.seq(), e.amount(), e.at()));
    return new RegionRights(transfers, next);
  }

  /** Merges a transfer by maximum total and answered seq: repeats and reorderings change nothing. */
  public RegionRights apply(RightsTransferred e) {
    Transfer old = transfer(e.pool(), e.windowId(), e.from(), e.to());
    if (old != null && old.total() >= e.total() && old.answeredSeq() >= e.answeredSeq()) {
      return this;
    }
    Transfer merged = old == null
        ? new Transfer(e.pool(), e.windowId(), e.from(), e.to(), e.total(), e.answeredSeq())
        : new Transfer(e.pool(), e.windowId(), e.from(), e.to(), Math.max(old.total(), e.total()),
            Math.max(old.answeredSeq(), e.answeredSeq()));
    List<Transfer> next = new ArrayList<>(transfers.size() + 1);
    for (Transfer t : transfers) {
      if (t != old) {
        next.add(t);
      }
    }
    next.add(merged);
    return new RegionRights(next, wants);
  }

  /** Drops every entry of a pool of {@code kind} in a window before {@code current}. */
  public RegionRights prune(WindowKind kind, long current) {
    List<Transfer> t = new ArrayList<>(transfers.size());
    for (Transfer x : transfers) {
      if (!(x.pool().window() == kind && x.windowId() < current)) {
        t.add(x);
      }
    }
    List<Want> w = new ArrayList<>(wants.size());
    for (Want x : wants) {
      if (!(x.pool().window() == kind && x.windowId() < current)) {
        w.add(x);
      }
    }
    if (t.size() == transfers.size() && w.size() == wants.size()) {
      return this;
    }
    return new RegionRights(t, w);
  }
}
