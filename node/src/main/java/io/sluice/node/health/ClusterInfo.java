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
import java.util.TreeSet;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.cluster.ClusterEvent;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.sharding.ShardRegion;
import org.apache.pekko.cluster.sharding.typed.GetClusterShardingStats;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.typed.Cluster;

/**
 * {@code GET /admin/v1/cluster}: the members with their status, roles and data center, who is
 * unreachable, and how many tenant shards and entities each node hosts.
 */
public final class ClusterInfo {
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
      List<String> shardsNotAnswering) {}

  public CompletionStage<View> view() {
    Cluster cluster = Cluster.get(system);
    ClusterEvent.CurrentClusterState state = cluster.state();
    TreeSet<String> unreachable = new TreeSet<>();
    state.getUnreachable().forEach(m -> unreachable.add(m.address().toString()));
    List<MemberInfo> members = new ArrayList<>();
    for (Member m : state.getMembers()) {
      members.add(new MemberInfo(m.address().toString(), m.status().toString().toLowerCase(),
          new ArrayList<>(new TreeSet<>(m.getRoles())), m.dataCenter(), !unreachable.contains(m.address().toString())));
    }
    String leader = state.getLeader() == null ? null : state.getLeader().toString();
    CompletionStage<ShardRegion.ClusterShardingStats> stats = AskPattern.ask(ClusterSharding.get(system).shardState(),
        replyTo -> new GetClusterShardingStats(TenantEntity.ENTITY_KEY, timeout, replyTo),
        timeout.plusSeconds(1), system.scheduler());
    return stats.thenApply(s -> {
      Map<String, Hosted> hosted = new LinkedHashMap<>();
      s.getRegions().forEach((address, region) -> hosted.put(address.toString(),
          new Hosted(region.getStats().size(), region.getStats().values().stream().mapToInt(v -> ((Number) v).intValue()).sum())));
      List<String> failed = new ArrayList<>();
      s.getRegions().values().forEach(r -> failed.addAll(r.getFailed()));
      return new View(cluster.selfMember().address().toString(), leader, members, hosted, failed);
    });
  }
}
