package io.sluice.node.tenant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.sluice.persistence.Quantity;
import io.sluice.persistence.ReplicatedTenantState;
import io.sluice.persistence.RightsPool;
import io.sluice.persistence.TenantEvent;
import io.sluice.persistence.TenantEvent.LeaseGranted;
import io.sluice.persistence.TenantEvent.RightsTransferred;
import io.sluice.persistence.TenantEvent.TenantCreated;
import io.sluice.persistence.TenantEvent.UsageSettled;
import io.sluice.persistence.TenantEvent.WindowRolled;
import io.sluice.persistence.TenantLimits;
import io.sluice.persistence.UsageCounters;
import io.sluice.persistence.WindowKind;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RegionalUsageTest {
  private static final Instant T = Instant.parse("2026-03-01T12:00:30Z");
  private static final long MINUTE = Windows.id(WindowKind.MINUTE, T);
  private static final long DAY = Windows.id(WindowKind.DAY, T);
  private static final List<String> REGIONS = List.of("r1", "r2");

  private static RegionSettings settings(String self) {
    return new RegionSettings(self, REGIONS, Map.of(), Map.of(), Duration.ofSeconds(1), 0.25, 0.5);
  }

  /** What one region's node writes: rolls into the current minute and day, a settlement of {@code requests}. */
  private static List<TenantEvent> traffic(String node, long requests) {
    return List.of(new WindowRolled(WindowKind.MINUTE, MINUTE, T), new WindowRolled(WindowKind.DAY, DAY, T),
        new LeaseGranted(node, 1, Map.of(Quantity.REQUESTS_PER_MINUTE, requests), Map.of(WindowKind.MINUTE, MINUTE),
            1, T.plusSeconds(30), T),
        new UsageSettled(node, 1, Map.of(WindowKind.MINUTE, MINUTE, WindowKind.DAY, DAY),
            Map.of(WindowKind.MINUTE, new UsageCounters(requests, 10 * requests, 5 * requests, 0),
                WindowKind.DAY, new UsageCounters(requests, 10 * requests, 5 * requests, 0)),
            Map.of(), 0, T.plusSeconds(30), T));
  }

  private static ReplicatedTenantState replicaOf(String self, long r1Requests, long r2Requests) {
    ReplicatedTenantState s = ReplicatedTenantState.EMPTY.apply(
        new TenantCreated("acme", new TenantLimits(21L, null, null, null, null, 4L), null, T), "r1", self);
    for (TenantEvent e : traffic("n1", r1Requests)) {
      s = s.apply(e, "r1", self);
    }
    for (TenantEvent e : traffic("n2", r2Requests)) {
      s = s.apply(e, "r2", self);
    }
    return s.apply(new RightsTransferred(RightsPool.REQUESTS_PER_MINUTE, MINUTE, "r1", "r2", 3, 3, 1, T), "r1", self);
  }

  @Test
  void of_twoRegions_partsSumToTheTotalAndEachHasItsRights() {
    RegionalUsage.View v = RegionalUsage.of(replicaOf("r1", 7, 4), settings("r1"), T);
    assertEquals("r1", v.self());
    assertEquals(List.of("r1", "r2"), v.parts().stream().map(RegionalUsage.Part::region).toList());
    assertEquals(7, v.parts().get(0).used().get(WindowKind.MINUTE).requests());
    assertEquals(4, v.parts().get(1).used().get(WindowKind.MINUTE).requests());
    assertEquals(11, v.total().get(WindowKind.MINUTE).requests());
    assertEquals(165, v.total().get(WindowKind.DAY).tokens());
    assertEquals(2, v.slots(), "one live slot per region");
    // Base shares of 21: 11 and 10; r1 gave 3 to r2.
    assertEquals(8L, v.parts().get(0).rights().get(RightsPool.REQUESTS_PER_MINUTE));
    assertEquals(13L, v.parts().get(1).rights().get(RightsPool.REQUESTS_PER_MINUTE));
    assertEquals(2L, v.parts().get(0).rights().get(RightsPool.CONCURRENCY));
    assertFalse(v.parts().get(0).rights().containsKey(RightsPool.TOKENS_PER_MINUTE), "no limit, no rights");
  }

  @Test
  void of_eitherReplicaOnceAllEventsArrived_sameView() {
    RegionalUsage.View fromR1 = RegionalUsage.of(replicaOf("r1", 7, 4), settings("r1"), T);
    RegionalUsage.View fromR2 = RegionalUsage.of(replicaOf("r2", 7, 4), settings("r2"), T);
    assertEquals(fromR1.parts(), fromR2.parts());
    assertEquals(fromR1.total(), fromR2.total());
  }

  @Test
  void of_nextMinute_minuteIsEmptyAndDayKeepsTheUsage() {
    RegionalUsage.View v = RegionalUsage.of(replicaOf("r1", 7, 4), settings("r1"), T.plusSeconds(60));
    assertEquals(UsageCounters.ZERO, v.total().get(WindowKind.MINUTE));
    assertEquals(11, v.total().get(WindowKind.DAY).requests());
    assertEquals(11L, v.parts().get(0).rights().get(RightsPool.REQUESTS_PER_MINUTE), "the transfer was for the minute before");
  }
}
