package io.sluice.node.tenant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.sluice.node.tenant.TenantCommand.Create;
import io.sluice.node.tenant.TenantCommand.Disable;
import io.sluice.node.tenant.TenantCommand.Get;
import io.sluice.node.tenant.TenantCommand.IssueKey;
import io.sluice.node.tenant.TenantCommand.Lookup;
import io.sluice.node.tenant.TenantCommand.Rejection;
import io.sluice.node.tenant.TenantCommand.RevokeKey;
import io.sluice.node.tenant.TenantCommand.Update;
import io.sluice.persistence.TenantEvent;
import io.sluice.persistence.TenantEvent.KeyIssued;
import io.sluice.persistence.TenantEvent.KeyRevoked;
import io.sluice.persistence.TenantEvent.LimitsChanged;
import io.sluice.persistence.TenantEvent.ModelsChanged;
import io.sluice.persistence.TenantEvent.TenantCreated;
import io.sluice.persistence.TenantEvent.TenantDisabled;
import io.sluice.persistence.TenantLimits;
import io.sluice.persistence.TenantState;
import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.pubsub.Topic;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit.CommandResultWithReply;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class TenantEntityTest {
  private static final Instant NOW = Instant.parse("2026-03-01T12:00:00Z");
  private static final InstantSource CLOCK = InstantSource.fixed(NOW);
  /** Long enough for a stray message that was already sent to arrive; no sleep involved. */
  private static final Duration QUIET = Duration.ofMillis(100);
  private static final AtomicInteger IDS = new AtomicInteger();

  private static ActorTestKit testKit;

  private String tenantId;
  private TestProbe<Topic.Command<TenantChanged>> changes;
  private EventSourcedBehaviorTestKit<TenantCommand, TenantEvent, TenantState> entity;

  @BeforeAll
  static void startTestKit() {
    testKit = ActorTestKit.create("TenantEntityTest",
        // Test-only: never System.exit the surefire JVM when the test kit shuts down.
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
    // A fresh persistence id per test, so tests never see each other's journal.
    tenantId = "tenant-" + IDS.incrementAndGet();
    changes = testKit.createTestProbe();
    // Serialization checks on (commands, events, state and replies go through jackson-cbor), and
    // what comes back must equal what went in: replay after a restart depends on it.
    entity = EventSourcedBehaviorTestKit.create(
        testKit.system(), TenantEntity.create(tenantId, changes.ref(), CLOCK,
            io.sluice.node.tenant.QuotaSettings.from(com.typesafe.config.ConfigFactory.load())),
        EventSourcedBehaviorTestKit.enabledSerializationSettings().withVerifyEquality(true));
  }

  // ---------------------------------------------------------------- helpers

  private CommandResultWithReply<TenantCommand, TenantEvent, TenantState, StatusReply<TenantState>> run(
      Function<ActorRef<StatusReply<TenantState>>, TenantCommand> command) {
    return entity.runCommand(command);
  }

  private TenantState create(TenantLimits limits, List<String> models) {
    var result = run(r -> new Create(limits, models, r));
    assertTrue(result.reply().isSuccess(), "create must succeed");
    expectPublished(result.reply().getValue());
    return result.reply().getValue();
  }

  private void expectPublished(TenantState state) {
    changes.expectMessage(Topic.publish(new TenantChanged(tenantId, state)));
  }

  private void expectNothingPublished() {
    changes.expectNoMessage(QUIET);
  }

  private static void assertRejected(StatusReply<TenantState> reply, Rejection rejection) {
    assertTrue(reply.isError(), () -> "expected rejection " + rejection + " but got " + reply);
    assertEquals(rejection.name(), reply.getError().getMessage());
    assertEquals(rejection, Rejection.of(reply.getError().getMessage()));
  }

  private static TenantLimits limits(Long rpm, Long tpm) {
    return new TenantLimits(rpm, tpm, null, null, null, null);
  }

  // ---------------------------------------------------------------- create / get

  @Test
  void create_newTenant_persistsCreatedEventAndGetReturnsState() {
    TenantLimits l = new TenantLimits(60L, 1000L, null, new BigDecimal("5.00"), null, 4L);
    var result = run(r -> new Create(l, List.of("gpt-4o-mini"), r));

    TenantState expected = TenantState.EMPTY.apply(new TenantCreated(tenantId, l, List.of("gpt-4o-mini"), NOW));
    assertEquals(List.of(new TenantCreated(tenantId, l, List.of("gpt-4o-mini"), NOW)), result.events());
    assertTrue(result.reply().isSuccess());
    assertEquals(expected, result.reply().getValue());
    assertEquals(expected, result.state());
    expectPublished(expected);

    var get = run(Get::new);
    assertTrue(get.hasNoEvents());
    assertEquals(expected, get.reply().getValue());
    expectNothingPublished();
  }

  @Test
  void issueKey_withAudit_persistsTheAuditRecordInTheSameWriteAndStateIgnoresIt() {
    create(null, null);
    TenantCommand.Audit who = new TenantCommand.Audit("adm_1", "10.0.0.7", "req-1");
    var result = run(r -> new TenantCommand.IssueKey("key_a", "ab".repeat(32), r, who));
    assertEquals(List.of(new TenantEvent.KeyIssued("key_a", "ab".repeat(32), NOW),
        new TenantEvent.AdminActionRecorded("key.issue", "key_a", "adm_1", "10.0.0.7", "req-1", NOW)),
        result.events());
    assertEquals(result.state(), result.reply().getValue());
    assertEquals(2, result.state().revision(), "the audit record changes no state");

    var noop = run(r -> new TenantCommand.Update(null, false, null, r, who));
    assertTrue(noop.hasNoEvents(), "a write that changes nothing records nothing");
  }

  @Test
  void issueKey_withSpec_persistsExpiryModelsAndLimits() {
    create(null, null);
    io.sluice.persistence.KeyLimits kl = new io.sluice.persistence.KeyLimits(5L, 100L);
    var spec = new TenantCommand.KeySpec(NOW.plusSeconds(60), List.of("m1"), kl);
    var result = run(r -> new IssueKey("key_a", "ab".repeat(32), spec, r, null));
    assertEquals(List.of(new KeyIssued("key_a", "ab".repeat(32), NOW, NOW.plusSeconds(60), List.of("m1"), kl)),
        result.events());
    TenantState.KeyRecord k = result.state().keys().get("key_a");
    assertEquals(NOW.plusSeconds(60), k.expiresAt());
    assertEquals(kl, k.limits());
    expectPublished(result.state());
  }

  @Test
  void rotateKey_activeKey_issuesNewKeyWithOldModelsAndEndsOldKeyAfterOverlap() {
    create(null, null);
    io.sluice.persistence.KeyLimits kl = new io.sluice.persistence.KeyLimits(5L, null);
    run(r -> new IssueKey("old", "ab".repeat(32), new TenantCommand.KeySpec(NOW.plusSeconds(3600), List.of("m1"), kl),
        r, null));
    expectPublished(entity.getState());
    var who = new TenantCommand.Audit("root", "127.0.0.1", "req-9");
    var result = run(r -> new TenantCommand.RotateKey("old", "new", "cd".repeat(32), null, 30_000, r, who));
    assertEquals(List.of(new KeyIssued("new", "cd".repeat(32), NOW, null, List.of("m1"), kl),
        new TenantEvent.KeyExpirySet("old", NOW.plusSeconds(30), NOW),
        new TenantEvent.AdminActionRecorded("key.rotate", "old", "root", "127.0.0.1", "req-9", NOW)), result.events());
    assertEquals(NOW.plusSeconds(30), result.state().keys().get("old").expiresAt());
    assertTrue(result.state().keys().get("old").usableAt(NOW.plusSeconds(29)));
    assertFalse(result.state().keys().get("old").usableAt(NOW.plusSeconds(30)));
    expectPublished(result.state());
    entity.restart();
    assertEquals(result.state(), entity.getState(), "recovery gives back the rotated keys");
  }

  @Test
  void rotateKey_overlapLongerThanTheOldKeysExpiry_neverExtendsIt() {
    create(null, null);
    run(r -> new IssueKey("old", "ab".repeat(32), new TenantCommand.KeySpec(NOW.plusSeconds(10), null, null), r, null));
    var result = run(r -> new TenantCommand.RotateKey("old", "new", "cd".repeat(32), null, 3_600_000, r, null));
    assertEquals(NOW.plusSeconds(10), result.state().keys().get("old").expiresAt());
  }

  @Test
  void rotateKey_unknownRevokedOrTakenId_rejectedWithoutEvents() {
    create(null, null);
    run(r -> new IssueKey("a", "ab".repeat(32), r));
    run(r -> new IssueKey("b", "cd".repeat(32), r));
    run(r -> new RevokeKey("b", r));
    assertRejected(run(r -> new TenantCommand.RotateKey("nope", "n", "ef".repeat(32), null, 0, r, null)).reply(),
        Rejection.KEY_NOT_FOUND);
    assertRejected(run(r -> new TenantCommand.RotateKey("b", "n", "ef".repeat(32), null, 0, r, null)).reply(),
        Rejection.KEY_INACTIVE);
    var taken = run(r -> new TenantCommand.RotateKey("a", "b", "ef".repeat(32), null, 0, r, null));
    assertRejected(taken.reply(), Rejection.ALREADY_EXISTS);
    assertTrue(taken.hasNoEvents());
  }

  @Test
  void create_nullLimitsAndModels_unlimitedAndAllModels() {
    TenantState s = create(null, null);
    assertEquals(TenantLimits.UNLIMITED, s.limits());
    assertNull(s.models());
    assertTrue(s.enabled());
    assertEquals(NOW, s.createdAt());
    assertEquals(1, s.revision());
  }

  @Test
  void create_twice_rejectedAlreadyExistsWithoutEvent() {
    TenantState first = create(limits(1L, null), null);

    var second = run(r -> new Create(limits(99L, null), List.of("other"), r));
    assertRejected(second.reply(), Rejection.ALREADY_EXISTS);
    assertTrue(second.hasNoEvents());
    assertEquals(first, second.state());
    expectNothingPublished();
  }

  // ---------------------------------------------------------------- before create

  @Test
  void commands_beforeCreate_rejectedNotFoundWithoutEvents() {
    List<Function<ActorRef<StatusReply<TenantState>>, TenantCommand>> commands = List.of(
        Get::new,
        r -> new Update(limits(1L, 1L), true, List.of("m"), r),
        Disable::new,
        r -> new IssueKey("key_1", "hash-1", r),
        r -> new RevokeKey("key_1", r));
    for (var command : commands) {
      var result = run(command);
      assertRejected(result.reply(), Rejection.NOT_FOUND);
      assertTrue(result.hasNoEvents());
      assertSame(TenantState.EMPTY, result.state());
    }
    expectNothingPublished();
  }

  @Test
  void lookup_missingTenant_returnsEmptyState() {
    var result = entity.<TenantState>runCommand(Lookup::new);
    assertEquals(TenantState.EMPTY, result.reply());
    assertTrue(result.hasNoEvents());
    expectNothingPublished();
  }

  @Test
  void answerWants_singleRegion_persistsNothing() {
    create(new TenantLimits(10L, null, null, null, null, null), null);
    assertTrue(entity.runCommand(new TenantCommand.AnswerWants()).hasNoEvents());
    expectNothingPublished();
  }

  @Test
  void lookup_existingTenant_returnsCurrentState() {
    TenantState s = create(null, List.of("a"));
    var result = entity.<TenantState>runCommand(Lookup::new);
    assertEquals(s, result.reply());
    assertTrue(result.hasNoEvents());
  }

  // ---------------------------------------------------------------- update

  @Test
  void update_limitsPatch_overlaysAndKeepsModels() {
    create(new TenantLimits(10L, 100L, 1000L, null, null, null), List.of("a", "b"));

    var result = run(r -> new Update(new TenantLimits(null, 200L, null, BigDecimal.ONE, null, null), false, null, r));

    TenantLimits expected = new TenantLimits(10L, 200L, 1000L, BigDecimal.ONE, null, null);
    assertEquals(List.of(new LimitsChanged(expected, NOW)), result.events());
    assertEquals(expected, result.reply().getValue().limits());
    assertEquals(List.of("a", "b"), result.reply().getValue().models(), "setModels=false keeps the models");
    expectPublished(result.reply().getValue());
  }

  @Test
  void update_setModelsWithList_replacesModels() {
    create(null, List.of("a"));
    var result = run(r -> new Update(null, true, List.of("b", "c"), r));
    assertEquals(List.of(new ModelsChanged(List.of("b", "c"), NOW)), result.events());
    assertEquals(List.of("b", "c"), result.state().models());
    expectPublished(result.state());
  }

  @Test
  void update_setModelsWithNull_allowsAllModels() {
    create(null, List.of("a"));
    var result = run(r -> new Update(null, true, null, r));
    assertEquals(List.of(new ModelsChanged(null, NOW)), result.events());
    assertNull(result.state().models());
    expectPublished(result.state());
  }

  @Test
  void update_limitsAndModels_twoEventsOnePublish() {
    TenantState created = create(null, null);
    var result = run(r -> new Update(limits(5L, null), true, List.of("m"), r));
    assertEquals(List.of(new LimitsChanged(limits(5L, null), NOW), new ModelsChanged(List.of("m"), NOW)),
        result.events());
    assertEquals(created.revision() + 2, result.state().revision());
    expectPublished(result.state());
    expectNothingPublished();
  }

  @Test
  void update_noChange_persistsNothingAndPublishesNothing() {
    TenantState created = create(limits(10L, 20L), List.of("a"));

    List<Function<ActorRef<StatusReply<TenantState>>, TenantCommand>> noOps = List.of(
        r -> new Update(null, false, null, r),
        r -> new Update(TenantLimits.UNLIMITED, false, List.of("ignored"), r),
        r -> new Update(limits(10L, null), false, null, r),
        r -> new Update(limits(10L, 20L), true, List.of("a"), r));
    for (var command : noOps) {
      var result = run(command);
      assertTrue(result.hasNoEvents(), () -> "no-op update persisted " + result.events());
      assertEquals(created, result.reply().getValue());
    }
    expectNothingPublished();
  }

  // ---------------------------------------------------------------- disable

  @Test
  void disable_twice_secondIsNoOp() {
    create(null, null);
    var first = run(Disable::new);
    assertEquals(List.of(new TenantDisabled(NOW)), first.events());
    assertFalse(first.state().enabled());
    expectPublished(first.state());

    var second = run(Disable::new);
    assertTrue(second.hasNoEvents());
    assertTrue(second.reply().isSuccess());
    assertEquals(first.state(), second.reply().getValue());
    expectNothingPublished();
  }

  @Test
  void issueKey_disabledTenant_rejectedDisabled() {
    create(null, null);
    expectPublished(run(Disable::new).state());

    var result = run(r -> new IssueKey("key_1", "hash-1", r));
    assertRejected(result.reply(), Rejection.DISABLED);
    assertTrue(result.hasNoEvents());
    expectNothingPublished();
  }

  // ---------------------------------------------------------------- keys

  @Test
  void revokeKey_issuedThenRevokedTwice_secondIsIdempotent() {
    create(null, null);

    var issued = run(r -> new IssueKey("key_1", "hash-1", r));
    assertEquals(List.of(new KeyIssued("key_1", "hash-1", NOW)), issued.events());
    TenantState.KeyRecord key = issued.state().keys().get("key_1");
    assertEquals(new TenantState.KeyRecord("key_1", "hash-1", NOW, null), key);
    expectPublished(issued.state());

    var revoked = run(r -> new RevokeKey("key_1", r));
    assertEquals(List.of(new KeyRevoked("key_1", NOW)), revoked.events());
    assertFalse(revoked.state().keys().get("key_1").active());
    assertEquals(NOW, revoked.state().keys().get("key_1").revokedAt());
    expectPublished(revoked.state());

    var again = run(r -> new RevokeKey("key_1", r));
    assertTrue(again.hasNoEvents(), "revoking a revoked key must not persist a second event");
    assertTrue(again.reply().isSuccess());
    assertEquals(revoked.state(), again.reply().getValue());
    expectNothingPublished();
  }

  @Test
  void revokeKey_unknownKey_rejectedKeyNotFound() {
    create(null, null);
    expectPublished(run(r -> new IssueKey("key_1", "hash-1", r)).state());

    var result = run(r -> new RevokeKey("key_404", r));
    assertRejected(result.reply(), Rejection.KEY_NOT_FOUND);
    assertTrue(result.hasNoEvents());
    expectNothingPublished();
  }

  @Test
  void revokeKey_disabledTenant_stillRevokes() {
    create(null, null);
    expectPublished(run(r -> new IssueKey("key_1", "hash-1", r)).state());
    expectPublished(run(Disable::new).state());

    var result = run(r -> new RevokeKey("key_1", r));
    assertEquals(List.of(new KeyRevoked("key_1", NOW)), result.events());
    expectPublished(result.state());
  }

  // ---------------------------------------------------------------- recovery

  @Test
  void restart_afterSeveralEvents_recoversSameState() {
    create(limits(10L, null), List.of("a"));
    run(r -> new IssueKey("key_1", "hash-1", r));
    run(r -> new IssueKey("key_2", "hash-2", r));
    run(r -> new Update(limits(null, 500L), true, List.of("a", "b"), r));
    run(r -> new RevokeKey("key_1", r));
    TenantState before = run(Get::new).reply().getValue();
    assertEquals(6, before.revision());

    TenantState after = entity.restart().state();

    assertEquals(before, after);
    assertEquals(6, after.revision());
    assertEquals("hash-1", after.keys().get("key_1").keyHash());
    assertFalse(after.keys().get("key_1").active());
    assertEquals("hash-2", after.keys().get("key_2").keyHash());
    assertTrue(after.keys().get("key_2").active());
    assertEquals(limits(10L, 500L), after.limits());
    assertEquals(List.of("a", "b"), after.models());

    // The recovered entity behaves as before: the revoked key stays revoked, idempotently.
    var again = run(r -> new RevokeKey("key_1", r));
    assertTrue(again.hasNoEvents());
    assertRejected(run(r -> new Create(null, null, r)).reply(), Rejection.ALREADY_EXISTS);
  }

  @Test
  void restart_pastSnapshotInterval_recoversSameState() {
    create(null, null);
    for (int i = 0; i < 120; i++) {
      String id = "key_" + i;
      run(r -> new IssueKey(id, "hash-" + id, r));
    }
    run(r -> new RevokeKey("key_7", r));
    TenantState before = run(Get::new).reply().getValue();
    assertEquals(122, before.revision());

    TenantState after = entity.restart().state();

    assertEquals(before, after);
    assertEquals(120, after.keys().size());
    assertFalse(after.keys().get("key_7").active());
  }

  @Test
  void restart_disabledTenant_staysDisabled() {
    create(null, null);
    run(Disable::new);
    TenantState after = entity.restart().state();
    assertFalse(after.enabled());
    assertRejected(run(r -> new IssueKey("key_1", "h", r)).reply(), Rejection.DISABLED);
  }
}
