package io.sluice.node.health;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import io.sluice.node.tenant.TenantEntity;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.ActorSelection;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.RootActorPath;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.ClusterEvent;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.sharding.ShardRegion;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.pattern.Patterns;

/**
 * {@code GET /admin/v1/cluster}: the members with their status, roles and data center, who is
 * unreachable, and how many tenant shards and entities each node hosts.
 *
 * <p>Each reachable member's shard region is asked on its own, all at once, and an unreachable
 * member is not asked: it is listed in {@code regions_not_answering}, as is a region that does not
 * answer in time. (Pekko's cluster-wide statistics query waits for every region and, when one
 * does not answer, returns no regions at all after its timeout: with one member unreachable the
 * endpoint took the whole ask timeout to show nothing.)
 */
public final class ClusterInfo {
  /** Members that run a shard region of tenants. */
  private static final Set<MemberStatus> HOSTING =
      Set.of(MemberStatus.up(), MemberStatus.weaklyUp(), MemberStatus.leaving());

  private final ActorSystem<?> system;
  private final Duration timeout;

  public ClusterInfo(ActorSystem<?> system, Duration timeout) {
    this.system = system;
    this.timeout = timeout;
  }

  /** One member. */
  @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
  public record MemberInfo(String address, String status, List<String> roles, String dataCenter, boolean reachable) {}

  /** What one node hosts. */
  public record Hosted(int shards, int entities) {}

  /** The answer. */
  @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
  @JsonInclude(JsonInclude.Include.ALWAYS)
  public record View(String self, String leader, List<MemberInfo> members, Map<String, Hosted> shards,
      List<String> shardsNotAnswering, List<String> regionsNotAnswering) {}

  public CompletionStage<View> view() {
    Cluster cluster = Cluster.get(system);
    ClusterEvent.CurrentClusterState state = cluster.state();
    TreeSet<String> unreachable = new TreeSet<>();
    state.getUnreachable().forEach(m -> unreachable.add(m.address().toString()));
    List<MemberInfo> members = new ArrayList<>();
    Map<String, CompletableFuture<ShardRegion.ShardRegionStats>> asked = new TreeMap<>();
    List<String> notAnswering = new ArrayList<>();
    for (Member m : state.getMembers()) {
      String address = m.address().toString();
      boolean reachable = !unreachable.contains(address);
      members.add(new MemberInfo(address, m.status().toString().toLowerCase(),
          new ArrayList<>(new TreeSet<>(m.getRoles())), m.dataCenter(), reachable));
      if (!HOSTING.contains(m.status())) {
        continue;
      }
      if (reachable) {
        asked.put(address, regionStats(m.address()));
      } else {
        notAnswering.add(address);
      }
    }
    String leader = state.getLeader() == null ? null : state.getLeader().toString();
    String self = cluster.selfMember().address().toString();
    return CompletableFuture.allOf(asked.values().toArray(new CompletableFuture<?>[0]))
        .handle((done, error) -> {
          Map<String, Hosted> hosted = new LinkedHashMap<>();
          List<String> failedShards = new ArrayList<>();
          asked.forEach((address, reply) -> {
            ShardRegion.ShardRegionStats stats = reply.isCompletedExceptionally() ? null : reply.join();
            if (stats == null) {
              notAnswering.add(address);
              return;
            }
            hosted.put(address, new Hosted(stats.getStats().size(),
                stats.getStats().values().stream().mapToInt(v -> ((Number) v).intValue()).sum()));
            failedShards.addAll(stats.getFailed());
          });
          notAnswering.sort(null);
          return new View(self, leader, members, hosted, failedShards, notAnswering);
        });
  }

  /** The shard statistics of the tenant region on the member at {@code address}. */
  private CompletableFuture<ShardRegion.ShardRegionStats> regionStats(Address address) {
    ActorSelection region = system.classicSystem().actorSelection(
        RootActorPath.apply(address, "/").$div("system").$div("sharding").$div(TenantEntity.ENTITY_KEY.name()));
    return Patterns.ask(region, ShardRegion.getRegionStatsInstance(), timeout).toCompletableFuture()
        .thenApply(reply -> (ShardRegion.ShardRegionStats) reply);
  }
}
