package io.sluice.node.health;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import io.sluice.node.tenant.RegionSettings;
import io.sluice.node.tenant.ReplicationLag;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code GET /admin/v1/regions}: the configured regions, this node's region, and per remote
 * replica the replication lag last seen from it. With one region the lists are empty and the
 * region is null, which is how a client tells a single-region node.
 */
public final class RegionInfo {
  private final RegionSettings settings;
  private final ReplicationLag lag;

  public RegionInfo(RegionSettings settings, ReplicationLag lag) {
    this.settings = settings;
    this.lag = lag;
  }

  /** One remote replica; {@code lagMs} and {@code observedAt} are null until an event of it arrived. */
  @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
  @JsonInclude(JsonInclude.Include.ALWAYS)
  public record Replica(String region, Long lagMs, Instant observedAt) {}

  /** The answer. */
  @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
  @JsonInclude(JsonInclude.Include.ALWAYS)
  public record View(List<String> regions, String region, boolean multiRegion, List<Replica> replicas) {}

  /** The regions this node was configured with. */
  public RegionSettings settings() {
    return settings;
  }

  public View view() {
    if (!settings.multiRegion()) {
      return new View(List.of(), null, false, List.of());
    }
    List<Replica> replicas = new ArrayList<>();
    for (String r : settings.regions()) {
      if (!r.equals(settings.self())) {
        ReplicationLag.Sample s = lag.last(r);
        replicas.add(new Replica(r, s == null ? null : s.lag().toMillis(), s == null ? null : s.observedAt()));
      }
    }
    return new View(settings.regions(), settings.self(), true, List.copyOf(replicas));
  }
}
