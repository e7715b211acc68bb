package io.sluice.persistence;

import io.sluice.persistence.TenantEvent.CircuitClosed;
import io.sluice.persistence.TenantEvent.CircuitOpened;
import io.sluice.persistence.TenantEvent.KeyExpirySet;
import io.sluice.persistence.TenantEvent.KeyIssued;
import io.sluice.persistence.TenantEvent.KeyRevoked;
import io.sluice.persistence.TenantEvent.LeaseGranted;
import io.sluice.persistence.TenantEvent.LimitsChanged;
import io.sluice.persistence.TenantEvent.LimitsPatched;
import io.sluice.persistence.TenantEvent.ModelsChanged;
import io.sluice.persistence.TenantEvent.TenantCreated;
import io.sluice.persistence.TenantEvent.TenantDisabled;
import io.sluice.persistence.TenantEvent.TenantImported;
import io.sluice.persistence.TenantEvent.RightsTransferred;
import io.sluice.persistence.TenantEvent.RightsWanted;
import io.sluice.persistence.TenantEvent.UsageSettled;
import io.sluice.persistence.TenantEvent.WindowRolled;
import java.time.Instant;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A tenant's durable state, rebuilt from {@link TenantEvent}s and stored as the snapshot.
 *
 * <p>{@link #apply} is the one pure event handler: it never reads a clock or does I/O, so replay
 * after a restart gives back exactly this state. {@code revision} counts applied events; nodes use
 * it to never let an older view of the tenant replace a newer one.
 *
 * <p>The quota part: {@code windows} holds the current window id per kind, {@code nodes} what
 * each node was granted and reported in those windows, {@code circuits} the tenant's circuit per
 * deployment. {@code rights} is the regional escrow ({@link RegionRights}), empty with a single
 * region. Snapshots written before these fields existed read back with them empty.
 *
 * @param tenantId  the tenant, or null before creation
 * @param models    allowed model names, or null for all models
 * @param keys      issued keys by key id, including revoked ones (for listing and audit)
 */
public record TenantState(
    String tenantId,
    boolean enabled,
    TenantLimits limits,
    List<String> models,
    Map<String, KeyRecord> keys,
    Instant createdAt,
    long revision,
    Map<WindowKind, Long> windows,
    Map<String, NodeShare> nodes,
    Map<String, CircuitState> circuits,
    RegionRights rights) implements CborSerializable {

  /**
   * One issued key: its id, its SHA-256 hash, when it was issued and, if so, revoked; when it
   * expires (null: never), the models it may use within the tenant's (null: all of them) and its
   * own rate limits within the tenant's (null: none). Records stored before the last three
   * existed read back with them null.
   */
  public record KeyRecord(String keyId, String keyHash, Instant createdAt, Instant revokedAt, Instant expiresAt,
      List<String> models, KeyLimits limits) implements CborSerializable {
    public KeyRecord {
      models = models == null ? null : List.copyOf(models);
    }

    /** A key without expiry, model list or limits of its own. */
    public KeyRecord(String keyId, String keyHash, Instant createdAt, Instant revokedAt) {
      this(keyId, keyHash, createdAt, revokedAt, null, null, null);
    }

    /** Not revoked. An unrevoked key may still have expired: see {@link #usableAt}. */
    public boolean active() {
      return revokedAt == null;
    }

    /** Neither revoked nor expired at {@code now}. */
    public boolean usableAt(Instant now) {
      return revokedAt == null && (expiresAt == null || now.isBefore(expiresAt));
    }

    public KeyRecord withRevokedAt(Instant at) {
      return new KeyRecord(keyId, keyHash, createdAt, at, expiresAt, models, limits);
    }

    /** This key with the earlier of its expiry and {@code at} (null keeps it). */
    public KeyRecord withExpiryAtMost(Instant at) {
      Instant next = earliest(expiresAt, at);
      return java.util.Objects.equals(next, expiresAt) ? this
          : new KeyRecord(keyId, keyHash, createdAt, revokedAt, next, models, limits);
    }

    /** The earlier of two expiries, null meaning never. */
    public static Instant earliest(Instant a, Instant b) {
      return a == null ? b : b == null ? a : a.isBefore(b) ? a : b;
    }
  }

  public TenantState {
    windows = windows == null ? Map.of() : windows;
    nodes = nodes == null ? Map.of() : nodes;
    circuits = circuits == null ? Map.of() : circuits;
    rights = rights == null ? RegionRights.EMPTY : rights;
  }

  /** A state without regional escrow rights, as one region has it. */
  public TenantState(String tenantId, boolean enabled, TenantLimits limits, List<String> models,
      Map<String, KeyRecord> keys, Instant createdAt, long revision, Map<WindowKind, Long> windows,
      Map<String, NodeShare> nodes, Map<String, CircuitState> circuits) {
    this(tenantId, enabled, limits, models, keys, createdAt, revision, windows, nodes, circuits, RegionRights.EMPTY);
  }

  /** The state of a tenant that was never created. */
  public static final TenantState EMPTY =
      new TenantState(null, false, TenantLimits.UNLIMITED, null, Map.of(), null, 0, Map.of(), Map.of(), Map.of(),
          RegionRights.EMPTY);

  public boolean exists() {
    return tenantId != null;
  }

  /** The current window id of {@code kind}, or -1 before any. */
  public long window(WindowKind kind) {
    return windows.getOrDefault(kind, -1L);
  }

  /** Returns the state after {@code event}. Pure. */
  public TenantState apply(TenantEvent event) {
    if (event instanceof TenantEvent.AdminActionRecorded) {
      return this; // the audit trail lives in the journal, not in the state
    }
    long rev = revision + 1;
    if (event instanceof TenantCreated e) {
      return new TenantState(e.tenantId(), true, e.limits(), copy(e.models()), Map.of(), e.at(), rev,
          windows, nodes, circuits, rights);
    } else if (event instanceof LimitsChanged e) {
      // Outstanding leases are revoked: every node's grants shrink to what it has used.
      return new TenantState(tenantId, enabled, e.limits(), models, keys, createdAt, rev, windows,
          revokeAll(), circuits, rights);
    } else if (event instanceof LimitsPatched e) {
      return new TenantState(tenantId, enabled, limits.overlay(e.limits()), models, keys, createdAt, rev, windows,
          revokeAll(), circuits, rights);
    } else if (event instanceof ModelsChanged e) {
      return with(rev, enabled, limits, copy(e.models()), keys);
    } else if (event instanceof TenantDisabled) {
      return with(rev, false, limits, models, keys);
    } else if (event instanceof KeyIssued e) {
      Map<String, KeyRecord> next = new LinkedHashMap<>(keys);
      next.put(e.keyId(), new KeyRecord(e.keyId(), e.keyHash(), e.at(), null, e.expiresAt(), e.models(), e.limits()));
      return with(rev, enabled, limits, models, Map.copyOf(next));
    } else if (event instanceof KeyExpirySet e) {
      KeyRecord old = keys.get(e.keyId());
      if (old == null) {
        return with(rev, enabled, limits, models, keys);
      }
      Map<String, KeyRecord> next = new LinkedHashMap<>(keys);
      next.put(e.keyId(), old.withExpiryAtMost(e.expiresAt()));
      return with(rev, enabled, limits, models, Map.copyOf(next));
    } else if (event instanceof KeyRevoked e) {
      KeyRecord old = keys.get(e.keyId());
      if (old == null || !old.active()) {
        return with(rev, enabled, limits, models, keys);
      }
      Map<String, KeyRecord> next = new LinkedHashMap<>(keys);
      next.put(e.keyId(), old.withRevokedAt(e.at()));
      return with(rev, enabled, limits, models, Map.copyOf(next));
    } else if (event instanceof LeaseGranted e) {
      return withNodes(rev, applyGrant(e));
    } else if (event instanceof UsageSettled e) {
      return withNodes(rev, applySettle(e));
    } else if (event instanceof WindowRolled e) {
      return applyRoll(rev, e);
    } else if (event instanceof CircuitOpened e) {
      Map<String, CircuitState> next = new LinkedHashMap<>(circuits);
      next.put(e.deployment(), new CircuitState(true, e.openUntil(), e.status(), e.error()));
      return new TenantState(tenantId, enabled, limits, models, keys, createdAt, rev, windows, nodes, Map.copyOf(next), rights);
    } else if (event instanceof RightsWanted e) {
      return withRights(rev, current(e.pool(), e.windowId()) ? rights.apply(e) : rights);
    } else if (event instanceof RightsTransferred e) {
      return withRights(rev, current(e.pool(), e.windowId()) ? rights.apply(e) : rights);
    } else if (event instanceof TenantImported e) {
      return imported(rev, e);
    } else if (event instanceof CircuitClosed e) {
      Map<String, CircuitState> next = new LinkedHashMap<>(circuits);
      next.remove(e.deployment());
      return new TenantState(tenantId, enabled, limits, models, keys, createdAt, rev, windows, nodes, Map.copyOf(next), rights);
    }
    throw new IllegalArgumentException("unknown event " + event.getClass().getName());
  }

  private TenantState with(long rev, boolean enabled, TenantLimits limits, List<String> models, Map<String, KeyRecord> keys) {
    return new TenantState(tenantId, enabled, limits, models, keys, createdAt, rev, windows, nodes, circuits, rights);
  }

  /** The node share an import's usage is held under until its windows end. */
  public static final String IMPORTED = "imported-from-single-region";

  /**
   * The imported settings and keys; the imported usage as what {@link #IMPORTED} used, in the
   * imported windows (when this state has no windows yet), expiring at once: it counts against
   * the limits, also after a limits change revokes leases, until those windows roll.
   */
  private TenantState imported(long rev, TenantImported e) {
    Map<String, KeyRecord> nextKeys = new LinkedHashMap<>(keys);
    for (KeyRecord k : e.keys()) {
      nextKeys.putIfAbsent(k.keyId(), k);
    }
    Map<WindowKind, Long> nextWindows = windows;
    Map<String, NodeShare> nextNodes = nodes;
    if (windows.isEmpty() && !e.windows().isEmpty()) {
      nextWindows = Map.copyOf(e.windows());
      Map<WindowKind, UsageCounters> used = usedOf(e.committed());
      if (!used.isEmpty()) {
        Map<String, NodeShare> n = new LinkedHashMap<>(nodes);
        n.put(IMPORTED, new NodeShare(Map.of(), used, 0, e.at(), 0, 0));
        nextNodes = Map.copyOf(n);
      }
    }
    return new TenantState(e.tenantId(), e.enabled(), e.limits(), copy(e.models()), Map.copyOf(nextKeys),
        e.createdAt(), rev, nextWindows, nextNodes, circuits, rights);
  }

  /** Usage counters per window kind that {@link Quantity#of} reads back as {@code committed}. */
  private static Map<WindowKind, UsageCounters> usedOf(Map<Quantity, Long> committed) {
    long rpm = committed.getOrDefault(Quantity.REQUESTS_PER_MINUTE, 0L);
    long tpm = committed.getOrDefault(Quantity.TOKENS_PER_MINUTE, 0L);
    long tpd = committed.getOrDefault(Quantity.TOKENS_PER_DAY, 0L);
    long spd = committed.getOrDefault(Quantity.SPEND_PER_DAY, 0L);
    long spm = committed.getOrDefault(Quantity.SPEND_PER_MONTH, 0L);
    Map<WindowKind, UsageCounters> used = new EnumMap<>(WindowKind.class);
    if (rpm > 0 || tpm > 0) used.put(WindowKind.MINUTE, new UsageCounters(rpm, tpm, 0, 0));
    if (tpd > 0 || spd > 0) used.put(WindowKind.DAY, new UsageCounters(0, tpd, 0, spd));
    if (spm > 0) used.put(WindowKind.MONTH, new UsageCounters(0, 0, 0, spm));
    return Map.copyOf(used);
  }

  private TenantState withRights(long rev, RegionRights rights) {
    return new TenantState(tenantId, enabled, limits, models, keys, createdAt, rev, windows, nodes, circuits, rights);
  }

  /**
   * Whether an escrow event's window has not ended here: one that has is dropped, as {@link
   * RegionRights#prune} dropped its entries, so late delivery and pruning commute.
   */
  private boolean current(RightsPool pool, long windowId) {
    return pool.window() == null || windowId >= window(pool.window());
  }

  private TenantState withNodes(long rev, Map<String, NodeShare> nodes) {
    return new TenantState(tenantId, enabled, limits, models, keys, createdAt, rev, windows, nodes, circuits, rights);
  }

  private Map<String, NodeShare> applyGrant(LeaseGranted e) {
    NodeShare s = nodes.getOrDefault(e.node(), NodeShare.EMPTY);
    Map<Quantity, Long> granted = new EnumMap<>(Quantity.class);
    granted.putAll(s.granted());
    e.amounts().forEach((q, amount) -> {
      if (e.windows().getOrDefault(q.window(), -1L) == window(q.window())) {
        granted.merge(q, amount, Long::sum);
      }
    });
    NodeShare next = new NodeShare(Map.copyOf(granted), s.used(), s.slots() + e.slots(),
        later(s.expiresAt(), e.expiresAt()), Math.max(s.lastAcquireSeq(), e.seq()), s.lastSettleSeq());
    return put(e.node(), next);
  }

  private Map<String, NodeShare> applySettle(UsageSettled e) {
    NodeShare s = nodes.getOrDefault(e.node(), NodeShare.EMPTY);
    Map<WindowKind, UsageCounters> used = new EnumMap<>(WindowKind.class);
    used.putAll(s.used());
    e.used().forEach((kind, counters) -> {
      if (e.windows().getOrDefault(kind, -1L) == window(kind)) {
        used.merge(kind, counters, UsageCounters::max);
      }
    });
    Map<Quantity, Long> granted = new EnumMap<>(Quantity.class);
    granted.putAll(s.granted());
    e.returned().forEach((q, amount) -> {
      if (e.windows().getOrDefault(q.window(), -1L) == window(q.window())) {
        granted.computeIfPresent(q, (k, g) -> Math.max(0, g - amount));
      }
    });
    NodeShare next = new NodeShare(Map.copyOf(granted), Map.copyOf(used), Math.max(0, s.slots() - e.slotsReturned()),
        later(s.expiresAt(), e.expiresAt()), s.lastAcquireSeq(), Math.max(s.lastSettleSeq(), e.seq()));
    return put(e.node(), next);
  }

  private TenantState applyRoll(long rev, WindowRolled e) {
    Map<WindowKind, Long> nextWindows = new EnumMap<>(WindowKind.class);
    nextWindows.putAll(windows);
    nextWindows.put(e.kind(), e.windowId());
    Map<String, NodeShare> nextNodes = new LinkedHashMap<>();
    nodes.forEach((node, s) -> {
      Map<Quantity, Long> granted = new EnumMap<>(Quantity.class);
      s.granted().forEach((q, g) -> {
        if (q.window() != e.kind()) granted.put(q, g);
      });
      Map<WindowKind, UsageCounters> used = new EnumMap<>(WindowKind.class);
      s.used().forEach((k, u) -> {
        if (k != e.kind()) used.put(k, u);
      });
      boolean expired = !e.at().isBefore(s.expiresAt());
      // An expired node's slots are free again, so they do not keep it in the state.
      boolean empty = granted.isEmpty() && used.isEmpty();
      if (!(expired && empty)) {
        nextNodes.put(node, new NodeShare(Map.copyOf(granted), Map.copyOf(used), s.slots(), s.expiresAt(),
            s.lastAcquireSeq(), s.lastSettleSeq()));
      }
    });
    return new TenantState(tenantId, enabled, limits, models, keys, createdAt, rev, Map.copyOf(nextWindows),
        Map.copyOf(nextNodes), circuits, rights.prune(e.kind(), e.windowId()));
  }

  /** Each node keeps what it used; the unused part of its grants goes back. */
  private Map<String, NodeShare> revokeAll() {
    Map<String, NodeShare> next = new LinkedHashMap<>();
    nodes.forEach((node, s) -> {
      Map<Quantity, Long> granted = new EnumMap<>(Quantity.class);
      s.granted().forEach((q, g) -> granted.put(q, Math.min(g, q.of(s.used(q.window())))));
      next.put(node, new NodeShare(Map.copyOf(granted), s.used(), s.slots(), s.expiresAt(),
          s.lastAcquireSeq(), s.lastSettleSeq()));
    });
    return Map.copyOf(next);
  }

  private Map<String, NodeShare> put(String node, NodeShare share) {
    Map<String, NodeShare> next = new LinkedHashMap<>(nodes);
    next.put(node, share);
    return Map.copyOf(next);
  }

  private static Instant later(Instant a, Instant b) {
    return a.isAfter(b) ? a : b;
  }

  private static List<String> copy(List<String> models) {
    return models == null ? null : List.copyOf(models);
  }
}
