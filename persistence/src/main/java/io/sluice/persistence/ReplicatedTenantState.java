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
import io.sluice.persistence.TenantEvent.RightsTransferred;
import io.sluice.persistence.TenantEvent.RightsWanted;
import io.sluice.persistence.TenantEvent.TenantCreated;
import io.sluice.persistence.TenantEvent.TenantDisabled;
import io.sluice.persistence.TenantEvent.TenantImported;
import io.sluice.persistence.TenantEvent.UsageSettled;
import io.sluice.persistence.TenantEvent.WindowRolled;
import java.math.BigDecimal;
import java.time.Instant;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One region's replica of a tenant under Replicated Event Sourcing, and its one pure event
 * handler: every replica applies the events of every region, in an order that differs per
 * replica, and replicas that applied the same events hold the same replicated part.
 *
 * <ul>
 *   <li><b>Limits (per field), models and the enabled flag</b> are last-writer-wins registers,
 *       each with the {@link Stamp} (event time, origin region) of its last write: a write older
 *       than the register's stamp is dropped. Enabled is two such registers, the latest create
 *       and the latest disable; the tenant is enabled while the create is later, so a disable
 *       wins a tie.</li>
 *   <li><b>Keys</b> are a two-phase set: a revocation is a permanent tombstone in {@code
 *       revoked}, kept also when it arrives before its issue, so a revoked key never comes back.
 *       A key's expiry (set at issue, brought forward by a rotation) is the earliest it was ever
 *       given ({@code expiries}), so it too merges in any order.</li>
 *   <li><b>Quota and circuits</b> (leases, settlements, window rolls, circuit changes) belong to
 *       the region that wrote them: only this region's own events change {@code tenant}'s nodes
 *       and windows, and its circuits under the deployment's name. The escrow events merge from
 *       every region ({@link RegionRights}).</li>
 *   <li><b>Other regions' quota and circuits</b> are kept for reading only, never counted against
 *       this region's rights: each other region's leases, settlements and rolls in {@code
 *       others} (its part of the tenant's usage), and its circuits in {@code tenant}'s circuits
 *       under {@link CircuitState#regionKey} (so nodes honour them for {@code shared}
 *       deployments). Each region's events arrive in its own order, so these equal that region's
 *       own view once its events are in.</li>
 * </ul>
 * {@code seen} names the regions whose events this replica has applied (itself included): the
 * entity takes no snapshot until it holds every region, because Pekko 1.7.0 crash-loops on
 * recovering a snapshot that lacks a replica (apache/pekko PR #2372, fixed in 2.0.0-M1). Nothing
 * here relies on Pekko's version vectors ({@code concurrent()}), which replay does not merge.
 *
 * @param tenant what the region serves from: the merged settings and keys, its own quota
 * @param stamps register name ({@code enabled}, {@code models}, {@code limits.<field>}) to its stamp
 * @param revoked key id to when it was revoked, forever
 * @param imports the regions that imported the tenant from the single-region journal
 * @param expiries key id to the earliest expiry any {@link KeyExpirySet} gave it, kept also when
 *     it arrives before the key's issue, so a key's expiry is the earliest of all it was given
 *     whatever the order (snapshots written before this field existed read back with it empty)
 * @param others per other region, its quota part as its events arrived here: only the windows
 *     and nodes of each {@link TenantState} are kept (empty in a snapshot of an older version,
 *     until those regions settle again)
 */
public record ReplicatedTenantState(
    TenantState tenant,
    Map<String, Stamp> stamps,
    Map<String, Instant> revoked,
    Set<String> seen,
    Set<String> imports,
    Map<String, Instant> expiries,
    Map<String, TenantState> others) implements CborSerializable {

  /** A last-writer-wins stamp: the write's time, and its region to break ties the same way everywhere. */
  public record Stamp(long millis, String region) implements CborSerializable {
    /** Whether a write with this stamp replaces one with {@code other} (null: nothing written yet). */
    public boolean after(Stamp other) {
      return other == null || millis > other.millis
          || (millis == other.millis && region.compareTo(other.region) > 0);
    }
  }

  /** The latest create (or import) and the latest disable: enabled while the create is later, so a disable wins a tie. */
  static final String ENABLED = "enabled";
  static final String DISABLED = "disabled";
  static final String MODELS = "models";
  static final List<String> LIMIT_FIELDS = List.of("requests_per_minute", "tokens_per_minute", "tokens_per_day",
      "spend_usd_per_day", "spend_usd_per_month", "max_concurrent_requests");

  public static final ReplicatedTenantState EMPTY =
      new ReplicatedTenantState(TenantState.EMPTY, Map.of(), Map.of(), Set.of(), Set.of(), Map.of(), Map.of());

  public ReplicatedTenantState {
    tenant = tenant == null ? TenantState.EMPTY : tenant;
    stamps = stamps == null ? Map.of() : Map.copyOf(stamps);
    revoked = revoked == null ? Map.of() : Map.copyOf(revoked);
    seen = seen == null ? Set.of() : Set.copyOf(seen);
    imports = imports == null ? Set.of() : Set.copyOf(imports);
    expiries = expiries == null ? Map.of() : Map.copyOf(expiries);
    others = others == null ? Map.of() : Map.copyOf(others);
  }

  /**
   * A state without other regions' quota (what {@link #apply}'s merge returns; {@code apply}
   * carries {@code others} over).
   */
  public ReplicatedTenantState(TenantState tenant, Map<String, Stamp> stamps, Map<String, Instant> revoked,
      Set<String> seen, Set<String> imports, Map<String, Instant> expiries) {
    this(tenant, stamps, revoked, seen, imports, expiries, Map.of());
  }

  /** A state without key expiries and other regions' quota, as one written before either existed. */
  public ReplicatedTenantState(TenantState tenant, Map<String, Stamp> stamps, Map<String, Instant> revoked,
      Set<String> seen, Set<String> imports) {
    this(tenant, stamps, revoked, seen, imports, Map.of(), Map.of());
  }

  /** Region {@code region}'s quota part as this replica knows it: windows and nodes; {@link TenantState#EMPTY} if none. */
  public TenantState quotaOf(String region, String self) {
    return region.equals(self) ? tenant : others.getOrDefault(region, TenantState.EMPTY);
  }


  /** The stamp a new write of {@code register} by {@code region} at {@code millis} gets: later than the register's. */
  public Stamp nextStamp(String register, long millis, String region) {
    Stamp current = stamps.get(register);
    long at = current == null ? millis : Math.max(millis, current.millis() + 1);
    return new Stamp(at, region);
  }

  /** The latest stamp of any settings register: a new settings write is stamped after it. */
  public long latestMillis() {
    long max = Long.MIN_VALUE;
    for (Stamp s : stamps.values()) {
      max = Math.max(max, s.millis());
    }
    return max;
  }

  /** Whether this replica has applied events of every one of {@code regions}. */
  public boolean heardFromAll(Set<String> regions) {
    return seen.containsAll(regions);
  }

  /** Returns the state after {@code event}, written by region {@code origin}, at the replica of region {@code self}. Pure. */
  public ReplicatedTenantState apply(TenantEvent event, String origin, String self) {
    ReplicatedTenantState next = merged(event, origin, self);
    Map<String, TenantState> nextOthers = others;
    if (!origin.equals(self) && (event instanceof LeaseGranted || event instanceof UsageSettled
        || event instanceof WindowRolled || event instanceof TenantImported)) {
      Map<String, TenantState> o = new LinkedHashMap<>(others);
      TenantState t = others.getOrDefault(origin, TenantState.EMPTY).apply(event);
      o.put(origin, new TenantState(null, false, TenantLimits.UNLIMITED, null, Map.of(), null, 0, t.windows(),
          t.nodes(), Map.of(), RegionRights.EMPTY)); // its quota part only
      nextOthers = o;
    }
    return new ReplicatedTenantState(next.tenant, next.stamps, next.revoked, next.seen, next.imports, next.expiries,
        nextOthers);
  }

  /** {@link #apply} without {@code others}, which the result does not carry. */
  private ReplicatedTenantState merged(TenantEvent event, String origin, String self) {
    Set<String> nextSeen = seen;
    if (!seen.contains(origin)) {
      Set<String> s = new HashSet<>(seen);
      s.add(origin);
      nextSeen = s;
    }
    Stamp stamp = new Stamp(event.at().toEpochMilli(), origin);
    if (event instanceof TenantEvent.AdminActionRecorded) {
      return skip(nextSeen); // the audit trail changes no state
    }
    if (event instanceof TenantCreated e) {
      return created(e, stamp, nextSeen);
    } else if (event instanceof LimitsChanged e) {
      return limits(e.limits(), true, stamp, e.at(), nextSeen);
    } else if (event instanceof LimitsPatched e) {
      return limits(e.limits(), false, stamp, e.at(), nextSeen);
    } else if (event instanceof ModelsChanged e) {
      if (!stamp.after(stamps.get(MODELS))) {
        return skip(nextSeen);
      }
      return new ReplicatedTenantState(tenant.apply(e), with(stamps, MODELS, stamp), revoked, nextSeen, imports, expiries);
    } else if (event instanceof TenantDisabled e) {
      Map<String, Stamp> next = join(stamps, DISABLED, stamp);
      return new ReplicatedTenantState(withEnabled(tenant, enabled(next), 1), next, revoked, nextSeen, imports, expiries);
    } else if (event instanceof KeyIssued e) {
      if (tenant.keys().containsKey(e.keyId())) {
        return skip(nextSeen); // never overwrite a key record
      }
      Instant revokedAt = revoked.get(e.keyId());
      TenantState.KeyRecord key = new TenantState.KeyRecord(e.keyId(), e.keyHash(), e.at(), revokedAt,
          TenantState.KeyRecord.earliest(e.expiresAt(), expiries.get(e.keyId())), e.models(), e.limits());
      Map<String, TenantState.KeyRecord> keys = new LinkedHashMap<>(tenant.keys());
      keys.put(e.keyId(), key);
      TenantState t = new TenantState(tenant.tenantId(), tenant.enabled(), tenant.limits(), tenant.models(),
          Map.copyOf(keys), tenant.createdAt(), tenant.revision() + 1, tenant.windows(), tenant.nodes(),
          tenant.circuits(), tenant.rights());
      return new ReplicatedTenantState(t, stamps, revoked, nextSeen, imports, expiries);
    } else if (event instanceof KeyRevoked e) {
      // The earliest revocation of a key is the one kept, whichever region's arrives first.
      Instant first = revoked.get(e.keyId());
      Instant at = first == null || e.at().isBefore(first) ? e.at() : first;
      Map<String, Instant> r = new LinkedHashMap<>(revoked);
      r.put(e.keyId(), at);
      return new ReplicatedTenantState(revokedAt(e.keyId(), at), stamps, r, nextSeen, imports, expiries);
    } else if (event instanceof KeyExpirySet e) {
      // Like a revocation, the earliest expiry of a key is kept, whichever region's arrives first.
      Map<String, Instant> x = new LinkedHashMap<>(expiries);
      x.put(e.keyId(), TenantState.KeyRecord.earliest(expiries.get(e.keyId()), e.expiresAt()));
      return new ReplicatedTenantState(tenant.apply(e), stamps, revoked, nextSeen, imports, x);
    } else if (event instanceof TenantImported e) {
      return imported(e, origin, self, nextSeen);
    } else if (event instanceof RightsWanted || event instanceof RightsTransferred) {
      return new ReplicatedTenantState(tenant.apply(event), stamps, revoked, nextSeen, imports, expiries);
    } else if (!origin.equals(self) && event instanceof CircuitOpened e) {
      TenantEvent keyed = new CircuitOpened(CircuitState.regionKey(e.deployment(), origin), e.status(), e.error(),
          e.openUntil(), e.at());
      return new ReplicatedTenantState(tenant.apply(keyed), stamps, revoked, nextSeen, imports, expiries);
    } else if (!origin.equals(self) && event instanceof CircuitClosed e) {
      TenantEvent keyed = new CircuitClosed(CircuitState.regionKey(e.deployment(), origin), e.at());
      return new ReplicatedTenantState(tenant.apply(keyed), stamps, revoked, nextSeen, imports, expiries);
    } else if (event instanceof LeaseGranted || event instanceof UsageSettled || event instanceof WindowRolled
        || event instanceof CircuitOpened || event instanceof CircuitClosed) {
      if (!origin.equals(self)) {
        return skip(nextSeen); // another region's own quota: in others, never counted here
      }
      return new ReplicatedTenantState(tenant.apply(event), stamps, revoked, nextSeen, imports, expiries);
    }
    throw new IllegalArgumentException("unknown event " + event.getClass().getName());
  }

  /** {@code tenant} with key {@code keyId}, when it is known, revoked at {@code at}. */
  private TenantState revokedAt(String keyId, Instant at) {
    TenantState.KeyRecord k = tenant.keys().get(keyId);
    Map<String, TenantState.KeyRecord> keys = tenant.keys();
    if (k != null && !at.equals(k.revokedAt())) {
      Map<String, TenantState.KeyRecord> next = new LinkedHashMap<>(keys);
      next.put(keyId, k.withRevokedAt(at));
      keys = Map.copyOf(next);
    }
    return new TenantState(tenant.tenantId(), tenant.enabled(), tenant.limits(), tenant.models(), keys,
        tenant.createdAt(), tenant.revision() + 1, tenant.windows(), tenant.nodes(), tenant.circuits(), tenant.rights());
  }

  /**
   * An import from the single-region journal. Its settings are stamped at the epoch, older than
   * every write, so a region importing late never undoes a change made since; all regions import
   * the same values, so which import's stamp wins does not matter. Its keys join the two-phase
   * set like issues and revocations; its usage counts only in the importing region's own windows.
   */
  private ReplicatedTenantState imported(TenantImported e, String origin, String self, Set<String> nextSeen) {
    Stamp epoch = new Stamp(0, origin);
    Set<String> nextImports = new HashSet<>(imports);
    nextImports.add(origin);
    ReplicatedTenantState r = new ReplicatedTenantState(tenant, stamps, revoked, nextSeen, nextImports, expiries)
        .created(new TenantCreated(e.tenantId(), e.limits(), e.models(), e.createdAt()), epoch, nextSeen);
    if (!e.enabled()) {
      Map<String, Stamp> next = join(r.stamps, DISABLED, epoch);
      r = new ReplicatedTenantState(withEnabled(r.tenant, enabled(next), 0), next, r.revoked, nextSeen, r.imports, r.expiries);
    }
    for (TenantState.KeyRecord k : e.keys()) {
      r = r.apply(new KeyIssued(k.keyId(), k.keyHash(), k.createdAt(), k.expiresAt(), k.models(), k.limits()),
          origin, self);
      if (k.revokedAt() != null) {
        r = r.apply(new KeyRevoked(k.keyId(), k.revokedAt()), origin, self);
      }
    }
    if (origin.equals(self)) {
      TenantState own = r.tenant.apply(e);
      TenantState t = new TenantState(r.tenant.tenantId(), r.tenant.enabled(), r.tenant.limits(), r.tenant.models(),
          r.tenant.keys(), r.tenant.createdAt(), r.tenant.revision(), own.windows(), own.nodes(), r.tenant.circuits(),
          r.tenant.rights());
      r = new ReplicatedTenantState(t, r.stamps, r.revoked, nextSeen, r.imports, r.expiries);
    }
    return r;
  }

  /** The event changes nothing here but counts as applied. */
  private ReplicatedTenantState skip(Set<String> nextSeen) {
    TenantState t = new TenantState(tenant.tenantId(), tenant.enabled(), tenant.limits(), tenant.models(),
        tenant.keys(), tenant.createdAt(), tenant.revision() + 1, tenant.windows(), tenant.nodes(), tenant.circuits(),
        tenant.rights());
    return new ReplicatedTenantState(t, stamps, revoked, nextSeen, imports, expiries);
  }

  /**
   * A create, also a second one from another region for the same id: each register takes the
   * create's value unless it holds a later write; keys, quota and escrow already here stay.
   */
  private ReplicatedTenantState created(TenantCreated e, Stamp stamp, Set<String> nextSeen) {
    Map<String, Stamp> next = new LinkedHashMap<>(stamps);
    TenantLimits limits = merge(tenant.limits(), e.limits(), true, stamp, next);
    List<String> models = tenant.models();
    if (stamp.after(stamps.get(MODELS))) {
      models = e.models() == null ? null : List.copyOf(e.models());
      next.put(MODELS, stamp);
    }
    Stamp en = stamps.get(ENABLED);
    if (stamp.after(en)) {
      next.put(ENABLED, stamp);
    }
    boolean enabled = enabled(next);
    Instant createdAt = tenant.createdAt() == null || e.at().isBefore(tenant.createdAt()) ? e.at() : tenant.createdAt();
    TenantState t = new TenantState(e.tenantId(), enabled, limits, models, tenant.keys(), createdAt,
        tenant.revision() + 1, tenant.windows(), tenant.nodes(), tenant.circuits(), tenant.rights());
    return new ReplicatedTenantState(t, next, revoked, nextSeen, imports, expiries);
  }

  /**
   * A change of limits: {@code all} for a full value (every field, null meaning unlimited), else
   * only the non-null fields. When the merged limits differ, the region's leases are revoked as
   * with one region.
   */
  private ReplicatedTenantState limits(TenantLimits value, boolean all, Stamp stamp, Instant at, Set<String> nextSeen) {
    Map<String, Stamp> next = new LinkedHashMap<>(stamps);
    TenantLimits merged = merge(tenant.limits(), value, all, stamp, next);
    if (merged.equals(tenant.limits())) {
      return new ReplicatedTenantState(skip(nextSeen).tenant(), next, revoked, nextSeen, imports, expiries);
    }
    return new ReplicatedTenantState(tenant.apply(new LimitsChanged(merged, at)), next, revoked, nextSeen, imports, expiries);
  }

  /** Each field of {@code value} (every one, or only the set ones) that is newer than its register replaces it. */
  private TenantLimits merge(TenantLimits current, TenantLimits value, boolean all, Stamp stamp,
      Map<String, Stamp> next) {
    Object[] fields = fields(current);
    Object[] incoming = fields(value);
    for (int i = 0; i < LIMIT_FIELDS.size(); i++) {
      String register = "limits." + LIMIT_FIELDS.get(i);
      if ((all || incoming[i] != null) && stamp.after(stamps.get(register))) {
        fields[i] = incoming[i];
        next.put(register, stamp);
      }
    }
    return new TenantLimits((Long) fields[0], (Long) fields[1], (Long) fields[2], (BigDecimal) fields[3],
        (BigDecimal) fields[4], (Long) fields[5]);
  }

  private static Object[] fields(TenantLimits l) {
    return new Object[] {l.requestsPerMinute(), l.tokensPerMinute(), l.tokensPerDay(), l.spendUsdPerDay(),
        l.spendUsdPerMonth(), l.maxConcurrentRequests()};
  }

  /** Whether the tenant is enabled: created, and the latest create is later than the latest disable. */
  private static boolean enabled(Map<String, Stamp> stamps) {
    Stamp created = stamps.get(ENABLED);
    Stamp disabled = stamps.get(DISABLED);
    return created != null && (disabled == null || created.millis() > disabled.millis());
  }

  /** {@code stamps} with {@code register} at the later of its stamp and {@code stamp}. */
  private static Map<String, Stamp> join(Map<String, Stamp> stamps, String register, Stamp stamp) {
    return stamp.after(stamps.get(register)) ? with(stamps, register, stamp) : stamps;
  }

  private static TenantState withEnabled(TenantState t, boolean enabled, int revisions) {
    return new TenantState(t.tenantId(), enabled, t.limits(), t.models(), t.keys(), t.createdAt(),
        t.revision() + revisions, t.windows(), t.nodes(), t.circuits(), t.rights());
  }

  private static Map<String, Stamp> with(Map<String, Stamp> stamps, String register, Stamp stamp) {
    Map<String, Stamp> next = new LinkedHashMap<>(stamps);
    next.put(register, stamp);
    return next;
  }
}
