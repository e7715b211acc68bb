package io.sluice.node.health;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.node.OneNodeCluster;
import io.sluice.node.tenant.QuotaSettings;
import io.sluice.node.tenant.TenantChanged;
import io.sluice.node.tenant.TenantCommand;
import io.sluice.node.tenant.TenantEntity;
import io.sluice.persistence.TenantLimits;
import java.time.Duration;
import java.time.InstantSource;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.typed.pubsub.Topic;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.pattern.StatusReply;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** {@link ClusterInfo} on a one-node cluster with the tenant shard region running. */
class ClusterInfoTest {
  private static final Duration ASK = Duration.ofSeconds(5);
  private static ActorTestKit testKit;

  @BeforeAll
  static void startCluster() {
    testKit = OneNodeCluster.start("ClusterInfoTest");
    TenantEntity.init(testKit.system(), testKit.<Topic.Command<TenantChanged>>createTestProbe().ref(),
        InstantSource.system(), QuotaSettings.from(testKit.system().settings().config()));
  }

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
  }

  private static void create(String tenant) throws Exception {
    StatusReply<?> reply = ClusterSharding.get(testKit.system()).entityRefFor(TenantEntity.ENTITY_KEY, tenant)
        .<StatusReply<io.sluice.persistence.TenantState>>ask(r -> new TenantCommand.Create(
            new TenantLimits(1_000L, null, null, null, null, null), null, r), ASK)
        .toCompletableFuture().get(10, TimeUnit.SECONDS);
    assertTrue(reply.isSuccess(), "create " + tenant + ": " + reply);
  }

  @Test
  void view_twoTenantsOnTheOneNode_countsThemUnderItsAddressAndNamesNoSilentRegion() throws Exception {
    create("info-a");
    create("info-b");
    ClusterInfo info = new ClusterInfo(testKit.system(), ASK);
    ClusterInfo.View view = info.view().toCompletableFuture().get(10, TimeUnit.SECONDS);
    String self = Cluster.get(testKit.system()).selfMember().address().toString();

    assertEquals(self, view.self());
    assertEquals(List.of(new ClusterInfo.MemberInfo(self, "up", List.of("dc-default"), "default", true)),
        view.members());
    assertEquals(List.of(self), List.copyOf(view.shards().keySet()));
    assertEquals(2, view.shards().get(self).entities());
    assertTrue(view.shards().get(self).shards() >= 1 && view.shards().get(self).shards() <= 2,
        "shards: " + view.shards());
    assertEquals(List.of(), view.regionsNotAnswering());
    assertEquals(List.of(), view.shardsNotAnswering());
  }
}
