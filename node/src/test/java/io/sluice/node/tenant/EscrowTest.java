package io.sluice.node.tenant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.persistence.Quantity;
import io.sluice.persistence.RightsPool;
import io.sluice.persistence.TenantEvent;
import io.sluice.persistence.TenantEvent.LeaseGranted;
import io.sluice.persistence.TenantEvent.RightsTransferred;
import io.sluice.persistence.TenantEvent.RightsWanted;
import io.sluice.persistence.TenantEvent.TenantCreated;
import io.sluice.persistence.TenantEvent.WindowRolled;
import io.sluice.persistence.TenantLimits;
import io.sluice.persistence.TenantState;
import io.sluice.persistence.WindowKind;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class EscrowTest {
  private static final Instant NOW = Instant.parse("2026-03-01T12:00:30Z");
  private static final long MINUTE = Windows.id(WindowKind.MINUTE, NOW);
  private static final RightsPool RPM = RightsPool.REQUESTS_PER_MINUTE;
  private static final List<String> THREE = List.of("r1", "r2", "r3");

  private static RegionSettings settings(String self, Duration horizon) {
    return new RegionSettings(self, THREE, Map.of(), Map.of(WindowKind.MINUTE, horizon), Duration.ofSeconds(1),
        0.25, 0.5);
  }

  private static final Escrow R1 = new Escrow(settings("r1", Duration.ZERO));
  private static final Escrow R2 = new Escrow(settings("r2", Duration.ZERO));

  private static TenantState tenant(long rpm) {
    TenantState s = TenantState.EMPTY.apply(new TenantCreated("acme", new TenantLimits(rpm, null, null, null, null, 3L),
        null, NOW));
    for (WindowKind k : WindowKind.values()) {
      s = s.apply(new WindowRolled(k, Windows.id(k, NOW), NOW));
    }
    return s;
  }

  private static TenantState applyAll(TenantState s, List<? extends TenantEvent> events) {
    for (TenantEvent e : events) {
      s = s.apply(e);
    }
    return s;
  }

  private static TenantState committed(TenantState s, long rpm) {
    return s.apply(new LeaseGranted("n1", 1, Map.of(Quantity.REQUESTS_PER_MINUTE, rpm),
        Map.of(WindowKind.MINUTE, MINUTE, WindowKind.DAY, s.window(WindowKind.DAY), WindowKind.MONTH,
            s.window(WindowKind.MONTH)), 0, NOW.plusSeconds(30), NOW));
  }

  @ParameterizedTest(name = "L={0} R={1}")
  @CsvSource({"0,3", "1,3", "2,3", "10,3", "11,3", "59,2", "60,7", "1000003,4", "9223372036854775807,3"})
  void baseShare_equalWeights_isFloorPlusOneForTheFirstRemainderRegionsAndSumsToL(long limit, int regions) {
    long[] weights = IntStream.range(0, regions).mapToLong(i -> 1).toArray();
    long sum = 0;
    for (int i = 0; i < regions; i++) {
      long share = Escrow.baseShare(limit, weights, regions, i);
      assertEquals(limit / regions + (i < limit % regions ? 1 : 0), share);
      sum += share;
    }
    assertEquals(limit, sum);
  }

  @ParameterizedTest(name = "L={0} weights={1}")
  @CsvSource({"10,1:2:3", "7,5:1", "1,1:1:4", "100,3:3:1", "9223372036854775807,2:1"})
  void baseShare_staticWeights_areProportionalAndSumToL(long limit, String spec) {
    long[] weights = java.util.Arrays.stream(spec.split(":")).mapToLong(Long::parseLong).toArray();
    long total = java.util.Arrays.stream(weights).sum();
    long sum = 0;
    for (int i = 0; i < weights.length; i++) {
      long share = Escrow.baseShare(limit, weights, total, i);
      double exact = (double) limit * weights[i] / total;
      assertTrue(Math.abs(share - exact) <= 1 + exact * 1e-12, "share " + share + " vs " + exact);
      sum += share;
    }
    assertEquals(limit, sum);
  }

  @Test
  void rights_transfersSeenBothWays_areBasePlusInMinusOut() {
    TenantState s = tenant(30)
        .apply(new RightsTransferred(RPM, MINUTE, "r2", "r1", 4, 4, 1, NOW))
        .apply(new RightsTransferred(RPM, MINUTE, "r1", "r3", 3, 3, 1, NOW));
    assertEquals(10 + 4 - 3, R1.rights(s, RPM, MINUTE));
    assertEquals(10 - 4, R1.rights(s, RPM, MINUTE, "r2"));
    assertEquals(10, R1.rights(s, RPM, MINUTE + 1));
    assertEquals(11, R1.caps(s).limit(Quantity.REQUESTS_PER_MINUTE));
  }

  @Test
  void caps_unlimitedAndGivenAwayBelowZero_areMinusOneAndZero() {
    TenantState unlimited = TenantState.EMPTY.apply(new TenantCreated("acme", TenantLimits.UNLIMITED, null, NOW));
    assertEquals(-1, R1.caps(unlimited).limit(Quantity.REQUESTS_PER_MINUTE));
    assertEquals(-1, R1.caps(unlimited).slots());
    TenantState lowered = tenant(30).apply(new RightsTransferred(RPM, MINUTE, "r1", "r2", 8, 8, 1, NOW))
        .apply(new TenantEvent.LimitsChanged(new TenantLimits(3L, null, null, null, null, 3L), NOW));
    assertEquals(1 - 8, R1.rights(lowered, RPM, MINUTE));
    assertEquals(0, R1.caps(lowered).limit(Quantity.REQUESTS_PER_MINUTE));
  }

  @Test
  void wants_shortOfTheNeed_asksForWhatRestoresItsShareAndIsRateLimited() {
    TenantState s = committed(tenant(30), 10); // r1 holds 10, all committed
    List<RightsWanted> wants = R1.wants(s, Map.of(RPM, 1L), NOW);
    assertEquals(List.of(new RightsWanted(RPM, MINUTE, "r1", 1, 11, NOW)), wants);
    TenantState asked = applyAll(s, wants);
    assertEquals(List.of(), R1.wants(asked, Map.of(RPM, 1L), NOW.plusMillis(999)));
    assertEquals(2, R1.wants(asked, Map.of(RPM, 1L), NOW.plusSeconds(1)).get(0).seq());
  }

  @Test
  void wants_plentyFree_asksNothing() {
    assertEquals(List.of(), R1.wants(committed(tenant(30), 5), Map.of(RPM, 1L), NOW));
  }

  @Test
  void wants_singleRegion_asksNothing() {
    Escrow single = new Escrow(new RegionSettings("r1", List.of("r1"), Map.of(), Map.of(), Duration.ZERO, 0.25, 0.5));
    assertEquals(List.of(), single.wants(committed(tenant(30), 10), Map.of(RPM, 5L), NOW));
    assertEquals(30, single.rights(tenant(30), RPM, MINUTE));
  }

  @Test
  void answers_aWant_givesAtMostHalfOfTheFreeRightsOnceAndAppliesAtOnce() {
    TenantState donor = committed(tenant(30), 4) // r2 has 10, 4 committed: 6 free
        .apply(new RightsWanted(RPM, MINUTE, "r1", 1, 11, NOW));
    List<RightsTransferred> answers = R2.answers(donor, NOW);
    assertEquals(List.of(new RightsTransferred(RPM, MINUTE, "r2", "r1", 3, 3, 1, NOW)), answers);
    TenantState after = applyAll(donor, answers);
    assertEquals(7, R2.rights(after, RPM, MINUTE));
    assertEquals(List.of(), R2.answers(after, NOW), "each want is answered once");
    TenantState again = after.apply(new RightsWanted(RPM, MINUTE, "r1", 2, 11, NOW.plusSeconds(1)));
    assertEquals(List.of(new RightsTransferred(RPM, MINUTE, "r2", "r1", 1, 4, 2, NOW)), R2.answers(again, NOW));
  }

  @Test
  void answers_nothingFree_givesNothingAndAnswersLater() {
    TenantState donor = committed(tenant(30), 10).apply(new RightsWanted(RPM, MINUTE, "r1", 1, 5, NOW));
    assertEquals(List.of(), R2.answers(donor, NOW));
  }

  @Test
  void answers_withAHorizon_alsoGiveInTheWindowsThatStartWithinIt() {
    Escrow r2 = new Escrow(settings("r2", Duration.ofMinutes(2)));
    TenantState donor = committed(tenant(30), 10).apply(new RightsWanted(RPM, MINUTE, "r1", 1, 4, NOW));
    // Nothing free in this window: the answer there carries the seq with 0; the next two windows get 4 each.
    assertEquals(List.of(
        new RightsTransferred(RPM, MINUTE, "r2", "r1", 0, 0, 1, NOW),
        new RightsTransferred(RPM, MINUTE + 1, "r2", "r1", 4, 4, 0, NOW),
        new RightsTransferred(RPM, MINUTE + 2, "r2", "r1", 4, 4, 0, NOW)), r2.answers(donor, NOW));
  }

  @Test
  void answers_ownWantsAndEndedWindows_areIgnored() {
    TenantState s = tenant(30).apply(new RightsWanted(RPM, MINUTE, "r2", 1, 5, NOW));
    assertEquals(List.of(), R2.answers(s, NOW));
    TenantState later = s.apply(new RightsWanted(RPM, MINUTE, "r1", 1, 5, NOW))
        .apply(new WindowRolled(WindowKind.MINUTE, MINUTE + 1, NOW.plusSeconds(60)));
    assertEquals(List.of(), R2.answers(later, NOW.plusSeconds(60)));
  }

  @Test
  void answers_slots_moveLikeWindowedRights() {
    TenantState donor = tenant(30).apply(new RightsWanted(RightsPool.CONCURRENCY, RightsPool.NO_WINDOW, "r1", 1, 2, NOW));
    // 3 slots over 3 regions: r2 holds 1, nothing committed; half of 1 is 0, so nothing moves.
    assertEquals(List.of(), R2.answers(donor, NOW));
    Escrow first = new Escrow(settings("r1", Duration.ZERO));
    TenantState fromR1 = tenant(30).apply(new RightsWanted(RightsPool.CONCURRENCY, RightsPool.NO_WINDOW, "r2", 1, 2, NOW));
    TenantState six = fromR1.apply(new TenantEvent.LimitsChanged(new TenantLimits(30L, null, null, null, null, 6L), NOW));
    assertEquals(List.of(new RightsTransferred(RightsPool.CONCURRENCY, RightsPool.NO_WINDOW, "r1", "r2", 1, 1, 1, NOW)),
        first.answers(six, NOW));
  }
}
