package io.sluice.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import com.typesafe.config.Config;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {
  private static final String CASSANDRA_PROFILE = """
      include classpath("multi-node/cassandra.conf")
      sluice.persistence.create-embedded-schema = off
      """;

  @TempDir Path dir;

  @Test
  void load_noConfigFile_selectsEmbeddedJournal() {
    Config config = ConfigLoader.load(null, Map.of());

    assertEquals("jdbc-journal", config.getString("pekko.persistence.journal.plugin"));
    assertEquals("jdbc-snapshot-store", config.getString("pekko.persistence.snapshot-store.plugin"));
  }

  @Test
  void load_cassandraProfile_selectsCassandraPlugins() throws IOException {
    Config config = ConfigLoader.load(file(CASSANDRA_PROFILE), Map.of());

    assertEquals("pekko.persistence.cassandra.journal", config.getString("pekko.persistence.journal.plugin"));
    assertEquals("pekko.persistence.cassandra.snapshot", config.getString("pekko.persistence.snapshot-store.plugin"));
    assertFalse(config.getBoolean("sluice.persistence.create-embedded-schema"));
  }

  @Test
  void load_cassandraProfile_neverCreatesSchemaAndDisablesTags() throws IOException {
    Config c = ConfigLoader.load(file(CASSANDRA_PROFILE), Map.of()).getConfig("pekko.persistence.cassandra");

    for (String plugin : List.of("journal", "snapshot")) {
      assertFalse(c.getBoolean(plugin + ".keyspace-autocreate"), plugin);
      assertFalse(c.getBoolean(plugin + ".tables-autocreate"), plugin);
      assertEquals(Duration.ofSeconds(5), c.getDuration(plugin + ".circuit-breaker.reset-timeout"), plugin);
    }
    assertFalse(c.getBoolean("events-by-tag.enabled"));
  }

  @Test
  void load_cassandraProfile_snapshotsShareJournalKeyspace() throws IOException {
    Config c = ConfigLoader.load(file(CASSANDRA_PROFILE), Map.of()).getConfig("pekko.persistence.cassandra");

    String expected = System.getenv().getOrDefault("SLUICE_CASSANDRA_KEYSPACE", "sluice");
    assertEquals(expected, c.getString("journal.keyspace"));
    assertEquals(expected, c.getString("snapshot.keyspace"));
  }

  @Test
  void load_cassandraProfileWithoutEnv_connectsToLocalCassandra() throws IOException {
    Config driver = ConfigLoader.load(file(CASSANDRA_PROFILE), Map.of()).getConfig("datastax-java-driver");

    assertEquals(List.of("127.0.0.1:9042"), driver.getStringList("basic.contact-points"));
    assertEquals("datacenter1", driver.getString("basic.load-balancing-policy.local-datacenter"));
    assertEquals(true, driver.getBoolean("advanced.reconnect-on-init"));
  }

  @Test
  void load_contactPointsEnv_replacesContactPointList() throws IOException {
    Config driver = ConfigLoader.load(file(CASSANDRA_PROFILE),
        Map.of("SLUICE_CASSANDRA_CONTACT_POINTS", " 10.0.0.1:9042, 10.0.0.2:9043 ,"))
        .getConfig("datastax-java-driver");

    assertEquals(List.of("10.0.0.1:9042", "10.0.0.2:9043"), driver.getStringList("basic.contact-points"));
  }

  private Path file(String hocon) throws IOException {
    Path f = dir.resolve("node.conf");
    Files.writeString(f, hocon);
    return f;
  }
}
