package io.sluice.node.tenant;

import io.sluice.node.tenant.TenantCommand.Acquire;
import io.sluice.node.tenant.TenantCommand.AnswerWants;
import io.sluice.node.tenant.TenantCommand.Create;
import io.sluice.node.tenant.TenantCommand.Disable;
import io.sluice.node.tenant.TenantCommand.Get;
import io.sluice.node.tenant.TenantCommand.IssueKey;
import io.sluice.node.tenant.TenantCommand.LeaseReply;
import io.sluice.node.tenant.TenantCommand.LegacyLoaded;
import io.sluice.node.tenant.TenantCommand.Lookup;
import io.sluice.node.tenant.TenantCommand.Rejection;
import io.sluice.node.tenant.TenantCommand.ReportUpstream;
import io.sluice.node.tenant.TenantCommand.RevokeKey;
import io.sluice.node.tenant.TenantCommand.Settle;
import io.sluice.node.tenant.TenantCommand.SettleReply;
import io.sluice.node.tenant.TenantCommand.Update;
import io.sluice.persistence.NodeShare;
import io.sluice.persistence.Quantity;
import io.sluice.persistence.ReplicatedTenantState;
import io.sluice.persistence.RightsPool;
import io.sluice.persistence.TenantEvent;
import io.sluice.persistence.TenantEvent.KeyIssued;
import io.sluice.persistence.TenantEvent.KeyRevoked;
import io.sluice.persistence.TenantEvent.LeaseGranted;
import io.sluice.persistence.TenantEvent.LimitsPatched;
import io.sluice.persistence.TenantEvent.ModelsChanged;
import io.sluice.persistence.TenantEvent.RightsTransferred;
import io.sluice.persistence.TenantEvent.RightsWanted;
import io.sluice.persistence.TenantEvent.TenantCreated;
import io.sluice.persistence.TenantEvent.TenantDisabled;
import io.sluice.persistence.TenantEvent.TenantImported;
import io.sluice.persistence.TenantEvent.UsageSettled;
import io.sluice.persistence.TenantLimits;
import io.sluice.persistence.TenantState;
import io.sluice.persistence.WindowKind;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.pubsub.Topic;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.persistence.query.PersistenceQuery;
import org.apache.pekko.persistence.query.javadsl.CurrentEventsByPersistenceIdQuery;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.RecoveryCompleted;
import org.apache.pekko.persistence.typed.ReplicaId;
import org.apache.pekko.persistence.typed.ReplicationId;
import org.apache.pekko.persistence.typed.javadsl.CommandHandler;
import org.apache.pekko.persistence.typed.javadsl.Effect;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.ReplicatedEventSourcedBehavior;
import org.apache.pekko.persistence.typed.javadsl.ReplicatedEventSourcing;
import org.apache.pekko.persistence.typed.javadsl.ReplicationContext;
import org.apache.pekko.persistence.typed.javadsl.SignalHandler;

/**
 * One region's replica of a tenant, when several regions are configured: a Replicated Event
 * Sourcing entity ({@code ReplicationId("Tenant", tenantId, region)}, persistence id {@code
 * Tenant|<id>|<region>}) that sees every other region's events through the journal's {@code
 * eventsByPersistenceId} query. The state and its merge rules are {@link ReplicatedTenantState};
 * the quota decisions are the single-region ones ({@link QuotaLedger}) against this region's
 * escrow rights ({@link Escrow#caps}), so nodes lease from their own region only.
 *
 * <p>Guards for Pekko 1.7.0: no snapshot until this replica has applied events of every region
 * (recovering an earlier snapshot crash-loops in {@code GetSeenSequenceNr}, apache/pekko PR
 * #2372), and nothing reads version vectors. Settings writes are stamped after the latest stamp
 * this replica holds, so a region whose clock is behind still writes after what it has seen.
 */
public final class ReplicatedTenantEntity
    extends ReplicatedEventSourcedBehavior<TenantCommand, TenantEvent, ReplicatedTenantState> {

  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(ReplicatedTenantEntity.class);

  /** Events between snapshots, once every region has been heard from. */
  static final int SNAPSHOT_EVERY = 100;

  private final String tenantId;
  private final String self;
  private final Set<String> regions;
  private final ActorRef<Topic.Command<TenantChanged>> changes;
  private final ActorRef<TenantCommand> selfRef;
  private final InstantSource clock;
  private final QuotaSettings quota;
  private final QuotaLedger ledger;
  private final Escrow escrow;
  private final ReplicationLag lag;
  /** This region's circuit decisions for the tenant; its failure counts are transient. */
  private final CircuitBreaker breaker;
  /** As in {@link TenantEntity}: per node, the answer to its last granting acquire; transient. */
  private Map<String, Answered> lastGrants;
  private final ActorSystem<?> system;
  private final String queryPluginId;
  /** This region's usage per minute, from its own settlements; transient, rebuilt by replay. */
  private final UsageHistory history;
  /** While the single-region journal is read, commands wait (stashed), so none sees a half-imported tenant. */
  private boolean importing;

  private record Answered(long seq, LeaseReply reply) {}

  private ReplicatedTenantEntity(ReplicationContext context, ActorSystem<?> system, ActorRef<TenantCommand> selfRef,
      ActorRef<Topic.Command<TenantChanged>> changes, InstantSource clock, QuotaSettings quota,
      RegionSettings settings, ReplicationLag lag, String queryPluginId) {
    super(context, java.util.Optional.of(
        SupervisorStrategy.restartWithBackoff(Duration.ofMillis(200), Duration.ofSeconds(5), 0.1)));
    this.tenantId = context.entityId();
    this.self = context.replicaId().id();
    this.regions = Set.copyOf(settings.regions());
    this.selfRef = selfRef;
    this.changes = changes;
    this.clock = clock;
    this.quota = quota;
    this.ledger = new QuotaLedger(quota);
    this.breaker = new CircuitBreaker(quota, clock);
    this.escrow = new Escrow(settings);
    this.lag = lag;
    this.system = system;
    this.queryPluginId = queryPluginId;
    this.history = new UsageHistory(quota.usageHistoryMinutes());
  }

  /** Registers this region's replicas with Cluster Sharding, under {@link TenantEntity#ENTITY_KEY}. */
  public static void init(ActorSystem<?> system, ActorRef<Topic.Command<TenantChanged>> changes, InstantSource clock,
      QuotaSettings quota, RegionSettings settings, ReplicationLag lag, String queryPluginId) {
    ClusterSharding.get(system).init(Entity.of(TenantEntity.ENTITY_KEY,
        ctx -> create(ctx.getEntityId(), changes, clock, quota, settings, lag, queryPluginId)));
  }

  public static Behavior<TenantCommand> create(String tenantId, ActorRef<Topic.Command<TenantChanged>> changes,
      InstantSource clock, QuotaSettings quota, RegionSettings settings, ReplicationLag lag, String queryPluginId) {
    if (!settings.multiRegion()) {
      throw new IllegalArgumentException("a replicated tenant entity needs two or more regions");
    }
    Set<ReplicaId> all = new HashSet<>();
    settings.regions().forEach(r -> all.add(new ReplicaId(r)));
    return Behaviors.setup(ctx -> ReplicatedEventSourcing.commonJournalConfig(
        new ReplicationId(TenantEntity.ENTITY_KEY.name(), tenantId, new ReplicaId(settings.self())),
        all, queryPluginId,
        rc -> new ReplicatedTenantEntity(rc, ctx.getSystem(), ctx.getSelf(), changes, clock, quota, settings, lag,
            queryPluginId)));
  }

  @Override
  public ReplicatedTenantState emptyState() {
    return ReplicatedTenantState.EMPTY;
  }

  /** Snapshots only once every region has been heard from: see the class comment. */
  @Override
  public boolean shouldSnapshot(ReplicatedTenantState state, TenantEvent event, long sequenceNr) {
    return sequenceNr % SNAPSHOT_EVERY == 0 && state.heardFromAll(regions);
  }

  @Override
  public CommandHandler<TenantCommand, TenantEvent, ReplicatedTenantState> commandHandler() {
    return this::handle;
  }

  private Effect<TenantEvent, ReplicatedTenantState> handle(ReplicatedTenantState rs, TenantCommand command) {
    if (command instanceof LegacyLoaded c) {
      return onLegacyLoaded(rs, c);
    }
    if (importing) {
      return Effect().stash();
    }
    TenantState s = rs.tenant();
    if (command instanceof Acquire c) {
      return onAcquire(s, c);
    }
    if (command instanceof Settle c) {
      return onSettle(s, c);
    }
    if (command instanceof AnswerWants) {
      Instant now = clock.instant();
      List<TenantEvent> events = new ArrayList<>(ledger.rolls(s, now));
      events.addAll(escrow.answers(applyAll(s, events), now));
      return events.stream().anyMatch(e -> e instanceof RightsTransferred) ? Effect().persist(events) : Effect().none();
    }
    if (command instanceof ReportUpstream c) {
      return onReportUpstream(s, c);
    }
    if (command instanceof Lookup c) {
      return Effect().reply(c.replyTo(), s);
    }
    if (command instanceof TenantCommand.GetReplica c) {
      return Effect().reply(c.replyTo(), s.exists() ? StatusReply.success(rs) : StatusReply.error(Rejection.NOT_FOUND.name()));
    }
    if (command instanceof Create c) {
      if (s.exists()) {
        return Effect().reply(c.replyTo(), rejected(Rejection.ALREADY_EXISTS));
      }
      TenantLimits limits = c.limits() == null ? TenantLimits.UNLIMITED : c.limits();
      return persistAndReply(s, List.of(new TenantCreated(tenantId, limits, c.models(), writeTime(rs))), c.replyTo(),
          c.audit(), "tenant.create", null);
    }
    if (!s.exists() && (command instanceof Get || command instanceof Update || command instanceof Disable
        || command instanceof IssueKey || command instanceof RevokeKey || command instanceof TenantCommand.RotateKey)) {
      return Effect().reply(replyTo(command), rejected(Rejection.NOT_FOUND));
    }
    if (command instanceof Get c) {
      return Effect().reply(c.replyTo(), StatusReply.success(s));
    }
    if (command instanceof TenantCommand.GetHistory c) {
      if (!s.exists()) {
        return Effect().reply(c.replyTo(), StatusReply.error(Rejection.NOT_FOUND.name()));
      }
      long first = c.lastMinute() - history.minutes() + 1;
      return Effect().reply(c.replyTo(),
          StatusReply.success(new TenantCommand.HistoryReply(first, history.window(c.lastMinute()))));
    }
    if (command instanceof Update c) {
      List<TenantEvent> events = new ArrayList<>(2);
      Instant at = writeTime(rs);
      if (c.limits() != null && !s.limits().overlay(c.limits()).equals(s.limits())) {
        events.add(new LimitsPatched(c.limits(), at));
      }
      if (c.setModels() && !Objects.equals(c.models(), s.models())) {
        events.add(new ModelsChanged(c.models(), at));
      }
      return persistAndReply(s, events, c.replyTo(), c.audit(), "tenant.update", null);
    }
    if (command instanceof Disable c) {
      return s.enabled() ? persistAndReply(s, List.of(new TenantDisabled(writeTime(rs))), c.replyTo(), c.audit(),
          "tenant.disable", null)
          : Effect().reply(c.replyTo(), StatusReply.success(s));
    }
    if (command instanceof IssueKey c) {
      if (!s.enabled()) {
        return Effect().reply(c.replyTo(), rejected(Rejection.DISABLED));
      }
      if (s.keys().containsKey(c.keyId()) || rs.revoked().containsKey(c.keyId())) {
        return Effect().reply(c.replyTo(), rejected(Rejection.ALREADY_EXISTS));
      }
      return persistAndReply(s, List.of(KeyRotation.issued(c, clock.instant())), c.replyTo(), c.audit(),
          "key.issue", c.keyId());
    }
    if (command instanceof TenantCommand.RotateKey c) {
      // A rotation is a key update: an issue joins the two-phase set, the old key's expiry merges by minimum.
      Rejection refused = KeyRotation.refusal(s, c, rs.revoked().keySet(), clock.instant());
      return refused != null ? Effect().reply(c.replyTo(), rejected(refused))
          : persistAndReply(s, KeyRotation.events(s, c, clock.instant()), c.replyTo(), c.audit(), "key.rotate",
              c.keyId());
    }
    if (command instanceof RevokeKey c) {
      TenantState.KeyRecord key = s.keys().get(c.keyId());
      if (key == null) {
        return Effect().reply(c.replyTo(), rejected(Rejection.KEY_NOT_FOUND));
      }
      return key.active() ? persistAndReply(s, List.of(new KeyRevoked(c.keyId(), clock.instant())), c.replyTo(),
          c.audit(), "key.revoke", c.keyId())
          : Effect().reply(c.replyTo(), StatusReply.success(s));
    }
    throw new IllegalArgumentException("unknown tenant command " + command.getClass().getName());
  }

  /**
   * After recovery, a region that has not imported the tenant reads the single-region journal
   * ({@code Tenant|<id>}, written before regions were configured) when the tenant does not exist
   * here yet or exists only through other regions' imports. Every region imports for itself:
   * the values agree, and each must count the imported usage (see {@link
   * io.sluice.persistence.TenantEvent.TenantImported}). A tenant created since regions exist is
   * never looked up there.
   */
  @Override
  public SignalHandler<ReplicatedTenantState> signalHandler() {
    return newSignalHandlerBuilder()
        .onSignal(RecoveryCompleted.instance(), rs -> {
          boolean needed = !rs.imports().contains(self) && (!rs.tenant().exists() || !rs.imports().isEmpty());
          if (needed) {
            importing = true;
            readLegacy();
          }
        })
        .build();
  }

  private void readLegacy() {
    String pid = PersistenceId.of(TenantEntity.ENTITY_KEY.name(), tenantId).id();
    PersistenceQuery.get(system.classicSystem())
        .getReadJournalFor(CurrentEventsByPersistenceIdQuery.class, queryPluginId)
        .currentEventsByPersistenceId(pid, 0L, Long.MAX_VALUE)
        .runFold(TenantState.EMPTY, (s, env) -> env.event() instanceof TenantEvent e ? s.apply(e) : s, system)
        .whenComplete((legacy, failure) -> {
          if (failure != null) {
            LOG.warn("Reading the single-region journal of tenant {} failed", tenantId, failure);
          }
          selfRef.tell(new LegacyLoaded(failure == null ? legacy : null));
        });
  }

  private Effect<TenantEvent, ReplicatedTenantState> onLegacyLoaded(ReplicatedTenantState rs, LegacyLoaded c) {
    TenantState legacy = c.legacy();
    if (legacy == null) {
      // Unread, a legacy tenant would look missing and could be created anew over its keys: fail;
      // the entity stops (its waiting commands time out) and reads again when sharding starts it
      // for the next command.
      throw new IllegalStateException("could not read the single-region journal of tenant " + tenantId);
    }
    importing = false;
    if (!legacy.exists() || rs.imports().contains(self)) {
      return Effect().unstashAll();
    }
    Map<Quantity, Long> committed = new EnumMap<>(Quantity.class);
    for (Quantity q : Quantity.values()) {
      long v = QuotaLedger.committed(legacy, q);
      if (v > 0) {
        committed.put(q, v);
      }
    }
    TenantImported imported = new TenantImported(legacy.tenantId(), legacy.enabled(), legacy.limits(), legacy.models(),
        List.copyOf(legacy.keys().values()), legacy.createdAt(), Map.copyOf(legacy.windows()), Map.copyOf(committed),
        clock.instant());
    return Effect().persist(imported)
        .thenRun(after -> changes.tell(Topic.publish(new TenantChanged(tenantId, after.tenant()))))
        .thenUnstashAll();
  }

  /** A settings write's time: now, or just after the latest stamp here when this region's clock is behind. */
  private Instant writeTime(ReplicatedTenantState rs) {
    long now = clock.instant().toEpochMilli();
    long latest = rs.latestMillis();
    return Instant.ofEpochMilli(latest == Long.MIN_VALUE ? now : Math.max(now, latest + 1));
  }

  private static ActorRef<StatusReply<TenantState>> replyTo(TenantCommand c) {
    if (c instanceof Get g) return g.replyTo();
    if (c instanceof Update u) return u.replyTo();
    if (c instanceof Disable d) return d.replyTo();
    if (c instanceof IssueKey i) return i.replyTo();
    if (c instanceof RevokeKey r) return r.replyTo();
    if (c instanceof TenantCommand.RotateKey r) return r.replyTo();
    throw new IllegalArgumentException(c.getClass().getName());
  }

  /**
   * Persists an admin write's events together with its audit record, in one atomic write, as
   * {@link TenantEntity} does (the trail is never missing a change that happened; a write that
   * changes nothing records nothing); tells this region's nodes; replies with the new state. The
   * record replicates to the other regions with the change and changes no state there either.
   */
  private Effect<TenantEvent, ReplicatedTenantState> persistAndReply(TenantState s, List<TenantEvent> events,
      ActorRef<StatusReply<TenantState>> replyTo, TenantCommand.Audit audit, String action, String target) {
    if (events.isEmpty()) {
      return Effect().reply(replyTo, StatusReply.success(s));
    }
    List<TenantEvent> all = events;
    if (audit != null) {
      all = new ArrayList<>(events);
      all.add(new TenantEvent.AdminActionRecorded(action, target, audit.actor(), audit.address(), audit.requestId(),
          clock.instant()));
    }
    return Effect().persist(all)
        .thenRun(rs -> changes.tell(Topic.publish(new TenantChanged(tenantId, rs.tenant()))))
        .thenReply(replyTo, rs -> StatusReply.success(rs.tenant()));
  }

  /** {@link TenantEntity}'s acquire, against this region's rights; a short region also asks for rights. */
  private Effect<TenantEvent, ReplicatedTenantState> onAcquire(TenantState state, Acquire c) {
    Instant now = clock.instant();
    NodeShare share = state.nodes().get(c.node());
    if (now.isAfter(c.deadline()) || (share != null && c.seq() < share.lastAcquireSeq())) {
      return Effect().none();
    }
    if (!state.exists() || !state.enabled()) {
      return Effect().reply(c.replyTo(),
          new LeaseReply(false, Map.of(), Map.of(), 0, now, Map.of(), false, Map.of(), state.revision()));
    }
    if (share != null && c.seq() == share.lastAcquireSeq()) {
      Answered last = lastGrants == null ? null : lastGrants.get(c.node());
      return Effect().reply(c.replyTo(), last != null && last.seq() == c.seq() ? last.reply()
          : new LeaseReply(true, Map.of(), Map.of(), 0, share.expiresAt(), Map.of(), false, Map.of(), state.revision()));
    }
    Instant t = ledger.eventTime(now, c.nodeNow());
    List<TenantEvent> events = new ArrayList<>(ledger.rolls(state, t));
    TenantState rolled = applyAll(state, events);
    QuotaLedger.Grant grant = ledger.decide(rolled, escrow.caps(rolled), c.node(), c.needed(), c.wanted(),
        c.slotsNeeded(), c.slotsWanted(), t);
    Instant expiresAt = now.plus(quota.leaseTtl());
    Map<WindowKind, Long> windows = new EnumMap<>(WindowKind.class);
    for (WindowKind k : WindowKind.values()) {
      windows.put(k, rolled.window(k));
    }
    boolean granted = !grant.amounts().isEmpty() || grant.slots() > 0;
    if (granted) {
      events.add(new LeaseGranted(c.node(), c.seq(), Map.copyOf(grant.amounts()), Map.copyOf(windows), grant.slots(),
          expiresAt, now));
    }
    Map<RightsPool, Long> needs = new EnumMap<>(RightsPool.class);
    for (Quantity q : Quantity.values()) {
      if (QuotaLedger.limit(rolled.limits(), q) >= 0) {
        needs.put(RightsPool.of(q), grant.exhausted().containsKey(q) ? c.needed().getOrDefault(q, 0L) : 0L);
      }
    }
    if (QuotaLedger.slotLimit(rolled.limits()) >= 0) {
      needs.put(RightsPool.CONCURRENCY, grant.slotsExhausted() ? c.slotsNeeded() : 0L);
    }
    TenantState after = applyAll(state, events);
    events.addAll(escrow.wants(after, needs, t));
    long revision = state.revision() + events.size();
    LeaseReply reply = leaseReply(rolled, c.node(), grant, windows, expiresAt, revision);
    if (events.isEmpty()) {
      return Effect().reply(c.replyTo(), reply);
    }
    return Effect().persist(events)
        .thenRun(rs -> {
          if (granted) {
            if (lastGrants == null) {
              lastGrants = new HashMap<>(2);
            }
            lastGrants.put(c.node(), new Answered(c.seq(), reply));
          }
        })
        .thenReply(c.replyTo(), rs -> reply);
  }

  private static LeaseReply leaseReply(TenantState s, String node, QuotaLedger.Grant grant,
      Map<WindowKind, Long> windows, Instant expiresAt, long revision) {
    Map<Quantity, Long> others = new EnumMap<>(Quantity.class);
    for (Quantity q : Quantity.values()) {
      if (QuotaLedger.limit(s.limits(), q) >= 0) {
        others.put(q, QuotaLedger.committedByOthers(s, node, q));
      }
    }
    return new LeaseReply(true, Map.copyOf(grant.amounts()), Map.copyOf(windows), grant.slots(), expiresAt,
        Map.copyOf(grant.exhausted()), grant.slotsExhausted(), Map.copyOf(others), revision);
  }

  /** {@link TenantEntity}'s settle; the region also answers other regions' wants it can now serve. */
  private Effect<TenantEvent, ReplicatedTenantState> onSettle(TenantState state, Settle c) {
    Instant now = clock.instant();
    NodeShare share = state.nodes().get(c.node());
    long prior = share == null ? 0 : share.lastSettleSeq();
    if (now.isAfter(c.deadline())) {
      return Effect().reply(c.replyTo(), new SettleReply(false, now, prior));
    }
    if (share != null && c.seq() <= prior) {
      return Effect().reply(c.replyTo(), new SettleReply(true, share.expiresAt(), prior));
    }
    List<TenantEvent> events = new ArrayList<>(ledger.rolls(state, now));
    Instant expiresAt = now.plus(quota.leaseTtl());
    events.add(new UsageSettled(c.node(), c.seq(), c.windows(), c.used(), c.returned(), c.slotsReturned(),
        expiresAt, now));
    events.addAll(escrow.answers(applyAll(state, events), now));
    return Effect().persist(events).thenReply(c.replyTo(), rs -> new SettleReply(true, expiresAt, prior));
  }

  private Effect<TenantEvent, ReplicatedTenantState> onReportUpstream(TenantState state, ReportUpstream c) {
    if (!state.exists()) {
      return Effect().none();
    }
    TenantEvent event = breaker.onReport(state.circuits(), c);
    return event == null ? Effect().none() : publishAfter(event);
  }

  private Effect<TenantEvent, ReplicatedTenantState> publishAfter(TenantEvent event) {
    return Effect().persist(event)
        .thenRun(rs -> changes.tell(Topic.publish(new TenantChanged(tenantId, rs.tenant()))));
  }

  private static TenantState applyAll(TenantState s, List<TenantEvent> events) {
    TenantState out = s;
    for (TenantEvent e : events) {
      out = out.apply(e);
    }
    return out;
  }

  private static StatusReply<TenantState> rejected(Rejection rejection) {
    return StatusReply.error(rejection.name());
  }

  /**
   * {@link ReplicatedTenantState#apply} with the event's origin. Another region's event that
   * arrives while running also tells this region's nodes about a settings or key change, feeds
   * the replication lag, and, when it asks for rights, makes this replica consider answering:
   * side effects Pekko offers no other hook for, none of which changes the state.
   */
  @Override
  public EventHandler<ReplicatedTenantState, TenantEvent> eventHandler() {
    return newEventHandlerBuilder().forAnyState().onAnyEvent((state, event) -> {
      ReplicationContext rc = getReplicationContext();
      String origin = rc.origin().id();
      ReplicatedTenantState next = state.apply(event, origin, self);
      if (event instanceof UsageSettled settled && origin.equals(self)) {
        history.record(settled); // this region's usage only, as its nodes settle it
      }
      if (!origin.equals(self) && !rc.recoveryRunning()) {
        lag.observe(origin, event.at(), clock.instant());
        if (event instanceof RightsWanted) {
          selfRef.tell(new AnswerWants());
        } else if (!(event instanceof RightsTransferred || event instanceof LeaseGranted
            || event instanceof UsageSettled || event instanceof TenantEvent.WindowRolled
            || event instanceof TenantEvent.AdminActionRecorded)) {
          changes.tell(Topic.publish(new TenantChanged(tenantId, next.tenant())));
        }
      }
      return next;
    });
  }
}
