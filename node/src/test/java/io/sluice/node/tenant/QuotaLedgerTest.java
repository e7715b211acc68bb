package io.sluice.node.tenant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.sluice.persistence.Quantity;
import io.sluice.persistence.TenantEvent.LeaseGranted;
import io.sluice.persistence.TenantEvent.TenantCreated;
import io.sluice.persistence.TenantEvent.UsageSettled;
import io.sluice.persistence.TenantEvent.WindowRolled;
import io.sluice.persistence.TenantLimits;
import io.sluice.persistence.TenantState;
import io.sluice.persistence.UsageCounters;
import io.sluice.persistence.WindowKind;
import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

class QuotaLedgerTest {
  private static final Instant NOW = Instant.parse("2026-03-01T12:00:30Z");
  private static final Instant NEXT_MINUTE = Instant.parse("2026-03-01T12:01:00Z");
  private static final Instant NEXT_DAY = Instant.parse("2026-03-02T00:00:00Z");
  private static final Instant NEXT_MONTH = Instant.parse("2026-04-01T00:00:00Z");
  private static final Instant LIVE = NOW.plusSeconds(30);
  private static final Instant EXPIRED = NOW.minusSeconds(1);
  private static final QuotaSettings SETTINGS = new QuotaSettings(Duration.ofSeconds(30), 0.5, 32, 0.25,
      Duration.ofMillis(500), 1000, 100, 64, Duration.ofSeconds(5), Duration.ofSeconds(1), 256, Duration.ofSeconds(2), 16, 3,
      Duration.ofSeconds(30), true, 0.01, 100_000, 60, Duration.ofSeconds(1));
  private static final QuotaLedger LEDGER = new QuotaLedger(SETTINGS);
  private static final String SELF = "node-a";

  private static long seq;

  // ---------------------------------------------------------------- helpers

  private static TenantLimits rpm(long rpm) {
    return new TenantLimits(rpm, null, null, null, null, null);
  }

  private static TenantLimits slotsLimit(long slots) {
    return new TenantLimits(null, null, null, null, null, slots);
  }

  /** A created tenant whose windows are current at {@link #NOW}. */
  private static TenantState tenant(TenantLimits limits) {
    TenantState s = TenantState.EMPTY.apply(new TenantCreated("acme", limits, null, NOW));
    for (WindowRolled r : LEDGER.rolls(s, NOW)) {
      s = s.apply(r);
    }
    return s;
  }

  private static Map<WindowKind, Long> windows(TenantState s) {
    Map<WindowKind, Long> w = new EnumMap<>(WindowKind.class);
    for (WindowKind k : WindowKind.values()) {
      w.put(k, s.window(k));
    }
    return w;
  }

  private static TenantState granted(TenantState s, String node, Map<Quantity, Long> amounts, long slots,
      Instant expiresAt) {
    return s.apply(new LeaseGranted(node, ++seq, amounts, windows(s), slots, expiresAt, NOW));
  }

  private static TenantState applyGrant(TenantState s, String node, QuotaLedger.Grant g, Instant expiresAt) {
    return granted(s, node, g.amounts(), g.slots(), expiresAt);
  }

  private static TenantState settled(TenantState s, String node, WindowKind kind, UsageCounters used,
      Instant expiresAt) {
    return s.apply(new UsageSettled(node, ++seq, windows(s), Map.of(kind, used), Map.of(), 0, expiresAt, NOW));
  }

  private static QuotaLedger.Grant decide(TenantState s, Map<Quantity, Long> needed, Map<Quantity, Long> wanted) {
    return LEDGER.decide(s, SELF, needed, wanted, 0, 0, NOW);
  }

  private static QuotaLedger.Grant decideRpm(TenantState s, String node, long need, long want) {
    return LEDGER.decide(s, node, Map.of(Quantity.REQUESTS_PER_MINUTE, need),
        Map.of(Quantity.REQUESTS_PER_MINUTE, want), 0, 0, NOW);
  }

  private static long rpmGrant(QuotaLedger.Grant g) {
    return g.amounts().getOrDefault(Quantity.REQUESTS_PER_MINUTE, 0L);
  }

  // ---------------------------------------------------------------- settings

  @Test
  void from_defaultConfig_readsQuotaAndCircuitSettings() {
    QuotaSettings s = QuotaSettings.from(ConfigFactory.load());
    assertEquals(SETTINGS, s, "these tests assume the shipped defaults");
  }

  // ---------------------------------------------------------------- limit

  @ParameterizedTest
  @EnumSource(Quantity.class)
  void limit_nullField_unlimitedMinusOne(Quantity q) {
    assertEquals(-1, QuotaLedger.limit(TenantLimits.UNLIMITED, q));
  }

  @Test
  void limit_countFields_returnedAsIs() {
    TenantLimits l = new TenantLimits(60L, 1000L, 50_000L, null, null, 4L);
    assertEquals(60, QuotaLedger.limit(l, Quantity.REQUESTS_PER_MINUTE));
    assertEquals(1000, QuotaLedger.limit(l, Quantity.TOKENS_PER_MINUTE));
    assertEquals(50_000, QuotaLedger.limit(l, Quantity.TOKENS_PER_DAY));
    assertEquals(-1, QuotaLedger.limit(l, Quantity.SPEND_PER_DAY));
    assertEquals(-1, QuotaLedger.limit(l, Quantity.SPEND_PER_MONTH));
    assertEquals(4, QuotaLedger.slotLimit(l));
  }

  @ParameterizedTest
  @ValueSource(longs = {0, 1, Long.MAX_VALUE})
  void limit_extremeCounts_returnedAsIs(long v) {
    TenantLimits l = new TenantLimits(v, v, v, null, null, v);
    assertEquals(v, QuotaLedger.limit(l, Quantity.REQUESTS_PER_MINUTE));
    assertEquals(v, QuotaLedger.limit(l, Quantity.TOKENS_PER_MINUTE));
    assertEquals(v, QuotaLedger.limit(l, Quantity.TOKENS_PER_DAY));
    assertEquals(v, QuotaLedger.slotLimit(l));
  }

  @Test
  void slotLimit_null_unlimitedMinusOne() {
    assertEquals(-1, QuotaLedger.slotLimit(TenantLimits.UNLIMITED));
  }

  @ParameterizedTest(name = "{0} USD -> {1} nano-USD")
  @CsvSource({
      "0, 0",
      "0.00, 0",
      "5.00, 5000000000",
      "5, 5000000000",
      "0.15, 150000000",
      "0.000000001, 1",
      "0.0000000019, 1", // sub-nano fractions are dropped: the limit never grows
      "0.0000000001, 0",
      "1234.567891234, 1234567891234",
      "9223372036.854775806, 9223372036854775806",
      "9223372036.854775807, 9223372036854775807",
      "9223372036.854775808, 9223372036854775807",
      "1E+30, 9223372036854775807",
      "100000000000000000000000, 9223372036854775807",
  })
  void limit_spendUsd_nanoUsdSaturatingAtLongMax(String usd, long expected) {
    BigDecimal v = new BigDecimal(usd);
    TenantLimits l = new TenantLimits(null, null, null, v, v, null);
    assertEquals(expected, QuotaLedger.limit(l, Quantity.SPEND_PER_DAY));
    assertEquals(expected, QuotaLedger.limit(l, Quantity.SPEND_PER_MONTH));
  }

  // ---------------------------------------------------------------- rolls

  @Test
  void rolls_freshTenant_allKindsRollToTheCurrentIds() {
    TenantState s = TenantState.EMPTY.apply(new TenantCreated("acme", TenantLimits.UNLIMITED, null, NOW));
    assertEquals(List.of(
            new WindowRolled(WindowKind.MINUTE, Windows.id(WindowKind.MINUTE, NOW), NOW),
            new WindowRolled(WindowKind.DAY, Windows.id(WindowKind.DAY, NOW), NOW),
            new WindowRolled(WindowKind.MONTH, Windows.id(WindowKind.MONTH, NOW), NOW)),
        LEDGER.rolls(s, NOW));
  }

  @Test
  void rolls_neverCreatedTenant_stillNamesAllKinds() {
    assertEquals(3, LEDGER.rolls(TenantState.EMPTY, NOW).size());
  }

  /** Windows current at 2026-03-31T23:59:30Z; which kinds roll at t. */
  @ParameterizedTest(name = "{0} -> {1}")
  @CsvSource({
      "2026-03-31T23:59:30Z, ''",
      "2026-03-31T23:59:59.999999999Z, ''",
      "2026-03-31T23:59:00Z, ''",
      "2026-03-31T23:58:59Z, ''", // a clock behind the state never rolls back
      "2026-03-30T12:00:00Z, ''",
      "2026-04-01T00:00:00Z, MINUTE DAY MONTH",
      "2026-04-01T00:00:01Z, MINUTE DAY MONTH",
      "2026-04-15T10:00:00Z, MINUTE DAY MONTH",
  })
  void rolls_endOfMonthState_rollsExactlyTheChangedKinds(String time, String kinds) {
    Instant base = Instant.parse("2026-03-31T23:59:30Z");
    TenantState s = TenantState.EMPTY.apply(new TenantCreated("acme", TenantLimits.UNLIMITED, null, base));
    for (WindowRolled r : LEDGER.rolls(s, base)) {
      s = s.apply(r);
    }
    Instant t = Instant.parse(time);
    List<WindowRolled> rolls = LEDGER.rolls(s, t);
    List<WindowKind> expected = kinds.isBlank() ? List.of()
        : Stream.of(kinds.split(" ")).map(WindowKind::valueOf).toList();
    assertEquals(expected, rolls.stream().map(WindowRolled::kind).toList());
    for (WindowRolled r : rolls) {
      assertEquals(Windows.id(r.kind(), t), r.windowId());
      assertEquals(t, r.at());
    }
  }

  @ParameterizedTest(name = "{0} -> {1}")
  @CsvSource({
      "2026-03-01T12:00:59Z, ''",
      "2026-03-01T12:01:00Z, MINUTE",
      "2026-03-01T23:59:59Z, MINUTE",
      "2026-03-02T00:00:00Z, MINUTE DAY",
      "2026-04-01T00:00:00Z, MINUTE DAY MONTH",
  })
  void rolls_afterTime_rollsMinuteThenDayThenMonth(String time, String kinds) {
    TenantState s = tenant(TenantLimits.UNLIMITED);
    List<WindowKind> expected = kinds.isBlank() ? List.of()
        : Stream.of(kinds.split(" ")).map(WindowKind::valueOf).toList();
    assertEquals(expected, LEDGER.rolls(s, Instant.parse(time)).stream().map(WindowRolled::kind).toList());
  }

  @Test
  void rolls_appliedRolls_leaveNothingToRoll() {
    TenantState s = tenant(TenantLimits.UNLIMITED);
    for (WindowRolled r : LEDGER.rolls(s, NEXT_MONTH)) {
      s = s.apply(r);
    }
    assertEquals(List.of(), LEDGER.rolls(s, NEXT_MONTH));
    assertEquals(Windows.id(WindowKind.MONTH, NEXT_MONTH), s.window(WindowKind.MONTH));
  }

  // ---------------------------------------------------------------- eventTime

  @ParameterizedTest(name = "node at now{0}ms -> uses node: {1}")
  @CsvSource({
      "0, false",
      "1, true",
      "1000, true",
      "1999, true",
      "2000, true", // the tolerance itself is still accepted
      "2001, false",
      "60000, false",
      "-1, false",
      "-5000, false",
  })
  void eventTime_nodeClockOffset_nodeTimeOnlyWhenAheadWithinTolerance(long offsetMillis, boolean usesNode) {
    Instant node = NOW.plusMillis(offsetMillis);
    assertEquals(usesNode ? node : NOW, LEDGER.eventTime(NOW, node));
  }

  @Test
  void eventTime_noNodeTime_entityTime() {
    assertEquals(NOW, LEDGER.eventTime(NOW, null));
  }

  @Test
  void eventTime_nodeAheadAcrossMinuteEdge_rollsTheWindowEarly() {
    Instant entity = Instant.parse("2026-03-01T12:00:59.500Z");
    Instant node = Instant.parse("2026-03-01T12:01:00.200Z");
    TenantState s = tenant(TenantLimits.UNLIMITED);
    List<WindowRolled> rolls = LEDGER.rolls(s, LEDGER.eventTime(entity, node));
    assertEquals(List.of(new WindowRolled(WindowKind.MINUTE, Windows.id(WindowKind.MINUTE, node), node)), rolls);
  }

  // ---------------------------------------------------------------- decide: one node

  @ParameterizedTest(name = "limit {0}, need {1}, want {2} -> {3}")
  @CsvSource({
      "100, 1, 32, 32",      // prefetch fits within share
      "100, 1, 1000, 50",    // capped by share of what is left
      "101, 1, 1000, 50",    // floored
      "100, 0, 1000, 50",    // prefetch only
      "100, 0, 10, 10",
      "100, 60, 60, 60",     // at least what is needed, even above the share
      "100, 60, 1000, 60",
      "100, 100, 100, 100",  // the whole limit when needed
      "100, 5, 2, 5",        // wanted below needed: needed wins
      "4, 1, 32, 2",
      "3, 1, 32, 1",
      "2, 1, 32, 1",
      "1, 1, 32, 1",
      "1, 0, 32, 0",         // half of one unit is nothing for a prefetch
  })
  void decide_firstGrantOneNode_floorOfShareCappedByWantedAtLeastNeeded(long limit, long need, long want,
      long expected) {
    QuotaLedger.Grant g = decideRpm(tenant(rpm(limit)), SELF, need, want);
    assertFalse(g.denied());
    assertEquals(expected, rpmGrant(g));
    assertEquals(expected == 0 ? Map.of() : Map.of(Quantity.REQUESTS_PER_MINUTE, expected), g.amounts());
    assertEquals(0, g.slots());
    assertEquals(Map.of(), g.exhausted());
  }

  @ParameterizedTest
  @ValueSource(longs = {1, 2, 3, 5, 7, 20, 64, 100, 1000, 12_345, 1_000_000})
  void decide_repeatedRequestsOneNode_grantsShrinkToSingleUnitsAndEndExactlyAtLimit(long limit) {
    TenantState s = tenant(rpm(limit));
    long total = 0;
    int rounds = 0;
    List<Long> grants = new ArrayList<>();
    while (true) {
      long available = limit - QuotaLedger.committed(s, Quantity.REQUESTS_PER_MINUTE);
      QuotaLedger.Grant g = decideRpm(s, SELF, 1, Long.MAX_VALUE);
      if (g.denied()) {
        assertEquals(0, available, "denied only when nothing is left");
        break;
      }
      long grant = rpmGrant(g);
      grants.add(grant);
      assertTrue(grant >= 1, "a needed unit is always granted");
      assertTrue(grant <= Math.max(1, available / 2), () -> "grant " + grant + " above half of " + available);
      total += grant;
      assertTrue(total <= limit, "never more than the limit");
      s = applyGrant(s, SELF, g, LIVE);
      assertEquals(total, QuotaLedger.committed(s, Quantity.REQUESTS_PER_MINUTE));
      rounds++;
      assertTrue(rounds <= 2 * 64, "terminates");
    }
    assertEquals(limit, total, () -> "grants " + grants);
    assertEquals(1L, grants.get(grants.size() - 1), "the last grant is a single unit");
    // geometric: about log2(limit) + 1 rounds
    int n = rounds;
    assertTrue(n <= 64 - Long.numberOfLeadingZeros(limit) + 1, () -> n + " rounds: " + grants);
  }

  @Test
  void decide_rpm20WithPrefetch32_grantSequenceHalvesToOnes() {
    TenantState s = tenant(rpm(20));
    List<Long> grants = new ArrayList<>();
    QuotaLedger.Grant g;
    while (!(g = decideRpm(s, SELF, 1, 32)).denied()) {
      grants.add(rpmGrant(g));
      s = applyGrant(s, SELF, g, LIVE);
    }
    assertEquals(List.of(10L, 5L, 2L, 1L, 1L, 1L), grants);
    assertEquals(Map.of(Quantity.REQUESTS_PER_MINUTE, NEXT_MINUTE), g.exhausted());
    assertEquals(Map.of(), g.amounts());
  }

  @Test
  void decide_tokensNeededAboveWhatIsLeft_deniedEvenThoughSomeIsLeft() {
    TenantState s = tenant(new TenantLimits(null, 1000L, null, null, null, null));
    s = granted(s, "other", Map.of(Quantity.TOKENS_PER_MINUTE, 800L), 0, LIVE);
    QuotaLedger.Grant g = decide(s, Map.of(Quantity.TOKENS_PER_MINUTE, 300L),
        Map.of(Quantity.TOKENS_PER_MINUTE, 9600L));
    assertTrue(g.denied());
    assertEquals(Map.of(Quantity.TOKENS_PER_MINUTE, NEXT_MINUTE), g.exhausted());
    assertEquals(Map.of(), g.amounts());

    QuotaLedger.Grant fits = decide(s, Map.of(Quantity.TOKENS_PER_MINUTE, 200L),
        Map.of(Quantity.TOKENS_PER_MINUTE, 9600L));
    assertEquals(Map.of(Quantity.TOKENS_PER_MINUTE, 200L), fits.amounts(), "exactly what is left");
  }

  @Test
  void decide_requestsAtTheLimitRepeatedly_neverExceedSumOfUsedAndGranted() {
    // Nodes spend and settle in between: usage replaces grants, and max(used, granted) keeps the sum.
    TenantState s = tenant(rpm(50));
    long spent = 0;
    for (int i = 0; i < 200; i++) {
      String node = i % 2 == 0 ? SELF : "node-b";
      QuotaLedger.Grant g = decideRpm(s, node, 1, 32);
      if (g.denied()) {
        continue;
      }
      s = applyGrant(s, node, g, LIVE);
      // The node spends everything it holds and reports it cumulatively.
      long held = s.nodes().get(node).granted(Quantity.REQUESTS_PER_MINUTE);
      s = settled(s, node, WindowKind.MINUTE, new UsageCounters(held, 0, 0, 0), LIVE);
      spent = s.nodes().values().stream().mapToLong(n -> n.used(WindowKind.MINUTE).requests()).sum();
      assertTrue(QuotaLedger.committed(s, Quantity.REQUESTS_PER_MINUTE) <= 50);
    }
    assertEquals(50, spent);
  }

  // ---------------------------------------------------------------- decide: all or nothing

  @Test
  void decide_oneNeededQuantityExhausted_nothingNeededIsGrantedAndItIsNamedWithReset() {
    TenantLimits l = new TenantLimits(10L, 100L, 10_000L, BigDecimal.ONE, BigDecimal.TEN, null);
    TenantState s = granted(tenant(l), "other", Map.of(Quantity.TOKENS_PER_MINUTE, 100L), 0, LIVE);
    QuotaLedger.Grant g = decide(s,
        Map.of(Quantity.REQUESTS_PER_MINUTE, 1L, Quantity.TOKENS_PER_MINUTE, 50L, Quantity.TOKENS_PER_DAY, 50L),
        Map.of(Quantity.REQUESTS_PER_MINUTE, 32L, Quantity.TOKENS_PER_MINUTE, 1600L, Quantity.TOKENS_PER_DAY, 1600L,
            Quantity.SPEND_PER_DAY, 1000L));
    assertTrue(g.denied());
    assertEquals(Map.of(Quantity.TOKENS_PER_MINUTE, NEXT_MINUTE), g.exhausted());
    assertEquals(Map.of(Quantity.SPEND_PER_DAY, 1000L), g.amounts(), "only the prefetch-only quantity");
    assertFalse(g.slotsExhausted());
  }

  @ParameterizedTest
  @MethodSource("exhaustedQuantities")
  void decide_exhaustedQuantity_namedWithItsWindowsReset(Quantity q, TenantLimits limits, Instant reset) {
    QuotaLedger.Grant g = decide(tenant(limits), Map.of(q, 1L), Map.of(q, 1L));
    assertTrue(g.denied());
    assertEquals(Map.of(q, reset), g.exhausted());
    assertEquals(Map.of(), g.amounts());
  }

  static Stream<Arguments> exhaustedQuantities() {
    return Stream.of(
        Arguments.of(Quantity.REQUESTS_PER_MINUTE, new TenantLimits(0L, null, null, null, null, null), NEXT_MINUTE),
        Arguments.of(Quantity.TOKENS_PER_MINUTE, new TenantLimits(null, 0L, null, null, null, null), NEXT_MINUTE),
        Arguments.of(Quantity.TOKENS_PER_DAY, new TenantLimits(null, null, 0L, null, null, null), NEXT_DAY),
        Arguments.of(Quantity.SPEND_PER_DAY, new TenantLimits(null, null, null, BigDecimal.ZERO, null, null),
            NEXT_DAY),
        Arguments.of(Quantity.SPEND_PER_MONTH, new TenantLimits(null, null, null, null, BigDecimal.ZERO, null),
            NEXT_MONTH));
  }

  @Test
  void decide_severalExhausted_allNamed() {
    TenantLimits l = new TenantLimits(0L, 0L, null, null, BigDecimal.ZERO, null);
    QuotaLedger.Grant g = decide(tenant(l),
        Map.of(Quantity.REQUESTS_PER_MINUTE, 1L, Quantity.TOKENS_PER_MINUTE, 1L, Quantity.SPEND_PER_MONTH, 1L),
        Map.of());
    assertEquals(Map.of(Quantity.REQUESTS_PER_MINUTE, NEXT_MINUTE, Quantity.TOKENS_PER_MINUTE, NEXT_MINUTE,
        Quantity.SPEND_PER_MONTH, NEXT_MONTH), g.exhausted());
  }

  @Test
  void decide_prefetchOnlyQuantityAtLimit_neverExhausted() {
    TenantState s = granted(tenant(rpm(10)), "other", Map.of(Quantity.REQUESTS_PER_MINUTE, 10L), 0, LIVE);
    QuotaLedger.Grant g = decideRpm(s, SELF, 0, 32);
    assertFalse(g.denied());
    assertEquals(Map.of(), g.amounts());
  }

  @Test
  void decide_quantityExhaustedAndOnlyWantedSlots_slotsStillGranted() {
    TenantLimits l = new TenantLimits(0L, null, null, null, null, 4L);
    QuotaLedger.Grant g = LEDGER.decide(tenant(l), SELF, Map.of(Quantity.REQUESTS_PER_MINUTE, 1L), Map.of(), 0, 4,
        NOW);
    assertTrue(g.denied());
    assertEquals(2, g.slots(), "slots were prefetch only");
  }

  @Test
  void decide_quantityExhaustedAndNeededSlots_noSlots() {
    TenantLimits l = new TenantLimits(0L, null, null, null, null, 4L);
    QuotaLedger.Grant g = LEDGER.decide(tenant(l), SELF, Map.of(Quantity.REQUESTS_PER_MINUTE, 1L), Map.of(), 1, 4,
        NOW);
    assertTrue(g.denied());
    assertFalse(g.slotsExhausted());
    assertEquals(0, g.slots());
  }

  @Test
  void decide_slotsExhausted_neededQuantitiesWithheldPrefetchKept() {
    TenantLimits l = new TenantLimits(100L, 1000L, null, null, null, 2L);
    TenantState s = granted(tenant(l), "other", Map.of(), 2, LIVE);
    QuotaLedger.Grant g = LEDGER.decide(s, SELF, Map.of(Quantity.REQUESTS_PER_MINUTE, 1L),
        Map.of(Quantity.REQUESTS_PER_MINUTE, 32L, Quantity.TOKENS_PER_MINUTE, 100L), 1, 1, NOW);
    assertTrue(g.denied());
    assertTrue(g.slotsExhausted());
    assertEquals(Map.of(), g.exhausted());
    assertEquals(0, g.slots());
    assertEquals(Map.of(Quantity.TOKENS_PER_MINUTE, 100L), g.amounts());
  }

  // ---------------------------------------------------------------- decide: several nodes

  /** Each other node holds 10 requests; liveOthers of them are live, expiredOthers expired. */
  @ParameterizedTest(name = "{0} live, {1} expired others -> {2}")
  @CsvSource({
      "0, 0, 500",  // 1000 left, alone: half
      "1, 0, 247",  // 990 left / 2 nodes * 0.5
      "2, 0, 163",  // 980 / 3 * 0.5 = 163.3
      "3, 0, 121",  // 970 / 4 * 0.5 = 121.25
      "0, 1, 495",  // an expired node does not split the share, but its grant still counts
      "1, 2, 242",  // 970 / 2 * 0.5 = 242.5
      "0, 5, 475",
  })
  void decide_liveOtherNodes_splitTheShare(int liveOthers, int expiredOthers, long expected) {
    TenantState s = tenant(rpm(1000));
    for (int i = 0; i < liveOthers; i++) {
      s = granted(s, "live-" + i, Map.of(Quantity.REQUESTS_PER_MINUTE, 10L), 0, LIVE);
    }
    for (int i = 0; i < expiredOthers; i++) {
      s = granted(s, "expired-" + i, Map.of(Quantity.REQUESTS_PER_MINUTE, 10L), 0, EXPIRED);
    }
    assertEquals(expected, rpmGrant(decideRpm(s, SELF, 1, 10_000)));
  }

  @Test
  void decide_ownLiveShare_notCountedAsAnotherNodeButItsGrantIsCommitted() {
    TenantState s = granted(tenant(rpm(1000)), SELF, Map.of(Quantity.REQUESTS_PER_MINUTE, 100L), 0, LIVE);
    assertEquals(450, rpmGrant(decideRpm(s, SELF, 1, 10_000)));
    assertEquals(225, rpmGrant(decideRpm(s, "node-b", 1, 10_000)), "for another node there are two");
  }

  @Test
  void decide_leaseExpiringExactlyNow_notLive() {
    TenantState s = granted(tenant(rpm(1000)), "other", Map.of(Quantity.REQUESTS_PER_MINUTE, 10L), 0, NOW);
    assertEquals(495, rpmGrant(decideRpm(s, SELF, 1, 10_000)));
    s = granted(tenant(rpm(1000)), "other", Map.of(Quantity.REQUESTS_PER_MINUTE, 10L), 0, NOW.plusNanos(1));
    assertEquals(247, rpmGrant(decideRpm(s, SELF, 1, 10_000)));
  }

  @ParameterizedTest(name = "other used {0}, granted {1}, live {2} -> {3}")
  @CsvSource({
      "0, 40, false, 30",   // 60 left, alone
      "70, 40, false, 15",  // used above granted: 30 left
      "40, 40, false, 30",
      "10, 40, false, 30",  // unused grant still counts
      "70, 40, true, 7",    // 30 left, two nodes
      "100, 0, false, 0",   // all used: exhausted
  })
  void decide_otherNodesCommitted_isMaxOfUsedAndGranted(long used, long granted, boolean live, long expected) {
    Instant expiry = live ? LIVE : EXPIRED;
    TenantState s = tenant(rpm(100));
    if (granted > 0) {
      s = granted(s, "other", Map.of(Quantity.REQUESTS_PER_MINUTE, granted), 0, expiry);
    }
    s = settled(s, "other", WindowKind.MINUTE, new UsageCounters(used, 0, 0, 0), expiry);
    assertEquals(Math.max(used, granted), QuotaLedger.committed(s, Quantity.REQUESTS_PER_MINUTE));
    assertEquals(Math.max(used, granted), QuotaLedger.committedByOthers(s, SELF, Quantity.REQUESTS_PER_MINUTE));
    assertEquals(0, QuotaLedger.committedByOthers(s, "other", Quantity.REQUESTS_PER_MINUTE));
    QuotaLedger.Grant g = decideRpm(s, SELF, 1, 10_000);
    if (expected == 0) {
      assertTrue(g.denied());
    } else {
      assertEquals(expected, rpmGrant(g));
    }
  }

  @Test
  void decide_twoNodesAlternating_totalExactlyTheLimitNeverMore() {
    TenantState s = tenant(rpm(20));
    long[] perNode = new long[2];
    String[] nodes = {SELF, "node-b"};
    boolean[] denied = new boolean[2];
    for (int i = 0; !(denied[0] && denied[1]); i++) {
      int n = i % 2;
      QuotaLedger.Grant g = decideRpm(s, nodes[n], 1, 32);
      if (g.denied()) {
        denied[n] = true;
        continue;
      }
      long available = 20 - QuotaLedger.committed(s, Quantity.REQUESTS_PER_MINUTE);
      int live = s.nodes().containsKey(nodes[1 - n]) ? 2 : 1;
      long grant = rpmGrant(g);
      assertTrue(grant <= Math.max(1, available / 2 / live), () -> grant + " of " + available);
      perNode[n] += grant;
      s = applyGrant(s, nodes[n], g, LIVE);
      assertTrue(perNode[0] + perNode[1] <= 20);
    }
    assertEquals(20, perNode[0] + perNode[1]);
    assertEquals(20, QuotaLedger.committed(s, Quantity.REQUESTS_PER_MINUTE));
  }

  @Test
  void committed_hugeGrants_saturateInsteadOfOverflowing() {
    TenantState s = tenant(rpm(Long.MAX_VALUE));
    s = granted(s, "x", Map.of(Quantity.REQUESTS_PER_MINUTE, Long.MAX_VALUE - 1), 0, LIVE);
    s = granted(s, "y", Map.of(Quantity.REQUESTS_PER_MINUTE, Long.MAX_VALUE - 1), 0, LIVE);
    assertEquals(Long.MAX_VALUE, QuotaLedger.committed(s, Quantity.REQUESTS_PER_MINUTE));
    assertTrue(decideRpm(s, SELF, 1, 1).denied());
  }

  @Test
  void decide_hugeLimitAndWant_grantsHalfWithoutOverflow() {
    QuotaLedger.Grant g = decideRpm(tenant(rpm(Long.MAX_VALUE)), SELF, 1, Long.MAX_VALUE);
    long grant = rpmGrant(g);
    assertTrue(grant > Long.MAX_VALUE / 2 - 1024 && grant <= Long.MAX_VALUE / 2 + 1024, () -> "grant " + grant);
  }

  @Test
  void decide_hugeSpendLimit_saturatedAndGrantable() {
    BigDecimal huge = new BigDecimal("1E+30");
    TenantState s = tenant(new TenantLimits(null, null, null, huge, huge, null));
    QuotaLedger.Grant g = decide(s, Map.of(Quantity.SPEND_PER_DAY, 1_000L), Map.of(Quantity.SPEND_PER_DAY, 32_000L));
    assertEquals(Map.of(Quantity.SPEND_PER_DAY, 32_000L), g.amounts());
  }

  @Test
  void decide_spendInNanoUsd_grantsShareOfDollarLimit() {
    TenantState s = tenant(new TenantLimits(null, null, null, new BigDecimal("0.000001"), null, null)); // 1000 nano
    QuotaLedger.Grant g = decide(s, Map.of(Quantity.SPEND_PER_DAY, 150L), Map.of(Quantity.SPEND_PER_DAY, 4800L));
    assertEquals(Map.of(Quantity.SPEND_PER_DAY, 500L), g.amounts());
  }

  // ---------------------------------------------------------------- decide: concurrency slots

  /** slot limit, slots of live others, slots of expired others, needed, wanted -> granted, exhausted. */
  @ParameterizedTest(name = "limit {0}, live {1}, expired {2}, need {3}, want {4} -> {5} {6}")
  @CsvSource({
      "4, 0, 0, 1, 4, 2, false",
      "4, 0, 0, 1, 1, 1, false",
      "4, 0, 0, 3, 3, 3, false",  // needed above the share
      "4, 0, 0, 4, 4, 4, false",
      "4, 0, 0, 5, 5, 0, true",
      "1, 0, 0, 1, 32, 1, false",
      "4, 3, 0, 1, 4, 1, false",  // 1 left, two nodes: the needed one
      "4, 4, 0, 1, 1, 0, true",
      "4, 0, 4, 1, 4, 2, false",  // an expired node's slots are free again
      "4, 2, 2, 1, 4, 1, false",  // 2 left, two live nodes: floor(0.5) -> needed 1
      "4, 2, 0, 0, 4, 0, false",  // prefetch only and nothing to spare
      "8, 0, 0, 0, 8, 4, false",
      "0, 0, 0, 1, 1, 0, true",
      "0, 0, 0, 0, 1, 0, false",
  })
  void decide_concurrencySlots_shareOfFreeSlots(long limit, long live, long expired, long need, long want,
      long expected, boolean exhausted) {
    TenantState s = tenant(slotsLimit(limit));
    if (live > 0) {
      s = granted(s, "live", Map.of(), live, LIVE);
    }
    if (expired > 0) {
      s = granted(s, "expired", Map.of(), expired, EXPIRED);
    }
    assertEquals(live, QuotaLedger.liveSlots(s, NOW));
    QuotaLedger.Grant g = LEDGER.decide(s, SELF, Map.of(), Map.of(), need, want, NOW);
    assertEquals(expected, g.slots());
    assertEquals(exhausted, g.slotsExhausted());
    assertEquals(exhausted, g.denied());
    assertEquals(Map.of(), g.exhausted());
  }

  @Test
  void decide_slotsRepeatedly_neverMoreThanTheLimit() {
    TenantState s = tenant(slotsLimit(5));
    long total = 0;
    QuotaLedger.Grant g;
    while (!(g = LEDGER.decide(s, SELF, Map.of(), Map.of(), 1, 8, NOW)).denied()) {
      total += g.slots();
      s = applyGrant(s, SELF, g, LIVE);
      assertTrue(total <= 5);
    }
    assertEquals(5, total);
    assertEquals(5, QuotaLedger.liveSlots(s, NOW));
    assertEquals(0, QuotaLedger.liveSlots(s, LIVE), "all free once the lease expired");
  }

  @Test
  void decide_unlimitedSlots_noSlotsNeverExhausted() {
    QuotaLedger.Grant g = LEDGER.decide(tenant(TenantLimits.UNLIMITED), SELF, Map.of(), Map.of(), 10, 100, NOW);
    assertEquals(0, g.slots());
    assertFalse(g.slotsExhausted());
    assertFalse(g.denied());
  }

  // ---------------------------------------------------------------- decide: unlimited, zero, negative

  @Test
  void decide_unlimitedTenant_grantsNothingAndDeniesNothing() {
    Map<Quantity, Long> all = new EnumMap<>(Quantity.class);
    for (Quantity q : Quantity.values()) {
      all.put(q, 1_000_000L);
    }
    QuotaLedger.Grant g = LEDGER.decide(tenant(TenantLimits.UNLIMITED), SELF, all, all, 1, 1, NOW);
    assertEquals(new QuotaLedger.Grant(Map.of(), 0, Map.of(), false), g);
  }

  @Test
  void decide_someQuantitiesUnlimited_onlyLimitedOnesGranted() {
    QuotaLedger.Grant g = decide(tenant(rpm(100)),
        Map.of(Quantity.REQUESTS_PER_MINUTE, 1L, Quantity.TOKENS_PER_MINUTE, Long.MAX_VALUE),
        Map.of(Quantity.REQUESTS_PER_MINUTE, 32L, Quantity.TOKENS_PER_DAY, 1L));
    assertEquals(Map.of(Quantity.REQUESTS_PER_MINUTE, 32L), g.amounts());
    assertFalse(g.denied());
  }

  @Test
  void decide_emptyRequest_nothing() {
    assertEquals(new QuotaLedger.Grant(Map.of(), 0, Map.of(), false),
        LEDGER.decide(tenant(new TenantLimits(10L, 10L, 10L, BigDecimal.ONE, BigDecimal.ONE, 10L)), SELF, Map.of(),
            Map.of(), 0, 0, NOW));
  }

  @ParameterizedTest(name = "need {0}, want {1} -> {2}")
  @CsvSource({
      "-5, 32, 32",     // negative need counts as none
      "-5, -5, 0",
      "0, -1, 0",
      "0, 0, 0",
      "3, -10, 3",      // wanted below needed: needed
      "1, 0, 1",
  })
  void decide_zeroOrNegativeInputs_treatedAsZero(long need, long want, long expected) {
    QuotaLedger.Grant g = decideRpm(tenant(rpm(100)), SELF, need, want);
    assertFalse(g.denied());
    assertEquals(expected, rpmGrant(g));
  }

  @Test
  void decide_zeroLimitNothingNeeded_notDenied() {
    QuotaLedger.Grant g = decideRpm(tenant(rpm(0)), SELF, 0, 5);
    assertFalse(g.denied());
    assertEquals(Map.of(), g.amounts());
  }

  @ParameterizedTest(name = "slots need {0}, want {1} -> {2}")
  @CsvSource({
      "-1, 4, 2",
      "-1, -1, 0",
      "0, 0, 0",
      "2, -3, 2",
  })
  void decide_negativeSlots_treatedAsZero(long need, long want, long expected) {
    QuotaLedger.Grant g = LEDGER.decide(tenant(slotsLimit(4)), SELF, Map.of(), Map.of(), need, want, NOW);
    assertFalse(g.denied());
    assertEquals(expected, g.slots());
  }

  @Test
  void decide_staleWindowsInState_expiredWindowUsageStillCountsUntilRolled() {
    // decide() works on the state it is given: the entity rolls windows first. Without a roll, the
    // last minute's grants still count; after it, they are gone.
    TenantState s = granted(tenant(rpm(10)), "other", Map.of(Quantity.REQUESTS_PER_MINUTE, 10L), 0,
        NEXT_MINUTE.plusSeconds(10));
    assertTrue(decideRpm(s, SELF, 1, 1).denied());
    for (WindowRolled r : LEDGER.rolls(s, NEXT_MINUTE)) {
      s = s.apply(r);
    }
    QuotaLedger.Grant g = LEDGER.decide(s, SELF, Map.of(Quantity.REQUESTS_PER_MINUTE, 1L),
        Map.of(Quantity.REQUESTS_PER_MINUTE, 32L), 0, 0, NEXT_MINUTE);
    assertEquals(Map.of(Quantity.REQUESTS_PER_MINUTE, 2L), g.amounts(), "10 left, two live nodes");
  }
}
