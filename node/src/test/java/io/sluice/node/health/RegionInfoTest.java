package io.sluice.node.health;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.sluice.node.api.AdminJson;
import io.sluice.node.tenant.RegionSettings;
import io.sluice.node.tenant.ReplicationLag;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RegionInfoTest {
  private static final Instant T = Instant.parse("2026-03-01T12:00:30Z");

  private static RegionSettings regions(String self, String... all) {
    return new RegionSettings(self, List.of(all), Map.of(), Map.of(), Duration.ofSeconds(1), 0.25, 0.5);
  }

  @Test
  void view_singleRegion_isEmpty() throws Exception {
    RegionInfo info = new RegionInfo(RegionSettings.SINGLE, new ReplicationLag());
    assertEquals(new RegionInfo.View(List.of(), null, false, List.of()), info.view());
    assertEquals("{\"regions\":[],\"region\":null,\"multi_region\":false,\"replicas\":[]}",
        AdminJson.MAPPER.writeValueAsString(info.view()));
  }

  @Test
  void view_threeRegions_listsEachRemoteReplicaWithItsLastLag() throws Exception {
    ReplicationLag lag = new ReplicationLag();
    lag.observe("r3", T.minusMillis(2_400), T);
    lag.observe("r1", T.plusSeconds(1), T); // the origin's clock is ahead: no negative lag
    RegionInfo.View v = new RegionInfo(regions("r2", "r1", "r2", "r3"), lag).view();
    assertEquals(List.of("r1", "r2", "r3"), v.regions());
    assertEquals("r2", v.region());
    assertEquals(List.of(new RegionInfo.Replica("r1", 0L, T), new RegionInfo.Replica("r3", 2_400L, T)), v.replicas());
  }

  @Test
  void view_remoteReplicaNeverHeardFrom_hasNoLag() throws Exception {
    RegionInfo.View v = new RegionInfo(regions("r1", "r1", "r2"), new ReplicationLag()).view();
    assertEquals(List.of(new RegionInfo.Replica("r2", null, null)), v.replicas());
    String json = AdminJson.MAPPER.writeValueAsString(v);
    assertEquals("{\"regions\":[\"r1\",\"r2\"],\"region\":\"r1\",\"multi_region\":true,"
        + "\"replicas\":[{\"region\":\"r2\",\"lag_ms\":null,\"observed_at\":null}]}", json);
  }
}
