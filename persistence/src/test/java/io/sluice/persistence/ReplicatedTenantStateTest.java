package io.sluice.persistence;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.persistence.TenantEvent.KeyIssued;
import io.sluice.persistence.TenantEvent.KeyRevoked;
import io.sluice.persistence.TenantEvent.LeaseGranted;
import io.sluice.persistence.TenantEvent.LimitsChanged;
import io.sluice.persistence.TenantEvent.LimitsPatched;
import io.sluice.persistence.TenantEvent.ModelsChanged;
import io.sluice.persistence.TenantEvent.RightsTransferred;
import io.sluice.persistence.TenantEvent.TenantCreated;
import io.sluice.persistence.TenantEvent.TenantDisabled;
import io.sluice.persistence.TenantEvent.WindowRolled;
import java.math.BigDecimal;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.stream.LongStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class ReplicatedTenantStateTest {
  private static final Instant T = Instant.parse("2026-03-01T12:00:30Z");
  private static final TenantLimits L = new TenantLimits(60L, 1000L, null, null, null, 4L);

  /** An event and the region that wrote it. */
  private record From(String origin, TenantEvent event) {}

  private static ReplicatedTenantState apply(String self, From... events) {
    return apply(self, List.of(events));
  }

  private static ReplicatedTenantState apply(String self, List<From> events) {
    ReplicatedTenantState s = ReplicatedTenantState.EMPTY;
    for (From f : events) {
      s = s.apply(f.event(), f.origin(), self);
    }
    return s;
  }

  private static From r1(TenantEvent e) {
    return new From("r1", e);
  }

  private static From r2(TenantEvent e) {
    return new From("r2", e);
  }

  private static final From CREATED = r1(new TenantCreated("acme", L, null, T));

  private static TenantLimits rpm(long v) {
    return new TenantLimits(v, null, null, null, null, null);
  }

  @Test
  void apply_concurrentChangesOfOneLimit_theLaterWriteWinsInEveryOrder() {
    From a = r1(new LimitsPatched(rpm(10), T.plusSeconds(10)));
    From b = r2(new LimitsPatched(rpm(20), T.plusSeconds(12)));
    assertEquals(20, apply("r1", CREATED, a, b).tenant().limits().requestsPerMinute());
    assertEquals(20, apply("r2", CREATED, b, a).tenant().limits().requestsPerMinute());
  }

  @Test
  void apply_concurrentChangesOfDifferentLimits_keepBoth() {
    From a = r1(new LimitsPatched(rpm(10), T.plusSeconds(10)));
    From b = r2(new LimitsPatched(new TenantLimits(null, 5L, null, null, null, null), T.plusSeconds(9)));
    for (ReplicatedTenantState s : List.of(apply("r1", CREATED, a, b), apply("r2", CREATED, b, a))) {
      assertEquals(new TenantLimits(10L, 5L, null, null, null, 4L), s.tenant().limits());
    }
  }

  @Test
  void apply_sameMillisecond_theHigherRegionWinsEverywhere() {
    From a = r1(new LimitsPatched(rpm(10), T.plusSeconds(10)));
    From b = r2(new LimitsPatched(rpm(20), T.plusSeconds(10)));
    assertEquals(20, apply("r1", CREATED, a, b).tenant().limits().requestsPerMinute());
    assertEquals(20, apply("r2", CREATED, b, a).tenant().limits().requestsPerMinute());
  }

  @Test
  void apply_fullLimitsChangeOlderThanAFieldWrite_leavesThatField() {
    From patch = r2(new LimitsPatched(rpm(7), T.plusSeconds(20)));
    From full = r1(new LimitsChanged(new TenantLimits(1L, 2L, null, BigDecimal.ONE, null, null), T.plusSeconds(10)));
    for (ReplicatedTenantState s : List.of(apply("r1", CREATED, full, patch), apply("r1", CREATED, patch, full))) {
      assertEquals(new TenantLimits(7L, 2L, null, BigDecimal.ONE, null, null), s.tenant().limits());
    }
  }

  @Test
  void apply_disableAndCreateInTheSameMillisecond_disableWinsInEveryOrder() {
    From create = r1(new TenantCreated("acme", L, null, T));
    From disable = new From("r0", new TenantDisabled(T)); // r0 < r1: a plain LWW tie-break would pick the create
    assertFalse(apply("r1", create, disable).tenant().enabled());
    assertFalse(apply("r1", disable, create).tenant().enabled());
    assertTrue(apply("r1", disable, create).tenant().exists());
  }

  @Test
  void apply_revocationBeforeItsIssue_keyStaysRevoked() {
    From issue = r1(new KeyIssued("k1", "aa", T.plusSeconds(1)));
    From revoke = r2(new KeyRevoked("k1", T.plusSeconds(2)));
    ReplicatedTenantState s = apply("r2", CREATED, revoke, issue);
    assertFalse(s.tenant().keys().get("k1").active());
    assertEquals(apply("r1", CREATED, issue, revoke).tenant().keys(), s.tenant().keys());
  }

  @Test
  void apply_revocationConcurrentWithASecondIssueOfTheKey_neverBringsItBack() {
    From issue = r1(new KeyIssued("k1", "aa", T.plusSeconds(1)));
    From revoke = r2(new KeyRevoked("k1", T.plusSeconds(2)));
    From again = r1(new KeyIssued("k1", "bb", T.plusSeconds(3)));
    assertFalse(apply("r1", CREATED, issue, revoke, again).tenant().keys().get("k1").active());
    assertFalse(apply("r1", CREATED, issue, again, revoke).tenant().keys().get("k1").active());
  }

  @Test
  void apply_keyFieldsAndExpiryInEitherOrder_keepTheEarliestExpiry() {
    KeyLimits kl = new KeyLimits(5L, null);
    From issue = r1(new KeyIssued("k1", "h1", T, T.plusSeconds(3600), List.of("m1"), kl));
    From later = r2(new TenantEvent.KeyExpirySet("k1", T.plusSeconds(600), T.plusSeconds(1)));
    From earlier = r1(new TenantEvent.KeyExpirySet("k1", T.plusSeconds(60), T.plusSeconds(2)));
    List<List<From>> orders = List.of(List.of(CREATED, issue, later, earlier), List.of(CREATED, earlier, later, issue),
        List.of(CREATED, later, issue, earlier));
    for (List<From> order : orders) {
      for (String self : List.of("r1", "r2")) {
        TenantState.KeyRecord k = apply(self, order).tenant().keys().get("k1");
        assertEquals(T.plusSeconds(60), k.expiresAt(), "order " + order);
        assertEquals(List.of("m1"), k.models());
        assertEquals(kl, k.limits());
      }
    }
  }

  @Test
  void apply_expiryLaterThanTheIssuedOne_neverExtendsTheKey() {
    From issue = r1(new KeyIssued("k1", "h1", T, T.plusSeconds(30), null, null));
    From rotate = r2(new TenantEvent.KeyExpirySet("k1", T.plusSeconds(300), T.plusSeconds(1)));
    assertEquals(T.plusSeconds(30), apply("r1", CREATED, issue, rotate).tenant().keys().get("k1").expiresAt());
    assertEquals(T.plusSeconds(30), apply("r2", CREATED, rotate, issue).tenant().keys().get("k1").expiresAt());
  }

  @Test
  void apply_otherRegionsQuotaEvents_changeNothingButTheirTransfersCount() {
    WindowRolled roll = new WindowRolled(WindowKind.MINUTE, 100, T);
    LeaseGranted lease = new LeaseGranted("n1", 1, Map.of(Quantity.REQUESTS_PER_MINUTE, 5L),
        Map.of(WindowKind.MINUTE, 100L), 1, T.plusSeconds(30), T);
    RightsTransferred gift = new RightsTransferred(RightsPool.REQUESTS_PER_MINUTE, 100, "r2", "r1", 3, 3, 1, T);
    ReplicatedTenantState s = apply("r1", CREATED, r1(roll), r2(roll), r2(lease), r2(gift));
    assertEquals(Map.of(), s.tenant().nodes());
    assertEquals(3, s.tenant().rights().incoming(RightsPool.REQUESTS_PER_MINUTE, 100, "r1"));
    ReplicatedTenantState own = apply("r2", CREATED, r2(roll), r2(lease));
    assertEquals(5, own.tenant().nodes().get("n1").granted(Quantity.REQUESTS_PER_MINUTE));
  }

  @Test
  void apply_otherRegionsQuotaEvents_keptAsThatRegionsPartInTheOrderItWroteThem() {
    WindowRolled roll = new WindowRolled(WindowKind.MINUTE, 100, T);
    LeaseGranted lease = new LeaseGranted("n1", 1, Map.of(Quantity.REQUESTS_PER_MINUTE, 5L),
        Map.of(WindowKind.MINUTE, 100L), 1, T.plusSeconds(30), T);
    TenantEvent.UsageSettled settled = new TenantEvent.UsageSettled("n1", 1, Map.of(WindowKind.MINUTE, 100L),
        Map.of(WindowKind.MINUTE, new UsageCounters(4, 40, 10, 7)), Map.of(), 0, T.plusSeconds(30), T);
    ReplicatedTenantState r1 = apply("r1", CREATED, r1(roll), r2(roll), r2(lease), r2(settled));
    ReplicatedTenantState r2 = apply("r2", CREATED, r2(roll), r2(lease), r2(settled));
    TenantState part = r1.quotaOf("r2", "r1");
    assertEquals(r2.tenant().nodes(), part.nodes(), "r1 holds r2's part as r2 holds it");
    assertEquals(r2.tenant().windows(), part.windows());
    assertEquals(4, part.nodes().get("n1").used(WindowKind.MINUTE).requests());
    assertEquals(Map.of(), r1.tenant().nodes(), "never counted against r1's own rights");
    assertEquals(Set.of("r2"), r1.others().keySet());
    assertEquals(Map.of(), r2.others(), "a region's own events are in its tenant, not in others");
    assertEquals(TenantState.EMPTY, r1.quotaOf("r3", "r1"));
    assertTrue(part.keys().isEmpty() && part.circuits().isEmpty(), "only the quota part is kept");
  }

  @Test
  void apply_otherRegionsCircuits_keptUnderRegionKeyAndClosedByThatRegionOnly() {
    TenantEvent.CircuitOpened open = new TenantEvent.CircuitOpened("d", 429, "HTTP 429", T.plusSeconds(30), T);
    TenantEvent.CircuitClosed closed = new TenantEvent.CircuitClosed("d", T.plusSeconds(31));
    ReplicatedTenantState s = apply("r1", CREATED, r2(open));
    assertEquals(Set.of("d@r2"), s.tenant().circuits().keySet());
    assertEquals(T.plusSeconds(30), s.tenant().circuits().get(CircuitState.regionKey("d", "r2")).openUntil());
    assertEquals(Set.of("d", "d@r2"), apply("r1", CREATED, r2(open), r1(open)).tenant().circuits().keySet());
    assertEquals(Set.of("d@r2"), apply("r1", CREATED, r2(open), r1(open), r1(closed)).tenant().circuits().keySet(),
        "r1 closing its own circuit leaves r2's");
    assertEquals(Set.of("d"), apply("r1", CREATED, r2(open), r1(open), r2(closed)).tenant().circuits().keySet());
    assertEquals(Set.of("d"), apply("r2", CREATED, r2(open)).tenant().circuits().keySet(), "its own, by name");
  }

  @Test
  void apply_events_recordTheRegionsHeardFrom() {
    ReplicatedTenantState s = apply("r1", CREATED);
    assertFalse(s.heardFromAll(Set.of("r1", "r2")));
    assertTrue(apply("r1", CREATED, r2(new ModelsChanged(List.of("m"), T))).heardFromAll(Set.of("r1", "r2")));
  }

  private static final TenantEvent.TenantImported IMPORT = new TenantEvent.TenantImported("acme", true, L, List.of("m"),
      List.of(new TenantState.KeyRecord("k1", "aa", T, null), new TenantState.KeyRecord("k2", "bb", T, T)),
      T.minusSeconds(60), Map.of(WindowKind.DAY, 20L), Map.of(Quantity.TOKENS_PER_DAY, 400L), T.plusSeconds(100));

  @Test
  void apply_importsFromBothRegions_agreeAndCountUsageOnlyInTheImportingRegion() {
    ReplicatedTenantState a = apply("r1", r1(IMPORT), r2(IMPORT));
    ReplicatedTenantState b = apply("r2", r2(IMPORT), r1(IMPORT));
    assertEquals(a.stamps(), b.stamps());
    assertEquals(a.tenant().keys(), b.tenant().keys());
    assertEquals(L, a.tenant().limits());
    assertEquals(Set.of("r1", "r2"), a.imports());
    assertFalse(a.tenant().keys().get("k2").active());
    assertEquals(400, a.tenant().nodes().get(TenantState.IMPORTED).committed(Quantity.TOKENS_PER_DAY));
    assertEquals(Map.of(), apply("r1", r2(IMPORT)).tenant().nodes(), "another region's import uses nothing here");
  }

  @Test
  void apply_importAfterAChange_neverUndoesIt() {
    From patch = r1(new LimitsPatched(rpm(7), T.plusSeconds(10)));
    ReplicatedTenantState s = apply("r1", r1(IMPORT), patch, r2(IMPORT)); // r2 imported later, at T+100
    assertEquals(7, s.tenant().limits().requestsPerMinute());
  }

  @Test
  void apply_limitsChangeAfterAnImport_keepsTheImportedUsage() {
    ReplicatedTenantState s = apply("r1", r1(IMPORT), r1(new LimitsPatched(rpm(7), T.plusSeconds(10))));
    assertEquals(400, s.tenant().nodes().get(TenantState.IMPORTED).committed(Quantity.TOKENS_PER_DAY));
  }

  @Test
  void nextStamp_clockBehindTheRegister_stampsAfterIt() {
    ReplicatedTenantState s = apply("r1", CREATED);
    assertEquals(new ReplicatedTenantState.Stamp(T.toEpochMilli() + 1, "r2"),
        s.nextStamp("models", T.toEpochMilli() - 5_000, "r2"));
    assertEquals(new ReplicatedTenantState.Stamp(T.toEpochMilli() + 9, "r2"),
        s.nextStamp("models", T.toEpochMilli() + 9, "r2"));
  }

  static Stream<Long> seeds() {
    return LongStream.range(0, 100).boxed();
  }

  /**
   * Random settings writes, issues and revocations from three regions, delivered to each replica
   * in its own interleaving (each origin's events in order, as the replication stream keeps them):
   * every replica ends with the same settings and keys, and a revoked key is revoked everywhere.
   */
  @ParameterizedTest(name = "seed {0}")
  @MethodSource("seeds")
  void apply_randomWritesInAnyInterleaving_replicasConverge(long seed) {
    Random rnd = new Random(seed);
    List<String> regions = List.of("r1", "r2", "r3");
    Map<String, List<TenantEvent>> logs = new LinkedHashMap<>();
    regions.forEach(r -> logs.put(r, new ArrayList<>()));
    logs.get("r1").add(new TenantCreated("acme", L, null, T));
    if (rnd.nextBoolean()) {
      logs.get("r2").add(new TenantCreated("acme", rpm(1), List.of("x"), T.plusMillis(rnd.nextInt(3))));
    }
    for (String r : regions) {
      if (rnd.nextInt(3) == 0) {
        logs.get(r).add(0, IMPORT); // a region that imported from the single-region journal first
      }
    }
    for (int i = 0; i < 40; i++) {
      String origin = regions.get(rnd.nextInt(3));
      Instant at = T.plusMillis(rnd.nextInt(20)); // many ties on purpose
      TenantEvent e = switch (rnd.nextInt(6)) {
        case 0 -> new LimitsPatched(rnd.nextBoolean() ? rpm(rnd.nextInt(100))
            : new TenantLimits(null, (long) rnd.nextInt(100), null, null, null, (long) rnd.nextInt(5)), at);
        case 1 -> new LimitsChanged(new TenantLimits((long) rnd.nextInt(100), null, null, null, null, null), at);
        case 2 -> new ModelsChanged(rnd.nextBoolean() ? null : List.of("m" + rnd.nextInt(3)), at);
        case 3 -> new TenantDisabled(at);
        case 4 -> new KeyIssued(origin + "-k" + rnd.nextInt(4), "h" + origin, at);
        default -> new KeyRevoked("r" + (1 + rnd.nextInt(3)) + "-k" + rnd.nextInt(4), at);
      };
      logs.get(origin).add(e);
    }
    List<ReplicatedTenantState> replicas = new ArrayList<>();
    for (String self : regions) {
      List<From> order = new ArrayList<>();
      Map<String, Integer> next = new LinkedHashMap<>();
      regions.forEach(r -> next.put(r, 0));
      int left = logs.values().stream().mapToInt(List::size).sum();
      while (left-- > 0) {
        List<String> ready = regions.stream().filter(r -> next.get(r) < logs.get(r).size()).toList();
        String r = ready.get(rnd.nextInt(ready.size()));
        order.add(new From(r, logs.get(r).get(next.get(r))));
        next.merge(r, 1, Integer::sum);
      }
      replicas.add(apply(self, order));
    }
    ReplicatedTenantState first = replicas.get(0);
    for (ReplicatedTenantState s : replicas) {
      assertEquals(first.stamps(), s.stamps(), "seed " + seed);
      assertEquals(first.revoked(), s.revoked(), "seed " + seed);
      assertEquals(first.tenant().enabled(), s.tenant().enabled(), "seed " + seed);
      assertEquals(first.tenant().limits(), s.tenant().limits(), "seed " + seed);
      assertEquals(first.tenant().models(), s.tenant().models(), "seed " + seed);
      assertEquals(first.tenant().keys(), s.tenant().keys(), "seed " + seed);
      assertEquals(first.tenant().createdAt(), s.tenant().createdAt(), "seed " + seed);
      assertEquals(first.tenant().revision(), s.tenant().revision(), "seed " + seed);
      for (String keyId : s.revoked().keySet()) {
        TenantState.KeyRecord k = s.tenant().keys().get(keyId);
        assertTrue(k == null || !k.active(), "seed " + seed + ": revoked key " + keyId + " is active");
      }
    }
  }
}
