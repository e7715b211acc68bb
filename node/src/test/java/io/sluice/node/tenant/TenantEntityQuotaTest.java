package io.sluice.node.tenant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.sluice.node.tenant.TenantCommand.Acquire;
import io.sluice.node.tenant.TenantCommand.Create;
import io.sluice.node.tenant.TenantCommand.Disable;
import io.sluice.node.tenant.TenantCommand.LeaseReply;
import io.sluice.node.tenant.TenantCommand.ReportUpstream;
import io.sluice.node.tenant.TenantCommand.Settle;
import io.sluice.node.tenant.TenantCommand.SettleReply;
import io.sluice.node.tenant.TenantCommand.Update;
import io.sluice.persistence.CircuitState;
import io.sluice.persistence.NodeShare;
import io.sluice.persistence.Quantity;
import io.sluice.persistence.TenantEvent;
import io.sluice.persistence.TenantEvent.CircuitClosed;
import io.sluice.persistence.TenantEvent.CircuitOpened;
import io.sluice.persistence.TenantEvent.LeaseGranted;
import io.sluice.persistence.TenantEvent.LimitsChanged;
import io.sluice.persistence.TenantEvent.UsageSettled;
import io.sluice.persistence.TenantEvent.WindowRolled;
import io.sluice.persistence.TenantLimits;
import io.sluice.persistence.TenantState;
import io.sluice.persistence.UsageCounters;
import io.sluice.persistence.WindowKind;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.pubsub.Topic;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit.CommandResult;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit.CommandResultWithReply;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class TenantEntityQuotaTest {
  private static final Instant START = Instant.parse("2026-03-01T12:00:30Z");
  private static final Duration QUIET = Duration.ofMillis(100);
  private static final AtomicInteger IDS = new AtomicInteger();
  private static final QuotaSettings QUOTA = QuotaSettings.from(ConfigFactory.load());
  private static final Quantity RPM = Quantity.REQUESTS_PER_MINUTE;
  private static final Quantity TPM = Quantity.TOKENS_PER_MINUTE;

  private static ActorTestKit testKit;

  private String tenantId;
  private TestClock clock;
  private TestProbe<Topic.Command<TenantChanged>> changes;
  private EventSourcedBehaviorTestKit<TenantCommand, TenantEvent, TenantState> entity;

  /** A clock the test moves by hand. */
  static final class TestClock implements InstantSource {
    private volatile Instant now;

    TestClock(Instant start) {
      this.now = start;
    }

    @Override
    public Instant instant() {
      return now;
    }

    void advance(Duration d) {
      now = now.plus(d);
    }

    void set(Instant t) {
      now = t;
    }
  }

  @BeforeAll
  static void startTestKit() {
    testKit = ActorTestKit.create("TenantEntityQuotaTest",
        ConfigFactory.parseString("pekko.coordinated-shutdown.exit-jvm = off")
            .withFallback(EventSourcedBehaviorTestKit.config())
            .withFallback(ConfigFactory.parseString("pekko.actor.provider = local"))
            .withFallback(ConfigFactory.load()));
  }

  @AfterAll
  static void stopTestKit() {
    testKit.shutdownTestKit();
  }

  @BeforeEach
  void newEntity() {
    tenantId = "quota-tenant-" + IDS.incrementAndGet();
    clock = new TestClock(START);
    changes = testKit.createTestProbe();
    entity = EventSourcedBehaviorTestKit.create(testKit.system(),
        TenantEntity.create(tenantId, changes.ref(), clock, QUOTA),
        EventSourcedBehaviorTestKit.enabledSerializationSettings().withVerifyEquality(true));
  }

  // ---------------------------------------------------------------- helpers

  private TenantState create(TenantLimits limits) {
    var result = entity.<StatusReply<TenantState>>runCommand(r -> new Create(limits, null, r));
    assertTrue(result.reply().isSuccess());
    changes.expectMessage(Topic.publish(new TenantChanged(tenantId, result.reply().getValue())));
    return result.reply().getValue();
  }

  private static TenantLimits rpm(long rpm) {
    return new TenantLimits(rpm, null, null, null, null, null);
  }

  private CommandResultWithReply<TenantCommand, TenantEvent, TenantState, LeaseReply> acquire(String node, long seq,
      Map<Quantity, Long> needed, Map<Quantity, Long> wanted, long slotsNeeded, long slotsWanted) {
    Instant now = clock.instant();
    return entity.runCommand(r -> new Acquire(node, seq, now.plusSeconds(5), now, needed, wanted, slotsNeeded,
        slotsWanted, r));
  }

  private CommandResultWithReply<TenantCommand, TenantEvent, TenantState, LeaseReply> acquireRpm(String node,
      long seq, long need, long want) {
    return acquire(node, seq, Map.of(RPM, need), Map.of(RPM, want), 0, 0);
  }

  private CommandResultWithReply<TenantCommand, TenantEvent, TenantState, SettleReply> settle(String node, long seq,
      Map<WindowKind, UsageCounters> used, Map<Quantity, Long> returned, long slotsReturned) {
    Instant now = clock.instant();
    Map<WindowKind, Long> windows = currentWindows(now);
    return entity.runCommand(r -> new Settle(node, seq, now.plusSeconds(5), windows, used, returned, slotsReturned,
        r));
  }

  private static Map<WindowKind, Long> currentWindows(Instant t) {
    Map<WindowKind, Long> w = new EnumMap<>(WindowKind.class);
    for (WindowKind k : WindowKind.values()) {
      w.put(k, Windows.id(k, t));
    }
    return w;
  }

  private CommandResult<TenantCommand, TenantEvent, TenantState> report(String deployment, int status,
      long retryAfterMillis, boolean success) {
    return entity.runCommand(new ReportUpstream(deployment, status, "upstream says " + status, retryAfterMillis,
        success));
  }

  private TenantState state() {
    return entity.getState();
  }

  private void expectPublished(TenantState state) {
    changes.expectMessage(Topic.publish(new TenantChanged(tenantId, state)));
  }

  // ---------------------------------------------------------------- Acquire

  @Test
  void acquire_firstForTenant_rollsAllWindowsThenPersistsLeaseGranted() {
    create(rpm(20));
    var result = acquireRpm("a", 1, 1, 32);

    Map<WindowKind, Long> windows = currentWindows(START);
    Instant expiresAt = START.plus(QUOTA.leaseTtl());
    assertEquals(List.of(
        new WindowRolled(WindowKind.MINUTE, windows.get(WindowKind.MINUTE), START),
        new WindowRolled(WindowKind.DAY, windows.get(WindowKind.DAY), START),
        new WindowRolled(WindowKind.MONTH, windows.get(WindowKind.MONTH), START),
        new LeaseGranted("a", 1, Map.of(RPM, 10L), windows, 0, expiresAt, START)), result.events());
    LeaseReply reply = result.reply();
    assertTrue(reply.tenantActive());
    assertEquals(Map.of(RPM, 10L), reply.granted());
    assertEquals(windows, reply.windows());
    assertEquals(0, reply.slots());
    assertEquals(expiresAt, reply.expiresAt());
    assertEquals(Map.of(), reply.exhausted());
    assertFalse(reply.slotsExhausted());
    assertEquals(Map.of(RPM, 0L), reply.othersCommitted());
    assertEquals(result.state().revision(), reply.revision());
    NodeShare a = result.state().nodes().get("a");
    assertEquals(10, a.granted(RPM));
    assertEquals(1, a.lastAcquireSeq());
    changes.expectNoMessage(QUIET); // leases are not published
  }

  @Test
  void acquire_sameWindowAgain_onlyLeaseGranted() {
    create(rpm(20));
    acquireRpm("a", 1, 1, 32);
    clock.advance(Duration.ofSeconds(10));
    var result = acquireRpm("a", 2, 1, 32);
    assertEquals(1, result.events().size());
    LeaseGranted g = assertInstanceOf(LeaseGranted.class, result.events().get(0));
    assertEquals(Map.of(RPM, 5L), g.amounts());
    assertEquals(clock.instant().plus(QUOTA.leaseTtl()), g.expiresAt());
    assertEquals(15, result.state().nodes().get("a").granted(RPM));
  }

  @Test
  void acquire_nextMinute_rollsMinuteFirstAndGrantsAFreshWindow() {
    create(rpm(20));
    acquireRpm("a", 1, 20, 20);
    assertFalse(acquireRpm("a", 2, 1, 1).reply().exhausted().isEmpty());

    clock.set(Instant.parse("2026-03-01T12:01:00Z"));
    var result = acquireRpm("a", 3, 1, 32);
    assertEquals(2, result.events().size());
    assertEquals(new WindowRolled(WindowKind.MINUTE, Windows.id(WindowKind.MINUTE, clock.instant()), clock.instant()),
        result.events().get(0));
    assertEquals(Map.of(RPM, 10L), assertInstanceOf(LeaseGranted.class, result.events().get(1)).amounts());
    assertEquals(10, result.state().nodes().get("a").granted(RPM), "the old minute's grant is gone");
  }

  @Test
  void acquire_nextDay_rollsMinuteAndDay() {
    create(new TenantLimits(null, null, 1000L, null, null, null));
    acquire("a", 1, Map.of(Quantity.TOKENS_PER_DAY, 1000L), Map.of(), 0, 0);
    clock.set(Instant.parse("2026-03-02T00:00:00Z"));
    var result = acquire("a", 2, Map.of(Quantity.TOKENS_PER_DAY, 10L), Map.of(Quantity.TOKENS_PER_DAY, 1000L), 0, 0);
    assertEquals(List.of(WindowKind.MINUTE, WindowKind.DAY),
        result.events().stream().filter(e -> e instanceof WindowRolled).map(e -> ((WindowRolled) e).kind()).toList());
    assertEquals(Map.of(Quantity.TOKENS_PER_DAY, 500L), result.reply().granted());
  }

  @Test
  void acquire_nodeClockAheadWithinTolerance_rollsAtNodeTime() {
    create(rpm(20));
    acquireRpm("a", 1, 20, 20);
    clock.set(Instant.parse("2026-03-01T12:00:59.500Z"));
    Instant entityNow = clock.instant();
    Instant nodeNow = Instant.parse("2026-03-01T12:01:00.500Z");
    var result = entity.<LeaseReply>runCommand(r -> new Acquire("a", 2, entityNow.plusSeconds(5), nodeNow,
        Map.of(RPM, 1L), Map.of(RPM, 32L), 0, 0, r));
    assertEquals(new WindowRolled(WindowKind.MINUTE, Windows.id(WindowKind.MINUTE, nodeNow), nodeNow),
        result.events().get(0));
    LeaseGranted g = assertInstanceOf(LeaseGranted.class, result.events().get(1));
    assertEquals(Map.of(RPM, 10L), g.amounts());
    assertEquals(entityNow, g.at(), "the event is stamped with the entity's clock");
    assertEquals(entityNow.plus(QUOTA.leaseTtl()), g.expiresAt());
    assertEquals(Windows.id(WindowKind.MINUTE, nodeNow), result.reply().windows().get(WindowKind.MINUTE));
  }

  @Test
  void acquire_nodeClockTooFarAhead_entityTimeDecides() {
    create(rpm(20));
    acquireRpm("a", 1, 20, 20);
    Instant entityNow = clock.instant();
    Instant nodeNow = Instant.parse("2026-03-01T12:01:10Z");
    var result = entity.<LeaseReply>runCommand(r -> new Acquire("a", 2, entityNow.plusSeconds(60), nodeNow,
        Map.of(RPM, 1L), Map.of(RPM, 32L), 0, 0, r));
    assertTrue(result.hasNoEvents());
    assertEquals(Map.of(RPM, Instant.parse("2026-03-01T12:01:00Z")), result.reply().exhausted());
  }

  @ParameterizedTest(name = "seq {0} after 5")
  @ValueSource(longs = {4, 0, -1})
  void acquire_olderSeq_noReplyAndNothingPersisted(long seq) {
    create(rpm(100));
    acquireRpm("a", 5, 1, 32);
    TenantState before = state();
    TestProbe<LeaseReply> probe = testKit.createTestProbe();
    Instant now = clock.instant();
    var result = entity.runCommand(new Acquire("a", seq, now.plusSeconds(5), now, Map.of(RPM, 1L),
        Map.of(RPM, 32L), 0, 0, probe.ref()));
    assertTrue(result.hasNoEvents());
    assertEquals(before, result.state());
    probe.expectNoMessage(QUIET);
  }

  @Test
  void acquire_repeatOfTheLastApplied_firstAnswerAgainNothingPersisted() {
    create(rpm(100));
    LeaseReply first = acquireRpm("a", 5, 1, 32).reply();
    assertEquals(Map.of(RPM, 32L), first.granted());

    // The node's ask timed out before this answer came, so it asks again with the same seq.
    var again = acquireRpm("a", 5, 1, 32);
    assertTrue(again.hasNoEvents());
    assertEquals(first, again.reply(), "the grant the node never saw, not a second one");
    assertEquals(32, state().nodes().get("a").granted(RPM));
  }

  @Test
  void acquire_repeatToANewIncarnation_emptyAnswerNothingGrantedAgain() {
    create(rpm(100));
    acquireRpm("a", 5, 1, 32);
    // The entity is started again (passivated, or moved to another node) and recovers from the
    // journal; the first answer was kept in memory only.
    ActorRef<TenantCommand> fresh = testKit.spawn(TenantEntity.create(tenantId, changes.ref(), clock, QUOTA));
    TestProbe<LeaseReply> probe = testKit.createTestProbe();
    Instant now = clock.instant();
    fresh.tell(new Acquire("a", 5, now.plusSeconds(5), now, Map.of(RPM, 1L), Map.of(RPM, 32L), 0, 0, probe.ref()));
    LeaseReply again = probe.receiveMessage();
    assertTrue(again.tenantActive());
    assertEquals(Map.of(), again.granted(), "nothing to give again: the node asks with a new seq");

    fresh.tell(new Acquire("a", 6, now.plusSeconds(5), now, Map.of(RPM, 1L), Map.of(RPM, 32L), 0, 0, probe.ref()));
    assertEquals(Map.of(RPM, 32L), probe.receiveMessage().granted());
    TestProbe<StatusReply<TenantState>> get = testKit.createTestProbe();
    fresh.tell(new TenantCommand.Get(get.ref()));
    assertEquals(64, get.receiveMessage().getValue().nodes().get("a").granted(RPM), "the first grant and seq 6's");
  }

  @Test
  void acquire_sameSeqFromAnotherNode_isIndependent() {
    create(rpm(100));
    acquireRpm("a", 5, 1, 32);
    // 68 left, two live nodes: a quarter of it.
    assertEquals(Map.of(RPM, 17L), acquireRpm("b", 5, 1, 32).reply().granted());
  }

  @Test
  void acquire_pastDeadline_noReplyAndNothingPersisted() {
    create(rpm(100));
    TestProbe<LeaseReply> probe = testKit.createTestProbe();
    Instant now = clock.instant();
    var result = entity.runCommand(new Acquire("a", 1, now.minusMillis(1), now, Map.of(RPM, 1L), Map.of(RPM, 32L),
        0, 0, probe.ref()));
    assertTrue(result.hasNoEvents());
    probe.expectNoMessage(QUIET);
    assertFalse(state().nodes().containsKey("a"));
    // The seq was not used up: the node's next acquire with it is answered.
    assertTrue(acquireRpm("a", 1, 1, 32).reply().tenantActive());
  }

  @Test
  void acquire_deadlineExactlyNow_answered() {
    create(rpm(100));
    Instant now = clock.instant();
    var result = entity.<LeaseReply>runCommand(r -> new Acquire("a", 1, now, now, Map.of(RPM, 1L),
        Map.of(RPM, 32L), 0, 0, r));
    assertEquals(Map.of(RPM, 32L), result.reply().granted());
  }

  @Test
  void acquire_missingTenant_inactiveReplyNothingPersisted() {
    var result = acquireRpm("a", 1, 1, 32);
    assertFalse(result.reply().tenantActive());
    assertEquals(Map.of(), result.reply().granted());
    assertEquals(0, result.reply().revision());
    assertTrue(result.hasNoEvents());
  }

  @Test
  void acquire_disabledTenant_inactiveReplyNothingPersisted() {
    create(rpm(100));
    var disabled = entity.<StatusReply<TenantState>>runCommand(Disable::new);
    expectPublished(disabled.reply().getValue());
    var result = acquireRpm("a", 1, 1, 32);
    assertFalse(result.reply().tenantActive());
    assertEquals(disabled.reply().getValue().revision(), result.reply().revision());
    assertTrue(result.hasNoEvents());
  }

  @Test
  void acquire_unlimitedTenant_onlyRollsNoLease() {
    create(TenantLimits.UNLIMITED);
    var result = acquireRpm("a", 1, 1, 32);
    assertTrue(result.reply().tenantActive());
    assertEquals(Map.of(), result.reply().granted());
    assertEquals(Map.of(), result.reply().othersCommitted());
    assertTrue(result.events().stream().allMatch(e -> e instanceof WindowRolled));
    var again = acquireRpm("a", 2, 1, 32);
    assertTrue(again.hasNoEvents());
    assertTrue(again.reply().tenantActive());
  }

  @Test
  void acquire_exhausted_namesResetAndPersistsNothing() {
    create(new TenantLimits(100L, 50L, null, null, null, null));
    acquire("a", 1, Map.of(TPM, 50L), Map.of(), 0, 0);
    var result = acquire("b", 1, Map.of(RPM, 1L, TPM, 10L), Map.of(RPM, 32L, TPM, 320L), 0, 0);
    assertTrue(result.hasNoEvents());
    assertEquals(Map.of(), result.reply().granted());
    assertEquals(Map.of(TPM, Instant.parse("2026-03-01T12:01:00Z")), result.reply().exhausted());
    assertEquals(Map.of(RPM, 0L, TPM, 50L), result.reply().othersCommitted());
  }

  @Test
  void acquire_otherNodesHold_othersCommittedReported() {
    create(new TenantLimits(100L, 1000L, null, null, null, null));
    acquire("a", 1, Map.of(RPM, 1L, TPM, 10L), Map.of(RPM, 32L, TPM, 320L), 0, 0);
    var result = acquireRpm("b", 1, 1, 8);
    assertEquals(Map.of(RPM, 32L, TPM, 320L), result.reply().othersCommitted());
    assertEquals(Map.of(RPM, 8L), result.reply().granted());
  }

  @Test
  void acquire_slots_grantedAndFreedWhenTheLeaseExpires() {
    create(new TenantLimits(null, null, null, null, null, 2L));
    var a = acquire("a", 1, Map.of(), Map.of(), 2, 2);
    assertEquals(2, a.reply().slots());
    var b = acquire("b", 1, Map.of(), Map.of(), 1, 1);
    assertTrue(b.reply().slotsExhausted());
    assertTrue(b.hasNoEvents());

    clock.advance(QUOTA.leaseTtl());
    var later = acquire("b", 2, Map.of(), Map.of(), 1, 1);
    assertFalse(later.reply().slotsExhausted());
    assertEquals(1, later.reply().slots());
  }

  @Test
  void acquire_slotsReturnedBySettle_freeAgain() {
    create(new TenantLimits(null, null, null, null, null, 1L));
    assertEquals(1, acquire("a", 1, Map.of(), Map.of(), 1, 1).reply().slots());
    assertTrue(acquire("b", 1, Map.of(), Map.of(), 1, 1).reply().slotsExhausted());
    settle("a", 1, Map.of(), Map.of(), 1);
    assertEquals(1, acquire("b", 2, Map.of(), Map.of(), 1, 1).reply().slots());
  }

  @Test
  void acquire_rpm20FromTwoNodes_neverMoreThan20AndExactly20Granted() {
    create(rpm(20));
    String[] nodes = {"a", "b"};
    long[] seqs = {0, 0};
    long total = 0;
    boolean[] denied = {false, false};
    for (int i = 0; !(denied[0] && denied[1]); i++) {
      int n = i % 2;
      if (denied[n]) {
        continue;
      }
      var result = acquireRpm(nodes[n], ++seqs[n], 1, QUOTA.prefetchMultiplier());
      long granted = result.reply().granted().getOrDefault(RPM, 0L);
      if (!result.reply().exhausted().isEmpty()) {
        assertEquals(0, granted);
        assertEquals(Instant.parse("2026-03-01T12:01:00Z"), result.reply().exhausted().get(RPM));
        denied[n] = true;
        continue;
      }
      assertTrue(granted >= 1);
      total += granted;
      assertTrue(total <= 20, "granted " + total + " of 20");
      assertEquals(total, QuotaLedger.committed(result.state(), RPM));
      assertTrue(i < 100, "terminates");
    }
    assertEquals(20, total);
    assertTrue(acquireRpm("c", 1, 1, 1).reply().exhausted().containsKey(RPM), "a third node gets nothing either");
  }

  @Test
  void acquire_rpm20NodesSpendAndSettle_usageNeverAbove20() {
    create(rpm(20));
    String[] nodes = {"a", "b"};
    long[] seqs = {0, 0};
    long[] held = {0, 0};
    for (int i = 0; i < 60; i++) {
      int n = i % 2;
      var result = acquireRpm(nodes[n], ++seqs[n], 1, 4);
      held[n] += result.reply().granted().getOrDefault(RPM, 0L);
      // The node spends all it holds and settles it as its cumulative usage.
      settle(nodes[n], seqs[n], Map.of(WindowKind.MINUTE, new UsageCounters(held[n], 0, 0, 0)), Map.of(), 0);
      assertTrue(held[0] + held[1] <= 20);
      assertTrue(QuotaLedger.committed(state(), RPM) <= 20);
    }
    assertEquals(20, held[0] + held[1]);
  }

  // ---------------------------------------------------------------- Settle

  @Test
  void settle_usageAndReturns_appliedAndLeaseRenewed() {
    create(new TenantLimits(100L, 1000L, null, null, null, 4L));
    acquire("a", 1, Map.of(RPM, 1L, TPM, 100L), Map.of(RPM, 32L, TPM, 400L), 1, 2);
    clock.advance(Duration.ofSeconds(3));
    UsageCounters used = new UsageCounters(2, 40, 60, 1234);
    var result = settle("a", 1, Map.of(WindowKind.MINUTE, used), Map.of(RPM, 20L), 1);

    Instant expiresAt = clock.instant().plus(QUOTA.leaseTtl());
    assertEquals(List.of(new UsageSettled("a", 1, currentWindows(clock.instant()), Map.of(WindowKind.MINUTE, used),
        Map.of(RPM, 20L), 1, expiresAt, clock.instant())), result.events());
    assertEquals(new SettleReply(true, expiresAt, 0L), result.reply());
    NodeShare a = result.state().nodes().get("a");
    assertEquals(used, a.used(WindowKind.MINUTE));
    assertEquals(12, a.granted(RPM));
    assertEquals(400, a.granted(TPM));
    assertEquals(1, a.slots());
    assertEquals(expiresAt, a.expiresAt());
    assertEquals(1, a.lastSettleSeq());
    changes.expectNoMessage(QUIET);
  }

  @Test
  void settle_duplicateSeq_appliedTrueWithoutNewEvent() {
    create(rpm(100));
    acquireRpm("a", 1, 1, 32);
    var first = settle("a", 1, Map.of(WindowKind.MINUTE, new UsageCounters(3, 0, 0, 0)), Map.of(RPM, 10L), 0);
    clock.advance(Duration.ofSeconds(1));
    var again = settle("a", 1, Map.of(WindowKind.MINUTE, new UsageCounters(3, 0, 0, 0)), Map.of(RPM, 10L), 0);
    assertTrue(again.hasNoEvents());
    assertEquals(new SettleReply(true, first.reply().expiresAt(), 1L), again.reply());
    assertEquals(22, again.state().nodes().get("a").granted(RPM), "returned once only");
    var older = settle("a", 0, Map.of(), Map.of(RPM, 10L), 0);
    assertTrue(older.hasNoEvents());
    assertTrue(older.reply().applied());
  }

  @Test
  void settle_afterAnUnansweredOne_priorSeqTellsTheNodeItWasNeverApplied() {
    create(rpm(100));
    acquireRpm("a", 1, 1, 32);
    settle("a", 1, Map.of(WindowKind.MINUTE, new UsageCounters(1, 0, 0, 0)), Map.of(), 0);
    // Settlement 2 (returning 10) is still on its way when 3 is applied: 3's reply says only 1 was.
    var third = settle("a", 3, Map.of(WindowKind.MINUTE, new UsageCounters(1, 0, 0, 0)), Map.of(), 0);
    assertEquals(1L, third.reply().priorSeq());
    // Should 2 still come, it is dropped, so the node was right to hold its 10 again.
    var second = settle("a", 2, Map.of(WindowKind.MINUTE, new UsageCounters(1, 0, 0, 0)), Map.of(RPM, 10L), 0);
    assertTrue(second.hasNoEvents());
    assertEquals(3L, second.reply().priorSeq());
    assertEquals(32, second.state().nodes().get("a").granted(RPM));
  }

  @Test
  void settle_pastDeadline_notAppliedNothingPersisted() {
    create(rpm(100));
    acquireRpm("a", 1, 1, 32);
    Instant now = clock.instant();
    var result = entity.<SettleReply>runCommand(r -> new Settle("a", 1, now.minusMillis(1), currentWindows(now),
        Map.of(WindowKind.MINUTE, new UsageCounters(3, 0, 0, 0)), Map.of(RPM, 10L), 0, r));
    assertTrue(result.hasNoEvents());
    assertEquals(new SettleReply(false, now, 0L), result.reply());
    assertEquals(0, state().nodes().get("a").lastSettleSeq());
  }

  @Test
  void settle_olderReportAfterNewer_usageKeepsTheMax() {
    create(rpm(100));
    acquireRpm("a", 1, 1, 32);
    settle("a", 2, Map.of(WindowKind.MINUTE, new UsageCounters(9, 0, 0, 0)), Map.of(), 0);
    var old = settle("a", 1, Map.of(WindowKind.MINUTE, new UsageCounters(4, 0, 0, 0)), Map.of(), 0);
    assertTrue(old.hasNoEvents(), "a lower seq is a duplicate");
    settle("a", 3, Map.of(WindowKind.MINUTE, new UsageCounters(7, 0, 0, 0)), Map.of(), 0);
    assertEquals(9, state().nodes().get("a").used(WindowKind.MINUTE).requests());
  }

  @Test
  void settle_afterWindowChanged_rollsFirst() {
    create(rpm(100));
    acquireRpm("a", 1, 1, 32);
    clock.set(Instant.parse("2026-03-01T12:01:05Z"));
    var result = settle("a", 1, Map.of(WindowKind.MINUTE, new UsageCounters(1, 0, 0, 0)), Map.of(), 0);
    assertEquals(2, result.events().size());
    assertEquals(WindowKind.MINUTE, assertInstanceOf(WindowRolled.class, result.events().get(0)).kind());
    assertInstanceOf(UsageSettled.class, result.events().get(1));
    assertEquals(1, result.state().nodes().get("a").used(WindowKind.MINUTE).requests());
    assertEquals(0, result.state().nodes().get("a").granted(RPM));
  }

  // ---------------------------------------------------------------- limit changes

  @Test
  void update_limitChange_revokesOutstandingGrantsDownToUsed() {
    create(rpm(20));
    acquireRpm("a", 1, 1, 32);
    settle("a", 1, Map.of(WindowKind.MINUTE, new UsageCounters(3, 0, 0, 0)), Map.of(), 0);
    assertEquals(10, state().nodes().get("a").granted(RPM));

    var update = entity.<StatusReply<TenantState>>runCommand(r -> new Update(rpm(30), false, null, r));
    assertEquals(List.of(new LimitsChanged(rpm(30), clock.instant())), update.events());
    assertEquals(3, update.state().nodes().get("a").granted(RPM));
    expectPublished(update.reply().getValue());

    // 27 left now, split between two live nodes: a quarter of it.
    assertEquals(Map.of(RPM, 6L), acquireRpm("b", 1, 1, 32).reply().granted());
  }

  @Test
  void update_lowerLimitBelowUsage_deniesUntilTheWindowResets() {
    create(rpm(20));
    acquireRpm("a", 1, 10, 10);
    settle("a", 1, Map.of(WindowKind.MINUTE, new UsageCounters(10, 0, 0, 0)), Map.of(), 0);
    entity.<StatusReply<TenantState>>runCommand(r -> new Update(rpm(5), false, null, r));
    assertTrue(acquireRpm("a", 2, 1, 1).reply().exhausted().containsKey(RPM));
    clock.set(Instant.parse("2026-03-01T12:01:00Z"));
    assertEquals(Map.of(RPM, 1L), acquireRpm("a", 3, 1, 1).reply().granted());
  }

  // ---------------------------------------------------------------- circuits

  @Test
  void reportUpstream_thresholdOf429s_opensCircuitForOpenForAndPublishes() {
    create(null);
    int threshold = QUOTA.circuitThreshold();
    assertEquals(3, threshold, "quota.conf");
    for (int i = 1; i < threshold; i++) {
      var r = report("d1", 429, 0, false);
      assertTrue(r.hasNoEvents(), "failure " + i + " is below the threshold");
    }
    changes.expectNoMessage(QUIET);
    var opened = report("d1", 429, 0, false);
    Instant now = clock.instant();
    assertEquals(List.of(new CircuitOpened("d1", 429, "upstream says 429", now.plus(QUOTA.circuitOpenFor()), now)),
        opened.events());
    assertEquals(new CircuitState(true, now.plus(Duration.ofSeconds(30)), 429, "upstream says 429"),
        opened.state().circuits().get("d1"));
    expectPublished(opened.state());
  }

  @Test
  void reportUpstream_retryAfterLongerThanOpenFor_opensForRetryAfter() {
    create(null);
    report("d1", 429, 0, false);
    report("d1", 403, 0, false);
    var opened = report("d1", 401, 120_000, false);
    assertEquals(clock.instant().plusSeconds(120), opened.state().circuits().get("d1").openUntil());
    assertEquals(401, opened.state().circuits().get("d1").lastStatus());
  }

  @Test
  void reportUpstream_retryAfterShorterThanOpenFor_opensForOpenFor() {
    create(null);
    report("d1", 429, 5_000, false);
    report("d1", 429, 5_000, false);
    var opened = report("d1", 429, 5_000, false);
    assertEquals(clock.instant().plus(QUOTA.circuitOpenFor()), opened.state().circuits().get("d1").openUntil());
  }

  @ParameterizedTest
  @ValueSource(ints = {500, 502, 503, 504, 400, 404, 408})
  void reportUpstream_otherStatuses_neverCount(int status) {
    create(null);
    for (int i = 0; i < 10; i++) {
      assertTrue(report("d1", status, 60_000, false).hasNoEvents());
    }
    report("d1", 429, 0, false);
    report("d1", 429, 0, false);
    assertTrue(report("d1", status, 0, false).hasNoEvents(), "neither counts nor resets");
    assertEquals(1, report("d1", 429, 0, false).events().size());
    assertTrue(state().circuits().containsKey("d1"));
  }

  @Test
  void reportUpstream_successBetweenFailures_resetsTheCount() {
    create(null);
    report("d1", 429, 0, false);
    report("d1", 429, 0, false);
    assertTrue(report("d1", 200, 0, true).hasNoEvents(), "success on a closed circuit persists nothing");
    report("d1", 429, 0, false);
    assertTrue(report("d1", 429, 0, false).hasNoEvents());
    assertEquals(1, report("d1", 429, 0, false).events().size());
  }

  @Test
  void reportUpstream_failuresPerDeployment_countedApart() {
    create(null);
    report("d1", 429, 0, false);
    report("d2", 429, 0, false);
    report("d1", 429, 0, false);
    report("d2", 429, 0, false);
    var d1 = report("d1", 429, 0, false);
    assertEquals("d1", assertInstanceOf(CircuitOpened.class, d1.events().get(0)).deployment());
    assertFalse(d1.state().circuits().containsKey("d2"));
  }

  @Test
  void reportUpstream_whileOpen_failuresIgnored() {
    create(null);
    openCircuit("d1");
    clock.advance(Duration.ofSeconds(29));
    for (int i = 0; i < 5; i++) {
      assertTrue(report("d1", 429, 600_000, false).hasNoEvents());
    }
    changes.expectNoMessage(QUIET);
  }

  @Test
  void reportUpstream_successWhileStillOpen_ignored() {
    // A request sent before the circuit opened may still succeed afterwards; only a probe in the
    // half-open state may close the circuit (CircuitState, ReportUpstream javadoc).
    create(null);
    openCircuit("d1");
    TenantState open = state();
    clock.advance(Duration.ofSeconds(1));
    var result = report("d1", 200, 0, true);
    assertTrue(result.hasNoEvents(), () -> "closed early: " + result.events());
    assertEquals(open.circuits(), result.state().circuits());
    changes.expectNoMessage(QUIET);
  }

  @Test
  void reportUpstream_successWhileHalfOpen_closesAndPublishes() {
    create(null);
    openCircuit("d1");
    clock.advance(QUOTA.circuitOpenFor());
    assertEquals("half_open", state().circuits().get("d1").status(clock.instant()));
    var closed = report("d1", 200, 0, true);
    assertEquals(List.of(new CircuitClosed("d1", clock.instant())), closed.events());
    assertNull(closed.state().circuits().get("d1"));
    expectPublished(closed.state());
  }

  @Test
  void reportUpstream_failureWhileHalfOpen_reopensAtOnce() {
    create(null);
    openCircuit("d1");
    clock.advance(QUOTA.circuitOpenFor().plusSeconds(1));
    var reopened = report("d1", 429, 0, false);
    assertEquals(1, reopened.events().size());
    assertEquals(clock.instant().plus(QUOTA.circuitOpenFor()), reopened.state().circuits().get("d1").openUntil());
    expectPublished(reopened.state());
  }

  @Test
  void reportUpstream_missingTenant_ignored() {
    for (int i = 0; i < 5; i++) {
      assertTrue(report("d1", 429, 0, false).hasNoEvents());
    }
    assertTrue(report("d1", 200, 0, true).hasNoEvents());
    changes.expectNoMessage(QUIET);
  }

  private void openCircuit(String deployment) {
    for (int i = 0; i < QUOTA.circuitThreshold(); i++) {
      report(deployment, 429, 0, false);
    }
    assertTrue(state().circuits().get(deployment).open());
    expectPublished(state());
  }

  // ---------------------------------------------------------------- recovery

  @Test
  void restart_afterLeasesUsageAndCircuits_recoversExactly() {
    create(new TenantLimits(20L, 1000L, 5000L, null, null, 3L));
    acquire("a", 1, Map.of(RPM, 1L, TPM, 100L), Map.of(RPM, 32L, TPM, 400L, Quantity.TOKENS_PER_DAY, 800L), 1, 2);
    acquire("b", 1, Map.of(RPM, 1L), Map.of(RPM, 4L), 1, 1);
    settle("a", 1, Map.of(WindowKind.MINUTE, new UsageCounters(2, 30, 40, 0),
        WindowKind.DAY, new UsageCounters(2, 30, 40, 0)), Map.of(TPM, 50L), 1);
    openCircuit("d1");
    clock.set(Instant.parse("2026-03-01T12:01:10Z"));
    acquireRpm("b", 2, 1, 4);
    TenantState before = state();

    TenantState after = entity.restart().state();

    assertEquals(before, after);
    assertEquals(before.nodes(), after.nodes());
    assertEquals(before.windows(), after.windows());
    assertEquals(before.circuits(), after.circuits());
    // The recovered entity applies neither a repeated acquire nor a repeated settle again.
    assertTrue(acquireRpm("b", 2, 1, 4).hasNoEvents());
    assertTrue(settle("a", 1, Map.of(), Map.of(), 0).hasNoEvents());
    assertEquals(before, state());
  }

  @Test
  void restart_pastSnapshotInterval_recoversLeases() {
    create(new TenantLimits(1_000_000L, null, null, null, null, null));
    for (int i = 1; i <= 110; i++) {
      acquireRpm(i % 2 == 0 ? "a" : "b", i, 1, 2);
      if (i % 10 == 0) {
        settle("a", i, Map.of(WindowKind.MINUTE, new UsageCounters(i, 0, 0, 0)), Map.of(), 0);
      }
    }
    TenantState before = state();
    assertTrue(before.revision() > 100);
    assertEquals(before, entity.restart().state());
  }
}
