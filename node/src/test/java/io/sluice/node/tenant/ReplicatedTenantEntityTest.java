package io.sluice.node.tenant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.sluice.node.tenant.TenantCommand.Acquire;
import io.sluice.node.tenant.TenantCommand.Create;
import io.sluice.node.tenant.TenantCommand.IssueKey;
import io.sluice.node.tenant.TenantCommand.LeaseReply;
import io.sluice.node.tenant.TenantCommand.Lookup;
import io.sluice.node.tenant.TenantCommand.RevokeKey;
import io.sluice.node.tenant.TenantCommand.Update;
import io.sluice.persistence.Quantity;
import io.sluice.persistence.ReplicatedTenantState;
import io.sluice.persistence.RightsPool;
import io.sluice.persistence.TenantEvent;
import io.sluice.persistence.TenantLimits;
import io.sluice.persistence.TenantState;
import io.sluice.persistence.WindowKind;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.pubsub.Topic;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.persistence.testkit.PersistenceTestKitPlugin;
import org.apache.pekko.persistence.testkit.PersistenceTestKitSnapshotPlugin;
import org.apache.pekko.persistence.testkit.javadsl.PersistenceTestKit;
import org.apache.pekko.persistence.testkit.javadsl.SnapshotTestKit;
import org.apache.pekko.persistence.testkit.query.javadsl.PersistenceTestKitReadJournal;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Two regions' replicas of one tenant on the persistence test kit, replicating through its read
 * journal as Pekko's own ReplicatedEventSourcingTest does: settings and keys written in one
 * region reach the other, a short region gets rights from the other, concurrent limit changes
 * converge on the later write, a revocation is forever, and no snapshot is taken before every
 * region has been heard from.
 */
class ReplicatedTenantEntityTest {
  private static final Instant NOW = Instant.parse("2026-03-01T12:00:30Z");
  private static final QuotaSettings QUOTA = new QuotaSettings(Duration.ofSeconds(30), 0.5, 32, 0.25,
      Duration.ofMillis(500), 1000, 100, 64, Duration.ofSeconds(5), Duration.ofSeconds(1), 256, Duration.ofSeconds(2),
      16, 3, Duration.ofSeconds(30), true, 0.01, 100_000, 60, Duration.ofSeconds(1));
  private static final List<String> REGIONS = List.of("r1", "r2");
  private static final AtomicInteger IDS = new AtomicInteger();
  private static ActorTestKit testKit;
  private static SnapshotTestKit snapshots;
  private static PersistenceTestKit journal;

  private String tenantId;
  private final AtomicReference<Instant> clock1 = new AtomicReference<>(NOW);
  private final AtomicReference<Instant> clock2 = new AtomicReference<>(NOW);
  private final ReplicationLag lag1 = new ReplicationLag();
  private TestProbe<Topic.Command<TenantChanged>> changes;

  @BeforeAll
  static void startTestKit() {
    testKit = ActorTestKit.create("ReplicatedTenantEntityTest",
        ConfigFactory.parseString("pekko.coordinated-shutdown.exit-jvm = off\npekko.actor.provider = local")
            .withFallback(PersistenceTestKitPlugin.getInstance().config())
            .withFallback(PersistenceTestKitSnapshotPlugin.getInstance().config())
            .withFallback(ConfigFactory.load()));
    snapshots = SnapshotTestKit.create(testKit.system());
    journal = PersistenceTestKit.create(testKit.system());
  }

  @AfterAll
  static void stopTestKit() {
    testKit.shutdownTestKit();
  }

  @BeforeEach
  void newTenant() {
    tenantId = "tenant-" + IDS.incrementAndGet();
    changes = testKit.createTestProbe();
  }

  private ActorRef<TenantCommand> replica(String region, AtomicReference<Instant> clock, ReplicationLag lag) {
    return replica(region, clock, lag, Duration.ZERO);
  }

  private ActorRef<TenantCommand> replica(String region, AtomicReference<Instant> clock, ReplicationLag lag,
      Duration wantInterval) {
    RegionSettings settings = new RegionSettings(region, REGIONS, Map.of(), Map.of(), wantInterval, 0.25, 0.5);
    InstantSource source = clock::get;
    return testKit.spawn(ReplicatedTenantEntity.create(tenantId, changes.ref(), source, QUOTA, settings, lag,
        PersistenceTestKitReadJournal.Identifier()));
  }

  private static TenantState ask(ActorRef<TenantCommand> replica,
      java.util.function.Function<ActorRef<StatusReply<TenantState>>, TenantCommand> command) {
    TestProbe<StatusReply<TenantState>> probe = testKit.createTestProbe();
    replica.tell(command.apply(probe.ref()));
    StatusReply<TenantState> reply = probe.receiveMessage(Duration.ofSeconds(5));
    assertTrue(reply.isSuccess(), () -> "rejected: " + reply.getError().getMessage());
    return reply.getValue();
  }

  private static TenantState lookup(ActorRef<TenantCommand> replica) {
    TestProbe<TenantState> probe = testKit.createTestProbe();
    replica.tell(new Lookup(probe.ref()));
    return probe.receiveMessage(Duration.ofSeconds(5));
  }

  /** Waits, within the query's refresh and restart backoff, until {@code replica}'s state passes {@code check}. */
  private static void eventually(ActorRef<TenantCommand> replica, java.util.function.Consumer<TenantState> check) {
    TestProbe<Object> probe = testKit.createTestProbe();
    probe.awaitAssert(Duration.ofSeconds(20), Duration.ofMillis(100), () -> {
      check.accept(lookup(replica));
      return null;
    });
  }

  private static LeaseReply acquire(ActorRef<TenantCommand> replica, long seq, long rpm) {
    TestProbe<LeaseReply> probe = testKit.createTestProbe();
    replica.tell(new Acquire("node-" + seq, seq, NOW.plusSeconds(10), NOW, Map.of(Quantity.REQUESTS_PER_MINUTE, rpm),
        Map.of(Quantity.REQUESTS_PER_MINUTE, rpm), 0, 0, probe.ref()));
    return probe.receiveMessage(Duration.ofSeconds(5));
  }

  @Test
  void serialize_answerWants_roundTripsThroughTheConfiguredSerializer() {
    var serialization = org.apache.pekko.serialization.SerializationExtension.get(testKit.system().classicSystem());
    TenantCommand.AnswerWants message = new TenantCommand.AnswerWants();
    var serializer = serialization.findSerializerFor(message);
    byte[] bytes = serialization.serialize(message).get();
    assertTrue(serializer.getClass().getSimpleName().startsWith("JacksonCbor"), serializer.getClass().getName());
    assertEquals(message, serialization.deserialize(bytes, serializer.identifier(),
        org.apache.pekko.serialization.Serializers.manifestFor(serializer, message)).get());
  }

  @Test
  void createAndIssueKey_inOneRegion_reachTheOtherAndItsLagIsMeasured() {
    ActorRef<TenantCommand> r1 = replica("r1", clock1, new ReplicationLag());
    ActorRef<TenantCommand> r2 = replica("r2", clock2, lag1);
    ask(r1, r -> new Create(new TenantLimits(60L, null, null, null, null, null), null, r));
    ask(r1, r -> new IssueKey("r1-key", "ab".repeat(32), r));
    eventually(r2, s -> {
      assertTrue(s.exists());
      assertEquals(60L, s.limits().requestsPerMinute());
      assertTrue(s.keys().get("r1-key").active());
    });
    assertNotNull(lag1.last("r1"), "the lag from r1 is measured in r2");
  }

  @Test
  void adminWrites_withAudit_recordedWithTheChangeReplicatedAndListedInBothRegions() {
    ActorRef<TenantCommand> r1 = replica("r1", clock1, new ReplicationLag());
    ActorRef<TenantCommand> r2 = replica("r2", clock2, new ReplicationLag());
    TenantCommand.Audit admin = new TenantCommand.Audit("adm_1", "10.0.0.7", "req-1");
    TenantCommand.Audit root = new TenantCommand.Audit("root", "10.0.0.8", "req-2");
    TenantCommand.Audit other = new TenantCommand.Audit("adm_2", "10.0.0.9", "req-3");
    ask(r1, r -> new Create(new TenantLimits(60L, null, null, null, null, null), null, r, admin));
    clock1.set(NOW.plusSeconds(1));
    TenantState issued = ask(r1, r -> new IssueKey("k1", "ab".repeat(32), r, root));
    eventually(r2, s -> assertTrue(s.keys().containsKey("k1")));
    clock2.set(NOW.plusSeconds(2));
    ask(r2, r -> new RevokeKey("k1", r, other));
    ask(r2, r -> new Update(null, false, null, r, other)); // changes nothing, so records nothing
    assertTrue(issued.keys().get("k1").active(), "the record changes no state");

    List<TenantEvent.AdminActionRecorded> expected = List.of(
        new TenantEvent.AdminActionRecorded("tenant.create", null, "adm_1", "10.0.0.7", "req-1", NOW),
        new TenantEvent.AdminActionRecorded("key.issue", "k1", "root", "10.0.0.8", "req-2", NOW.plusSeconds(1)),
        new TenantEvent.AdminActionRecorded("key.revoke", "k1", "adm_2", "10.0.0.9", "req-3", NOW.plusSeconds(2)));
    TenantIndexSettings listing = new TenantIndexSettings(PersistenceTestKitReadJournal.Identifier(),
        Duration.ofSeconds(1), 50, 500);
    for (String region : REGIONS) {
      RegionSettings settings = new RegionSettings(region, REGIONS, Map.of(), Map.of(), Duration.ZERO, 0.25, 0.5);
      AuditLog log = AuditLog.fromJournal(testKit.system(), listing, settings);
      TestProbe<Object> probe = testKit.createTestProbe();
      probe.awaitAssert(Duration.ofSeconds(20), Duration.ofMillis(100), () -> {
        assertEquals(expected, log.since(tenantId, Instant.EPOCH, 100).toCompletableFuture().join(), region);
        return null;
      });
      assertEquals(expected.subList(1, 3),
          log.since(tenantId, NOW.plusSeconds(1), 100).toCompletableFuture().join(), "since " + region);
    }
    // The record is persisted right after the change it describes, by the region that made it.
    List<Object> written = journal.persistedInStorage(AuditLog.regionalId(tenantId, "r2"));
    int revoke = written.indexOf(new TenantEvent.KeyRevoked("k1", NOW.plusSeconds(2)));
    assertTrue(revoke >= 0, written.toString());
    assertEquals(expected.get(2), written.get(revoke + 1), "in the same write as the change");
  }

  @Test
  void acquire_regionShortOfItsShare_getsRightsFromTheOtherRegion() {
    // One want per window: the clocks stand still, so r2 asks exactly once.
    ActorRef<TenantCommand> r1 = replica("r1", clock1, new ReplicationLag(), Duration.ofMinutes(1));
    ActorRef<TenantCommand> r2 = replica("r2", clock2, new ReplicationLag(), Duration.ofMinutes(1));
    ask(r1, r -> new Create(new TenantLimits(10L, null, null, null, null, null), null, r));
    eventually(r2, s -> assertTrue(s.exists()));
    // Each region holds 5 of the 10: r2 spends its 5, which leaves it below a quarter of its
    // share, so it asks r1 (for 5: back to its share free); r1 gives half of its 5 free.
    assertEquals(5L, acquire(r2, 1, 5).granted().get(Quantity.REQUESTS_PER_MINUTE));
    long window = lookup(r2).window(WindowKind.MINUTE);
    eventually(r2, s -> assertEquals(2, s.rights().incoming(RightsPool.REQUESTS_PER_MINUTE, window, "r2"),
        "r1 gives half of its 5 free"));
    assertEquals(1L, acquire(r2, 3, 1).granted().get(Quantity.REQUESTS_PER_MINUTE));
    eventually(r1, s -> assertEquals(2, s.rights().outgoing(RightsPool.REQUESTS_PER_MINUTE, window, "r1")));
  }

  @Test
  void update_concurrentLimitChangesInBothRegions_convergeOnTheLaterWrite() {
    ActorRef<TenantCommand> r1 = replica("r1", clock1, new ReplicationLag());
    ActorRef<TenantCommand> r2 = replica("r2", clock2, new ReplicationLag());
    ask(r1, r -> new Create(new TenantLimits(60L, 1000L, null, null, null, null), null, r));
    eventually(r2, s -> assertTrue(s.exists()));
    clock1.set(NOW.plusSeconds(20));
    clock2.set(NOW.plusSeconds(10)); // r2's clock is behind: its write is older unless it saw r1's first
    ask(r1, r -> new Update(new TenantLimits(11L, null, null, null, null, null), false, null, r));
    ask(r2, r -> new Update(new TenantLimits(22L, 5L, null, null, null, null), false, null, r));
    eventually(r1, s1 -> {
      TenantState s2 = lookup(r2);
      assertEquals(s1.limits(), s2.limits());
      assertEquals(5L, s1.limits().tokensPerMinute(), "a limit only r2 changed is r2's in both");
      long rpm = s1.limits().requestsPerMinute();
      assertTrue(rpm == 11L || rpm == 22L);
    });
  }

  @Test
  void rotateKey_inTheOtherRegion_bothReplicasHoldTheNewKeyAndTheOldKeysEarlierExpiry() {
    ActorRef<TenantCommand> r1 = replica("r1", clock1, new ReplicationLag());
    ActorRef<TenantCommand> r2 = replica("r2", clock2, new ReplicationLag());
    ask(r1, r -> new Create(null, null, r));
    io.sluice.persistence.KeyLimits kl = new io.sluice.persistence.KeyLimits(7L, null);
    ask(r1, r -> new IssueKey("k1", "ab".repeat(32),
        new TenantCommand.KeySpec(NOW.plusSeconds(3600), List.of("m1"), kl), r, null));
    eventually(r2, s -> assertTrue(s.keys().containsKey("k1")));
    Instant r2Now = clock2.get();
    ask(r2, r -> new TenantCommand.RotateKey("k1", "k2", "cd".repeat(32), null, 30_000, r, null));
    for (ActorRef<TenantCommand> replica : List.of(r1, r2)) {
      eventually(replica, s -> {
        assertEquals(r2Now.plusSeconds(30), s.keys().get("k1").expiresAt());
        TenantState.KeyRecord k2 = s.keys().get("k2");
        assertEquals(List.of("m1"), k2.models(), "the new key keeps the old key's models");
        assertEquals(kl, k2.limits());
        assertNull(k2.expiresAt());
      });
    }
  }

  @Test
  void revokeKey_inTheOtherRegion_isForeverAndBlocksAReissue() {
    ActorRef<TenantCommand> r1 = replica("r1", clock1, new ReplicationLag());
    ActorRef<TenantCommand> r2 = replica("r2", clock2, new ReplicationLag());
    ask(r1, r -> new Create(null, null, r));
    ask(r1, r -> new IssueKey("k1", "ab".repeat(32), r));
    eventually(r2, s -> assertTrue(s.keys().containsKey("k1")));
    ask(r2, r -> new RevokeKey("k1", r));
    eventually(r1, s -> assertFalse(s.keys().get("k1").active()));
    TestProbe<StatusReply<TenantState>> probe = testKit.createTestProbe();
    r1.tell(new IssueKey("k1", "cd".repeat(32), probe.ref()));
    assertEquals(TenantCommand.Rejection.ALREADY_EXISTS.name(), probe.receiveMessage().getError().getMessage());
    assertFalse(lookup(r2).keys().get("k1").active());
  }

  @Test
  void recovery_tenantOfTheSingleRegionJournal_isImportedWithKeysUsageAndLaterChangesWin() {
    // Before regions: the single-region entity, persistence id Tenant|<id>.
    ActorRef<TenantCommand> legacy = testKit.spawn(TenantEntity.create(tenantId, changes.ref(), () -> NOW, QUOTA));
    ask(legacy, r -> new Create(new TenantLimits(10L, null, 1000L, null, null, null), List.of("m"), r));
    ask(legacy, r -> new IssueKey("k1", "ab".repeat(32), r));
    ask(legacy, r -> new IssueKey("k2", "cd".repeat(32), r));
    ask(legacy, r -> new RevokeKey("k2", r));
    TestProbe<LeaseReply> lease = testKit.createTestProbe();
    legacy.tell(new Acquire("old-node", 1, NOW.plusSeconds(10), NOW, Map.of(Quantity.TOKENS_PER_DAY, 400L),
        Map.of(Quantity.TOKENS_PER_DAY, 400L), 0, 0, lease.ref()));
    assertEquals(400L, lease.receiveMessage().granted().get(Quantity.TOKENS_PER_DAY));
    testKit.stop(legacy);

    // With regions: r1 imports at its first command, and a change made there afterwards...
    ActorRef<TenantCommand> r1 = replica("r1", clock1, new ReplicationLag());
    TenantState imported = lookup(r1);
    assertEquals(new TenantLimits(10L, null, 1000L, null, null, null), imported.limits());
    assertEquals(List.of("m"), imported.models());
    assertTrue(imported.keys().get("k1").active());
    assertFalse(imported.keys().get("k2").active());
    clock1.set(NOW.plusSeconds(5));
    ask(r1, r -> new Update(new TenantLimits(20L, null, null, null, null, null), false, null, r));
    // ...is not undone by r2 importing later.
    ActorRef<TenantCommand> r2 = replica("r2", clock2, new ReplicationLag());
    eventually(r2, s -> assertEquals(20L, s.limits().requestsPerMinute()));
    eventually(r1, s -> assertEquals(20L, s.limits().requestsPerMinute()));
    TenantState s2 = lookup(r2);
    assertFalse(s2.keys().get("k2").active(), "a key revoked before the migration stays revoked");
    // r2 counts the 400 tokens used before the migration against its 500: 200 more do not fit.
    TestProbe<LeaseReply> probe = testKit.createTestProbe();
    r2.tell(new Acquire("n", 1, NOW.plusSeconds(10), NOW, Map.of(Quantity.TOKENS_PER_DAY, 200L),
        Map.of(Quantity.TOKENS_PER_DAY, 200L), 0, 0, probe.ref()));
    LeaseReply first = probe.receiveMessage();
    assertTrue(first.exhausted().containsKey(Quantity.TOKENS_PER_DAY), () -> first + " / " + s2);
    r2.tell(new Acquire("n", 2, NOW.plusSeconds(10), NOW, Map.of(Quantity.TOKENS_PER_DAY, 100L),
        Map.of(Quantity.TOKENS_PER_DAY, 100L), 0, 0, probe.ref()));
    assertEquals(100L, probe.receiveMessage().granted().get(Quantity.TOKENS_PER_DAY));
  }

  @Test
  void snapshot_beforeEveryRegionWasHeardFrom_isNotTakenAndAfterwardsIsAndRecovers() {
    ActorRef<TenantCommand> r1 = replica("r1", clock1, new ReplicationLag());
    ask(r1, r -> new Create(null, null, r));
    String pid = "Tenant|" + tenantId + "|r1";
    for (int i = 0; i < ReplicatedTenantEntity.SNAPSHOT_EVERY + 10; i++) {
      List<String> models = List.of("m" + i);
      ask(r1, r -> new Update(null, true, models, r));
    }
    assertEquals(List.of(), snapshots.persistedInStorage(pid), "r2 never written: no snapshot");
    ActorRef<TenantCommand> r2 = replica("r2", clock2, new ReplicationLag());
    eventually(r2, s -> assertTrue(s.exists()));
    ask(r2, r -> new IssueKey("r2-key", "ab".repeat(32), r));
    eventually(r1, s -> assertTrue(s.keys().containsKey("r2-key")));
    for (int i = 0; i < ReplicatedTenantEntity.SNAPSHOT_EVERY; i++) {
      List<String> models = List.of("n" + i);
      ask(r1, r -> new Update(null, true, models, r));
    }
    assertFalse(snapshots.persistedInStorage(pid).isEmpty(), "a snapshot once both regions were heard from");
    testKit.stop(r1);
    ActorRef<TenantCommand> again = replica("r1", clock1, new ReplicationLag());
    assertEquals(List.of("n" + (ReplicatedTenantEntity.SNAPSHOT_EVERY - 1)), lookup(again).models());
    ask(r2, r -> new IssueKey("r2-key-2", "cd".repeat(32), r));
    eventually(again, s -> assertTrue(s.keys().containsKey("r2-key-2"), "replication resumes after recovery"));
  }

  private static final io.sluice.node.routing.Deployment SHARED = new io.sluice.node.routing.Deployment("d", "openai",
      "http://localhost", "m", null, 1, 0, Duration.ofSeconds(1), Duration.ofSeconds(1), Duration.ofSeconds(1), 1, 1,
      0, null, Map.of(), null, true);

  private static ReplicatedTenantState replicaState(ActorRef<TenantCommand> replica) {
    TestProbe<StatusReply<ReplicatedTenantState>> probe = testKit.createTestProbe();
    replica.tell(new TenantCommand.GetReplica(probe.ref()));
    StatusReply<ReplicatedTenantState> reply = probe.receiveMessage(Duration.ofSeconds(5));
    assertTrue(reply.isSuccess(), () -> "rejected: " + reply.getError().getMessage());
    return reply.getValue();
  }

  @Test
  void reportUpstream_circuitOpenedAndClosedInOneRegion_reachesTheOtherUnderItsRegionKeyAndItsNodes() {
    ActorRef<TenantCommand> r1 = replica("r1", clock1, new ReplicationLag());
    ActorRef<TenantCommand> r2 = replica("r2", clock2, new ReplicationLag());
    ask(r1, r -> new Create(null, null, r));
    eventually(r2, s -> assertTrue(s.exists()));
    for (int i = 0; i < 3; i++) {
      r1.tell(new TenantCommand.ReportUpstream("d", 429, "HTTP 429", 0, false));
    }
    String key = io.sluice.persistence.CircuitState.regionKey("d", "r1");
    eventually(r1, s -> assertTrue(s.circuits().get("d").open()));
    eventually(r2, s -> {
      assertTrue(s.circuits().get(key).open());
      assertFalse(s.circuits().containsKey("d"), "r2's own circuit stays closed");
    });
    // r2's nodes are told: the change reaches their key directories and the gate keeps them off it.
    Topic.Command<TenantChanged> told = Topic.publish(new TenantChanged(tenantId, lookup(r2)));
    changes.fishForMessage(Duration.ofSeconds(10), m -> m.equals(told)
        ? org.apache.pekko.actor.testkit.typed.javadsl.FishingOutcomes.complete()
        : org.apache.pekko.actor.testkit.typed.javadsl.FishingOutcomes.continueAndIgnore());
    io.sluice.node.routing.CircuitGate gate = new io.sluice.node.routing.CircuitGate("r2", REGIONS, clock2::get);
    assertFalse(gate.allows(lookup(r2).circuits(), SHARED), "a shared deployment honours r1's open circuit");
    // Half-open in r1 after 30 s: a success there closes it, and r2 forgets r1's circuit.
    clock1.set(NOW.plusSeconds(31));
    r1.tell(new TenantCommand.ReportUpstream("d", 200, null, 0, true));
    eventually(r1, s -> assertFalse(s.circuits().containsKey("d")));
    eventually(r2, s -> assertFalse(s.circuits().containsKey(key)));
    assertTrue(gate.allows(lookup(r2).circuits(), SHARED));
  }

  @Test
  void getReplica_otherRegionSettles_itsPartAndRightsShowInThisRegionsUsageView() {
    ActorRef<TenantCommand> r1 = replica("r1", clock1, new ReplicationLag());
    ActorRef<TenantCommand> r2 = replica("r2", clock2, new ReplicationLag());
    ask(r1, r -> new Create(new TenantLimits(21L, null, null, null, null, null), null, r));
    eventually(r2, s -> assertTrue(s.exists()));
    assertEquals(4L, acquire(r2, 1, 4).granted().get(Quantity.REQUESTS_PER_MINUTE));
    TestProbe<TenantCommand.SettleReply> settled = testKit.createTestProbe();
    Map<WindowKind, Long> windows = lookup(r2).windows();
    r2.tell(new TenantCommand.Settle("node-1", 1, NOW.plusSeconds(10), windows,
        Map.of(WindowKind.MINUTE, new io.sluice.persistence.UsageCounters(3, 30, 9, 0)), Map.of(), 0, settled.ref()));
    assertTrue(settled.receiveMessage(Duration.ofSeconds(5)).applied());
    RegionSettings settings = new RegionSettings("r1", REGIONS, Map.of(), Map.of(), Duration.ZERO, 0.25, 0.5);
    TestProbe<Object> probe = testKit.createTestProbe();
    probe.awaitAssert(Duration.ofSeconds(20), Duration.ofMillis(100), () -> {
      RegionalUsage.View v = RegionalUsage.of(replicaState(r1), settings, NOW);
      assertEquals(3, v.parts().get(1).used().get(WindowKind.MINUTE).requests(), "r2's settled part, seen in r1");
      assertEquals(0, v.parts().get(0).used().get(WindowKind.MINUTE).requests());
      assertEquals(3, v.total().get(WindowKind.MINUTE).requests());
      assertEquals(11L, v.parts().get(0).rights().get(RightsPool.REQUESTS_PER_MINUTE));
      assertEquals(10L, v.parts().get(1).rights().get(RightsPool.REQUESTS_PER_MINUTE));
      return null;
    });
    assertEquals(Map.of(), lookup(r1).nodes(), "r2's usage is never counted against r1's rights");
  }
}
