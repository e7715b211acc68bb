package io.sluice.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import com.typesafe.config.Config;
import io.sluice.node.tenant.RegionSettings;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RegionsProfileTest {
  @TempDir Path dir;

  private Config load(String hocon) throws IOException {
    Path f = dir.resolve("node.conf");
    Files.writeString(f, hocon);
    return ConfigLoader.load(f, Map.of());
  }

  @Test
  void load_multiRegionProfile_readsLocallyAndFollowsOtherRegionsThroughTheCassandraQuery() throws IOException {
    Config c = load("""
        include classpath("multi-region/cassandra.conf")
        sluice.persistence.create-embedded-schema = off
        sluice.regions { self = r2, all = "r1,r2" }
        """);
    assertEquals("pekko.persistence.cassandra.journal", c.getString("pekko.persistence.journal.plugin"));
    assertEquals("LOCAL_QUORUM", c.getString(
        "datastax-java-driver.profiles.pekko-persistence-cassandra-profile.basic.request.consistency"));
    assertEquals(Duration.ofSeconds(2), c.getDuration("pekko.persistence.cassandra.query.refresh-interval"));
    assertEquals("pekko.persistence.cassandra.query", c.getString("sluice.regions.query-plugin"));
    RegionSettings regions = RegionSettings.from(c);
    assertEquals(List.of("r1", "r2"), regions.regions());
    assertEquals("r2", regions.self());
  }

  @Test
  void load_noRegionProfile_isSingleRegionOnTheEmbeddedJournal() throws IOException {
    Config c = load("sluice.http.port = 8080");
    assertEquals("jdbc-journal", c.getString("pekko.persistence.journal.plugin"));
    assertFalse(RegionSettings.from(c).multiRegion());
  }
}
