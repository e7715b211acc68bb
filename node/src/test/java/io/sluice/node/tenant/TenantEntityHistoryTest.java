package io.sluice.node.tenant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.sluice.node.tenant.TenantCommand.Create;
import io.sluice.node.tenant.TenantCommand.GetHistory;
import io.sluice.node.tenant.TenantCommand.HistoryReply;
import io.sluice.node.tenant.TenantCommand.Settle;
import io.sluice.persistence.TenantEvent;
import io.sluice.persistence.TenantState;
import io.sluice.persistence.UsageCounters;
import io.sluice.persistence.WindowKind;
import java.time.Instant;
import java.time.InstantSource;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.pubsub.Topic;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The entity's per-minute usage history: fed by settlements, answered by GetHistory, rebuilt on replay. */
class TenantEntityHistoryTest {
  private static final Instant NOW = Instant.parse("2026-03-01T12:00:30Z");
  private static final long MINUTE = Windows.id(WindowKind.MINUTE, NOW);
  private static final AtomicInteger IDS = new AtomicInteger();
  private static ActorTestKit testKit;

  private String tenantId;
  private EventSourcedBehaviorTestKit<TenantCommand, TenantEvent, TenantState> entity;

  @BeforeAll
  static void startTestKit() {
    testKit = ActorTestKit.create("TenantEntityHistoryTest",
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
    tenantId = "history-tenant-" + IDS.incrementAndGet();
    TestProbe<Topic.Command<TenantChanged>> changes = testKit.createTestProbe();
    // Serialization checks on: GetHistory and its reply cross nodes as CBOR.
    entity = EventSourcedBehaviorTestKit.create(testKit.system(),
        TenantEntity.create(tenantId, changes.ref(), InstantSource.fixed(NOW), QuotaSettings.from(ConfigFactory.load())),
        EventSourcedBehaviorTestKit.enabledSerializationSettings().withVerifyEquality(true));
  }

  private void settle(String node, long seq, UsageCounters used) {
    Map<WindowKind, Long> windows = new EnumMap<>(WindowKind.class);
    Map<WindowKind, UsageCounters> counters = new EnumMap<>(WindowKind.class);
    for (WindowKind k : WindowKind.values()) {
      windows.put(k, Windows.id(k, NOW));
      counters.put(k, used);
    }
    var r = entity.<TenantCommand.SettleReply>runCommand(
        reply -> new Settle(node, seq, NOW.plusSeconds(5), windows, counters, Map.of(), 0, reply));
    assertTrue(r.reply().applied());
  }

  private StatusReply<HistoryReply> history() {
    return entity.<StatusReply<HistoryReply>>runCommand(r -> new GetHistory(MINUTE, r)).reply();
  }

  @Test
  void getHistory_afterSettlements_answersTheLastHourEndingNow() {
    assertTrue(entity.<StatusReply<TenantState>>runCommand(r -> new Create(null, null, r)).reply().isSuccess());
    settle("node-a", 1, new UsageCounters(2, 20, 40, 900));
    settle("node-a", 2, new UsageCounters(3, 30, 60, 1200));
    settle("node-b", 1, new UsageCounters(1, 5, 5, 100));

    HistoryReply h = history().getValue();
    assertEquals(MINUTE - 59, h.firstMinute());
    assertEquals(60, h.minutes().size());
    assertEquals(new UsageCounters(4, 35, 65, 1300), h.minutes().get(59));
    assertEquals(UsageCounters.ZERO, h.minutes().get(58));
  }

  @Test
  void getHistory_afterRestart_rebuiltFromReplayedSettlements() {
    assertTrue(entity.<StatusReply<TenantState>>runCommand(r -> new Create(null, null, r)).reply().isSuccess());
    settle("node-a", 1, new UsageCounters(2, 20, 40, 900));
    entity.restart();
    assertEquals(new UsageCounters(2, 20, 40, 900), history().getValue().minutes().get(59));
  }

  @Test
  void getHistory_missingTenant_rejectedNotFound() {
    StatusReply<HistoryReply> reply = history();
    assertTrue(reply.isError());
    assertEquals(TenantCommand.Rejection.NOT_FOUND.name(), reply.getError().getMessage());
    assertEquals(List.of(), entity.getState().keys().values().stream().toList());
  }
}
