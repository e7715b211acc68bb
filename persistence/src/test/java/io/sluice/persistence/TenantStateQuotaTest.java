package io.sluice.persistence;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.persistence.TenantEvent.CircuitClosed;
import io.sluice.persistence.TenantEvent.CircuitOpened;
import io.sluice.persistence.TenantEvent.KeyIssued;
import io.sluice.persistence.TenantEvent.LeaseGranted;
import io.sluice.persistence.TenantEvent.LimitsChanged;
import io.sluice.persistence.TenantEvent.ModelsChanged;
import io.sluice.persistence.TenantEvent.TenantCreated;
import io.sluice.persistence.TenantEvent.TenantDisabled;
import io.sluice.persistence.TenantEvent.UsageSettled;
import io.sluice.persistence.TenantEvent.WindowRolled;
import java.math.BigDecimal;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

class TenantStateQuotaTest {
  private static final Instant T0 = Instant.parse("2026-03-01T12:00:30Z");
  private static final Instant LIVE = T0.plusSeconds(30);
  private static final Instant LATER = T0.plusSeconds(90);
  private static final long MINUTE = 100;
  private static final long DAY = 20;
  private static final long MONTH = 3;
  private static final Map<WindowKind, Long> CURRENT =
      Map.of(WindowKind.MINUTE, MINUTE, WindowKind.DAY, DAY, WindowKind.MONTH, MONTH);
  private static final Quantity RPM = Quantity.REQUESTS_PER_MINUTE;
  private static final Quantity TPM = Quantity.TOKENS_PER_MINUTE;
  private static final Quantity TPD = Quantity.TOKENS_PER_DAY;
  private static final Quantity SPD = Quantity.SPEND_PER_DAY;
  private static final Quantity SPM = Quantity.SPEND_PER_MONTH;

  /** A tenant in the windows {@link #CURRENT}. */
  private static TenantState tenant() {
    return TenantState.EMPTY
        .apply(new TenantCreated("acme", new TenantLimits(100L, 10_000L, null, null, null, 4L), null, T0))
        .apply(new WindowRolled(WindowKind.MINUTE, MINUTE, T0))
        .apply(new WindowRolled(WindowKind.DAY, DAY, T0))
        .apply(new WindowRolled(WindowKind.MONTH, MONTH, T0));
  }

  private static LeaseGranted grant(String node, long seq, Map<Quantity, Long> amounts, long slots, Instant expiresAt) {
    return new LeaseGranted(node, seq, amounts, CURRENT, slots, expiresAt, T0);
  }

  private static UsageSettled settle(String node, long seq, Map<WindowKind, UsageCounters> used,
      Map<Quantity, Long> returned, long slotsReturned, Instant expiresAt) {
    return new UsageSettled(node, seq, CURRENT, used, returned, slotsReturned, expiresAt, T0);
  }

  private static UsageCounters usage(long requests, long prompt, long completion, long cost) {
    return new UsageCounters(requests, prompt, completion, cost);
  }

  // ---------------------------------------------------------------- windows and revisions

  @Test
  void window_neverRolled_minusOne() {
    for (WindowKind k : WindowKind.values()) {
      assertEquals(-1, TenantState.EMPTY.window(k));
    }
  }

  @Test
  void apply_windowRolled_setsThatKindsIdOnlyAndCountsARevision() {
    TenantState s = tenant();
    assertEquals(CURRENT, s.windows());
    assertEquals(4, s.revision());
    TenantState rolled = s.apply(new WindowRolled(WindowKind.MINUTE, MINUTE + 1, T0));
    assertEquals(MINUTE + 1, rolled.window(WindowKind.MINUTE));
    assertEquals(DAY, rolled.window(WindowKind.DAY));
    assertEquals(MONTH, rolled.window(WindowKind.MONTH));
    assertEquals(5, rolled.revision());
  }

  @Test
  void apply_quotaEvents_eachCountsOneRevision() {
    TenantState s = tenant();
    List<TenantEvent> events = List.of(
        grant("a", 1, Map.of(RPM, 5L), 1, LIVE),
        settle("a", 1, Map.of(WindowKind.MINUTE, usage(1, 0, 0, 0)), Map.of(), 0, LIVE),
        new CircuitOpened("d1", 429, "slow down", LATER, T0),
        new CircuitClosed("d1", T0),
        new WindowRolled(WindowKind.DAY, DAY + 1, T0));
    for (TenantEvent e : events) {
      long before = s.revision();
      s = s.apply(e);
      assertEquals(before + 1, s.revision(), e.getClass().getSimpleName());
    }
  }

  // ---------------------------------------------------------------- LeaseGranted

  @Test
  void apply_leaseGrantedNewNode_createsItsShare() {
    TenantState s = tenant().apply(grant("a", 7, Map.of(RPM, 10L, TPM, 500L, SPM, 9L), 2, LIVE));
    NodeShare a = s.nodes().get("a");
    assertEquals(Map.of(RPM, 10L, TPM, 500L, SPM, 9L), a.granted());
    assertEquals(Map.of(), a.used());
    assertEquals(2, a.slots());
    assertEquals(LIVE, a.expiresAt());
    assertEquals(7, a.lastAcquireSeq());
    assertEquals(0, a.lastSettleSeq());
  }

  @Test
  void apply_twoGrants_addUpAndKeepTheLaterExpiryAndHigherSeq() {
    TenantState s = tenant()
        .apply(grant("a", 2, Map.of(RPM, 10L), 1, LATER))
        .apply(grant("a", 3, Map.of(RPM, 5L, TPD, 100L), 2, LIVE));
    NodeShare a = s.nodes().get("a");
    assertEquals(Map.of(RPM, 15L, TPD, 100L), a.granted());
    assertEquals(3, a.slots());
    assertEquals(LATER, a.expiresAt(), "an earlier expiry never shortens a lease");
    assertEquals(3, a.lastAcquireSeq());
    TenantState older = s.apply(grant("a", 1, Map.of(), 0, LIVE));
    assertEquals(3, older.nodes().get("a").lastAcquireSeq(), "the seq only grows");
  }

  @Test
  void apply_grantsToTwoNodes_keptApart() {
    TenantState s = tenant().apply(grant("a", 1, Map.of(RPM, 10L), 0, LIVE))
        .apply(grant("b", 1, Map.of(RPM, 3L), 1, LIVE));
    assertEquals(10, s.nodes().get("a").granted(RPM));
    assertEquals(3, s.nodes().get("b").granted(RPM));
    assertEquals(0, s.nodes().get("a").slots());
    assertEquals(1, s.nodes().get("b").slots());
  }

  /** A grant decided in an older (or newer) window of one kind: only the other kinds' amounts count. */
  @ParameterizedTest(name = "{0} window off by {1}")
  @CsvSource({
      "MINUTE, -1", "MINUTE, 1", "DAY, -1", "DAY, 1", "MONTH, -1", "MONTH, 1",
  })
  void apply_leaseGrantedForAnotherWindow_onlyCurrentWindowsAmountsAdded(WindowKind stale, long offset) {
    Map<WindowKind, Long> windows = new java.util.EnumMap<>(CURRENT);
    windows.merge(stale, offset, Long::sum);
    Map<Quantity, Long> amounts = Map.of(RPM, 1L, TPM, 2L, TPD, 3L, SPD, 4L, SPM, 5L);
    TenantState s = tenant().apply(new LeaseGranted("a", 1, amounts, windows, 2, LIVE, T0));
    NodeShare a = s.nodes().get("a");
    for (Quantity q : Quantity.values()) {
      assertEquals(q.window() == stale ? 0 : amounts.get(q), a.granted(q), q.name());
    }
    assertEquals(2, a.slots(), "slots do not belong to a window");
    assertEquals(LIVE, a.expiresAt());
  }

  @Test
  void apply_leaseGrantedWithoutWindows_grantsNothing() {
    TenantState s = tenant().apply(new LeaseGranted("a", 1, Map.of(RPM, 5L), Map.of(), 0, LIVE, T0));
    assertEquals(0, s.nodes().get("a").granted(RPM));
  }

  // ---------------------------------------------------------------- UsageSettled

  @Test
  void apply_usageSettled_recordsCumulativeUsagePerWindow() {
    TenantState s = tenant().apply(settle("a", 1,
        Map.of(WindowKind.MINUTE, usage(3, 100, 50, 900), WindowKind.DAY, usage(30, 1000, 500, 9000)), Map.of(), 0,
        LIVE));
    NodeShare a = s.nodes().get("a");
    assertEquals(usage(3, 100, 50, 900), a.used(WindowKind.MINUTE));
    assertEquals(usage(30, 1000, 500, 9000), a.used(WindowKind.DAY));
    assertEquals(UsageCounters.ZERO, a.used(WindowKind.MONTH));
    assertEquals(1, a.lastSettleSeq());
    assertEquals(0, a.lastAcquireSeq());
    assertEquals(LIVE, a.expiresAt());
  }

  @Test
  void apply_laterReportThenReorderedOlderReport_usageNeverGoesDown() {
    UsageCounters newer = usage(5, 200, 80, 1500);
    UsageCounters older = usage(3, 120, 40, 900);
    TenantState s = tenant()
        .apply(settle("a", 2, Map.of(WindowKind.MINUTE, newer), Map.of(), 0, LATER))
        .apply(settle("a", 1, Map.of(WindowKind.MINUTE, older), Map.of(), 0, LIVE));
    NodeShare a = s.nodes().get("a");
    assertEquals(newer, a.used(WindowKind.MINUTE));
    assertEquals(2, a.lastSettleSeq());
    assertEquals(LATER, a.expiresAt());
  }

  @Test
  void apply_sameReportTwice_idempotentUsage() {
    UsageCounters u = usage(5, 200, 80, 1500);
    UsageSettled e = settle("a", 1, Map.of(WindowKind.DAY, u), Map.of(), 0, LIVE);
    TenantState once = tenant().apply(e);
    TenantState twice = once.apply(e);
    assertEquals(once.nodes(), twice.nodes());
  }

  @Test
  void apply_growingReports_usageIsTheLatest() {
    TenantState s = tenant();
    for (int i = 1; i <= 5; i++) {
      s = s.apply(settle("a", i, Map.of(WindowKind.MINUTE, usage(i, 10L * i, 5L * i, 100L * i)), Map.of(), 0, LIVE));
    }
    assertEquals(usage(5, 50, 25, 500), s.nodes().get("a").used(WindowKind.MINUTE));
  }

  @Test
  void apply_usageSettledForAnotherWindow_ignoresThatKind() {
    Map<WindowKind, Long> windows = Map.of(WindowKind.MINUTE, MINUTE - 1, WindowKind.DAY, DAY, WindowKind.MONTH, MONTH);
    TenantState s = tenant().apply(new UsageSettled("a", 1, windows,
        Map.of(WindowKind.MINUTE, usage(9, 9, 9, 9), WindowKind.DAY, usage(1, 1, 1, 1)), Map.of(), 0, LIVE, T0));
    NodeShare a = s.nodes().get("a");
    assertEquals(UsageCounters.ZERO, a.used(WindowKind.MINUTE));
    assertEquals(usage(1, 1, 1, 1), a.used(WindowKind.DAY));
    assertEquals(1, a.lastSettleSeq());
  }

  @Test
  void apply_returnedAmounts_reduceGrantsNeverBelowZero() {
    TenantState s = tenant().apply(grant("a", 1, Map.of(RPM, 10L, TPM, 500L, TPD, 700L), 0, LIVE))
        .apply(settle("a", 1, Map.of(), Map.of(RPM, 4L, TPM, 900L, SPD, 5L), 0, LIVE));
    NodeShare a = s.nodes().get("a");
    assertEquals(6, a.granted(RPM));
    assertEquals(0, a.granted(TPM), "returning more than granted stops at zero");
    assertEquals(700, a.granted(TPD), "not returned");
    assertEquals(0, a.granted(SPD), "nothing to return");
    assertFalse(a.granted().containsKey(SPD), "returning what was never granted adds no entry");
  }

  @Test
  void apply_returnedForAnotherWindow_notReturned() {
    TenantState s = tenant().apply(grant("a", 1, Map.of(RPM, 10L, TPD, 100L), 0, LIVE));
    Map<WindowKind, Long> windows = Map.of(WindowKind.MINUTE, MINUTE - 1, WindowKind.DAY, DAY, WindowKind.MONTH, MONTH);
    s = s.apply(new UsageSettled("a", 1, windows, Map.of(), Map.of(RPM, 10L, TPD, 40L), 0, LIVE, T0));
    assertEquals(10, s.nodes().get("a").granted(RPM));
    assertEquals(60, s.nodes().get("a").granted(TPD));
  }

  @ParameterizedTest(name = "held {0}, returned {1} -> {2}")
  @CsvSource({"3, 1, 2", "3, 3, 0", "3, 5, 0", "0, 1, 0", "2, 0, 2"})
  void apply_slotsReturned_reduceSlotsNeverBelowZero(long held, long returned, long expected) {
    TenantState s = tenant().apply(grant("a", 1, Map.of(), held, LIVE))
        .apply(settle("a", 1, Map.of(), Map.of(), returned, LIVE));
    assertEquals(expected, s.nodes().get("a").slots());
  }

  @Test
  void apply_settle_extendsExpiryButNeverShortensIt() {
    TenantState s = tenant().apply(grant("a", 1, Map.of(RPM, 1L), 0, LIVE))
        .apply(settle("a", 1, Map.of(), Map.of(), 0, LATER));
    assertEquals(LATER, s.nodes().get("a").expiresAt());
    s = s.apply(settle("a", 2, Map.of(), Map.of(), 0, LIVE));
    assertEquals(LATER, s.nodes().get("a").expiresAt());
    assertEquals(2, s.nodes().get("a").lastSettleSeq());
    assertEquals(1, s.nodes().get("a").lastAcquireSeq(), "settling keeps the acquire seq");
  }

  // ---------------------------------------------------------------- WindowRolled

  @Test
  void apply_minuteRolled_clearsMinuteGrantsAndUsageOnly() {
    TenantState s = tenant()
        .apply(grant("a", 1, Map.of(RPM, 10L, TPM, 500L, TPD, 700L, SPD, 80L, SPM, 90L), 2, LIVE))
        .apply(settle("a", 1, Map.of(WindowKind.MINUTE, usage(1, 2, 3, 4), WindowKind.DAY, usage(5, 6, 7, 8),
            WindowKind.MONTH, usage(9, 10, 11, 12)), Map.of(), 0, LIVE))
        .apply(new WindowRolled(WindowKind.MINUTE, MINUTE + 1, T0));
    NodeShare a = s.nodes().get("a");
    assertEquals(Map.of(TPD, 700L, SPD, 80L, SPM, 90L), a.granted());
    assertEquals(Map.of(WindowKind.DAY, usage(5, 6, 7, 8), WindowKind.MONTH, usage(9, 10, 11, 12)), a.used());
    assertEquals(2, a.slots(), "slots survive a roll");
    assertEquals(LIVE, a.expiresAt());
    assertEquals(1, a.lastAcquireSeq());
    assertEquals(1, a.lastSettleSeq());
  }

  @ParameterizedTest
  @EnumSource(WindowKind.class)
  void apply_kindRolled_clearsExactlyThatKindsQuantities(WindowKind kind) {
    Map<Quantity, Long> all = Map.of(RPM, 1L, TPM, 2L, TPD, 3L, SPD, 4L, SPM, 5L);
    TenantState s = tenant().apply(grant("a", 1, all, 0, LIVE))
        .apply(settle("a", 1, Map.of(WindowKind.MINUTE, usage(1, 1, 1, 1), WindowKind.DAY, usage(2, 2, 2, 2),
            WindowKind.MONTH, usage(3, 3, 3, 3)), Map.of(), 0, LIVE))
        .apply(new WindowRolled(kind, CURRENT.get(kind) + 1, T0));
    NodeShare a = s.nodes().get("a");
    for (Quantity q : Quantity.values()) {
      assertEquals(q.window() == kind ? 0 : all.get(q), a.granted(q), q.name());
    }
    for (WindowKind k : WindowKind.values()) {
      assertEquals(k == kind, a.used(k).equals(UsageCounters.ZERO), k.name());
    }
    assertEquals(CURRENT.get(kind) + 1, s.window(kind));
  }

  @Test
  void apply_rolledThenOldWindowGrant_ignored() {
    TenantState s = tenant().apply(new WindowRolled(WindowKind.MINUTE, MINUTE + 1, T0))
        .apply(grant("a", 1, Map.of(RPM, 10L, TPD, 5L), 0, LIVE)); // decided in MINUTE, which is over
    assertEquals(0, s.nodes().get("a").granted(RPM));
    assertEquals(5, s.nodes().get("a").granted(TPD));
  }

  /** Which nodes survive a MINUTE roll at T0: pruned only when expired and empty afterwards. */
  static Stream<Arguments> pruneCases() {
    Instant expired = T0.minusSeconds(1);
    return Stream.of(
        Arguments.of("expired, only minute grants", grant("n", 1, Map.of(RPM, 5L), 0, expired), false),
        Arguments.of("expiring exactly at the roll", grant("n", 1, Map.of(RPM, 5L), 0, T0), false),
        Arguments.of("live, only minute grants", grant("n", 1, Map.of(RPM, 5L), 0, LIVE), true),
        Arguments.of("expired, a day grant", grant("n", 1, Map.of(TPD, 5L), 0, expired), true),
        Arguments.of("expired, slots (free again once expired)", grant("n", 1, Map.of(), 1, expired), false),
        Arguments.of("expired, day usage", settle("n", 1, Map.of(WindowKind.DAY, usage(1, 0, 0, 0)), Map.of(), 0,
            expired), true),
        Arguments.of("expired, minute usage", settle("n", 1, Map.of(WindowKind.MINUTE, usage(1, 0, 0, 0)), Map.of(),
            0, expired), false),
        Arguments.of("expired, nothing", grant("n", 1, Map.of(), 0, expired), false));
  }

  @ParameterizedTest(name = "{0} -> kept {2}")
  @MethodSource("pruneCases")
  void apply_windowRolled_prunesOnlyExpiredEmptyNodes(String name, TenantEvent nodeEvent, boolean kept) {
    TenantState s = tenant().apply(grant("live", 1, Map.of(RPM, 1L), 0, LIVE)).apply(nodeEvent)
        .apply(new WindowRolled(WindowKind.MINUTE, MINUTE + 1, T0));
    assertEquals(kept, s.nodes().containsKey("n"));
    assertTrue(s.nodes().containsKey("live"), "a live node stays even when empty");
    assertEquals(Map.of(), s.nodes().get("live").granted());
  }

  @Test
  void apply_windowRolled_keepsCircuitsLimitsAndKeys() {
    TenantState s = tenant().apply(new KeyIssued("k", "h", T0))
        .apply(new CircuitOpened("d1", 429, "x", LATER, T0));
    TenantState rolled = s.apply(new WindowRolled(WindowKind.MONTH, MONTH + 1, T0));
    assertEquals(s.circuits(), rolled.circuits());
    assertEquals(s.keys(), rolled.keys());
    assertEquals(s.limits(), rolled.limits());
  }

  // ---------------------------------------------------------------- LimitsChanged

  @Test
  void apply_limitsChanged_revokesGrantsDownToUsed() {
    TenantState s = tenant()
        .apply(grant("a", 1, Map.of(RPM, 10L, TPM, 500L, TPD, 700L, SPM, 50L), 2, LIVE))
        .apply(settle("a", 1, Map.of(WindowKind.MINUTE, usage(3, 300, 400, 0), WindowKind.MONTH, usage(0, 0, 0, 20)),
            Map.of(), 0, LIVE))
        .apply(grant("b", 1, Map.of(RPM, 4L), 1, LIVE));
    TenantLimits l = new TenantLimits(5L, null, null, null, null, null);
    TenantState changed = s.apply(new LimitsChanged(l, LATER));
    assertEquals(l, changed.limits());
    NodeShare a = changed.nodes().get("a");
    assertEquals(3, a.granted(RPM), "10 granted, 3 used");
    assertEquals(500, a.granted(TPM), "used 700 > granted 500: the grant stays, usage counts anyway");
    assertEquals(0, a.granted(TPD), "nothing used of the day's tokens");
    assertEquals(20, a.granted(SPM));
    for (Quantity q : Quantity.values()) {
      assertEquals(q.of(a.used(q.window())), a.committed(q), "after revocation a node commits only what it used");
    }
    assertEquals(2, a.slots(), "slots are not revoked");
    assertEquals(s.nodes().get("a").used(), a.used());
    assertEquals(0, changed.nodes().get("b").granted(RPM));
    assertEquals(1, changed.nodes().get("b").slots());
    assertEquals(s.windows(), changed.windows());
  }

  @Test
  void apply_otherEvents_leaveQuotaStateAlone() {
    TenantState s = tenant().apply(grant("a", 1, Map.of(RPM, 10L), 1, LIVE))
        .apply(new CircuitOpened("d1", 401, "bad key", LATER, T0));
    for (TenantEvent e : List.<TenantEvent>of(new ModelsChanged(List.of("m"), T0), new TenantDisabled(T0),
        new KeyIssued("k", "h", T0))) {
      TenantState next = s.apply(e);
      assertEquals(s.nodes(), next.nodes());
      assertEquals(s.windows(), next.windows());
      assertEquals(s.circuits(), next.circuits());
    }
  }

  // ---------------------------------------------------------------- circuits

  @Test
  void apply_circuitOpened_recordsItAndStatusFollowsTime() {
    TenantState s = tenant().apply(new CircuitOpened("d1", 429, "rate limited", LATER, T0));
    CircuitState c = s.circuits().get("d1");
    assertEquals(new CircuitState(true, LATER, 429, "rate limited"), c);
    assertEquals("open", c.status(T0));
    assertEquals("open", c.status(LATER.minusNanos(1)));
    assertEquals("half_open", c.status(LATER));
    assertEquals("half_open", c.status(LATER.plusSeconds(3600)));
  }

  @Test
  void apply_circuitOpenedAgain_replacesIt() {
    TenantState s = tenant().apply(new CircuitOpened("d1", 429, "a", LIVE, T0))
        .apply(new CircuitOpened("d1", 403, "b", LATER, T0));
    assertEquals(new CircuitState(true, LATER, 403, "b"), s.circuits().get("d1"));
    assertEquals(1, s.circuits().size());
  }

  @Test
  void apply_circuitClosed_removesOnlyThatDeployment() {
    TenantState s = tenant().apply(new CircuitOpened("d1", 429, "a", LIVE, T0))
        .apply(new CircuitOpened("d2", 401, "b", LATER, T0))
        .apply(new CircuitClosed("d1", LATER));
    assertNull(s.circuits().get("d1"));
    assertEquals(new CircuitState(true, LATER, 401, "b"), s.circuits().get("d2"));
  }

  @Test
  void apply_circuitClosedUnknown_noChangeButRevision() {
    TenantState s = tenant();
    TenantState next = s.apply(new CircuitClosed("nope", T0));
    assertEquals(Map.of(), next.circuits());
    assertEquals(s.revision() + 1, next.revision());
  }

  @Test
  void circuitState_closed_isClosedAtAnyTime() {
    assertEquals("closed", CircuitState.CLOSED.status(T0));
    assertEquals("closed", new CircuitState(false, LATER, 429, "x").status(T0));
  }

  // ---------------------------------------------------------------- NodeShare

  @ParameterizedTest(name = "{0}: used {1}, granted {2} -> {3}")
  @CsvSource({
      "REQUESTS_PER_MINUTE, 0, 0, 0",
      "REQUESTS_PER_MINUTE, 3, 10, 10",
      "REQUESTS_PER_MINUTE, 12, 10, 12",
      "TOKENS_PER_MINUTE, 150, 100, 150",
      "TOKENS_PER_MINUTE, 50, 100, 100",
      "TOKENS_PER_DAY, 150, 0, 150",
      "SPEND_PER_DAY, 7, 9, 9",
      "SPEND_PER_MONTH, 11, 9, 11",
  })
  void committed_usedAndGranted_isTheMax(Quantity q, long used, long granted, long expected) {
    // prompt + completion tokens split 1:2 where tokens are counted
    UsageCounters u = new UsageCounters(used, used / 3, used - used / 3, used);
    NodeShare share = new NodeShare(granted == 0 ? Map.of() : Map.of(q, granted), Map.of(q.window(), u), 0,
        LIVE, 0, 0);
    assertEquals(used, q.of(u));
    assertEquals(expected, share.committed(q));
  }

  @Test
  void committed_usageOfAnotherWindowKind_doesNotCount() {
    NodeShare share = new NodeShare(Map.of(), Map.of(WindowKind.DAY, usage(5, 5, 5, 5)), 0, LIVE, 0, 0);
    assertEquals(0, share.committed(RPM));
    assertEquals(0, share.committed(TPM));
    assertEquals(10, share.committed(TPD));
    assertEquals(5, share.committed(SPD));
    assertEquals(0, share.committed(SPM));
  }

  @Test
  void live_beforeExpiry_trueAtExpiry_false() {
    NodeShare share = new NodeShare(Map.of(), Map.of(), 0, LIVE, 0, 0);
    assertTrue(share.live(T0));
    assertTrue(share.live(LIVE.minusNanos(1)));
    assertFalse(share.live(LIVE));
    assertFalse(NodeShare.EMPTY.live(T0));
  }

  @Test
  void quantity_of_readsTheRightCounter() {
    UsageCounters u = usage(1, 20, 300, 4000);
    assertEquals(1, RPM.of(u));
    assertEquals(320, TPM.of(u));
    assertEquals(320, TPD.of(u));
    assertEquals(4000, SPD.of(u));
    assertEquals(4000, SPM.of(u));
    assertEquals(320, u.tokens());
  }

  @Test
  void usageCounters_maxAndPlus_fieldWise() {
    UsageCounters a = usage(1, 50, 3, 400);
    UsageCounters b = usage(2, 10, 30, 40);
    assertEquals(usage(2, 50, 30, 400), a.max(b));
    assertEquals(a.max(b), b.max(a));
    assertEquals(usage(3, 60, 33, 440), a.plus(b));
  }

  // ---------------------------------------------------------------- constructor defaults

  @Test
  void constructor_nullQuotaMaps_readBackEmpty() {
    TenantState s = new TenantState("acme", true, TenantLimits.UNLIMITED, null, Map.of(), T0, 1, null, null, null, null);
    assertEquals(Map.of(), s.windows());
    assertEquals(Map.of(), s.nodes());
    assertEquals(Map.of(), s.circuits());
    assertEquals(RegionRights.EMPTY, s.rights());
  }

  @Test
  void apply_tenantCreatedAfterQuotaEvents_keepsThem() {
    // Events for a tenant id can precede its creation (a settle racing a create); creating keeps them.
    TenantState s = TenantState.EMPTY.apply(new WindowRolled(WindowKind.DAY, DAY, T0))
        .apply(new CircuitOpened("d1", 429, "x", LATER, T0))
        .apply(new TenantCreated("acme", TenantLimits.UNLIMITED, null, T0));
    assertEquals(DAY, s.window(WindowKind.DAY));
    assertEquals(1, s.circuits().size());
  }

  @Test
  void apply_limitsChangedWithSpend_keepsBigDecimal() {
    TenantLimits l = new TenantLimits(null, null, null, new BigDecimal("2.50"), null, null);
    assertEquals(new BigDecimal("2.50"), tenant().apply(new LimitsChanged(l, T0)).limits().spendUsdPerDay());
  }
}
