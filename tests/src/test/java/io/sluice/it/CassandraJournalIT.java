package io.sluice.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The node on the Cassandra journal: a local Cassandra from {@code ops/cassandra}, a keyspace of
 * this run made by {@code ops/cassandra schema}, and a node whose config file includes the
 * multi-node/cassandra.conf profile. State written through the node survives its restart.
 */
class CassandraJournalIT {
  private static final String CASSANDRA_CONFIG = """
      include classpath("multi-node/cassandra.conf")
      sluice.persistence.create-embedded-schema = off
      """;

  private static CassandraProcess cassandra;
  private static SluiceNode node;

  @BeforeAll
  static void start() {
    cassandra = CassandraProcess.startWithKeyspace("sluice_it_" + ProcessHandle.current().pid());
    node = SluiceNode.start("cassandra", CASSANDRA_CONFIG, cassandra.nodeEnv());
  }

  @AfterAll
  static void stop() {
    try {
      if (node != null) node.close();
    } finally {
      if (cassandra != null) cassandra.close();
    }
  }

  @Test
  void restart_tenantOnCassandraJournal_survives() {
    HttpResponse<String> created = Api.admin(node, "POST", "/admin/v1/tenants", "{\"id\":\"acme\"}");
    assertEquals(201, created.statusCode(), created.body());

    node.restart();

    HttpResponse<String> got = Api.admin(node, "GET", "/admin/v1/tenants/acme", null);
    assertEquals(200, got.statusCode(), got.body());
    JsonNode tenant = Api.json(got.body());
    assertEquals("acme", tenant.get("id").asText());
    assertTrue(tenant.get("enabled").asBoolean());
    assertEquals(409, Api.admin(node, "POST", "/admin/v1/tenants", "{\"id\":\"acme\"}").statusCode());
  }

  @Test
  void listTenants_cassandraJournal_listsFromItsPersistenceIds() {
    String id = "listed-" + ProcessHandle.current().pid();
    assertEquals(201, Api.admin(node, "POST", "/admin/v1/tenants", "{\"id\":\"" + id + "\"}").statusCode());
    HttpResponse<String> list = Api.admin(node, "GET", "/admin/v1/tenants?search=" + id, null);
    assertEquals(200, list.statusCode(), list.body());
    JsonNode page = Api.json(list.body());
    assertEquals(1, page.get("total").asInt(), list.body());
    assertEquals(id, page.at("/data/0/id").asText());
  }

  @Test
  void start_cassandraProfile_createsNoEmbeddedDatabase() {
    Api.admin(node, "POST", "/admin/v1/tenants", "{\"id\":\"not-in-h2\"}");

    assertFalse(containsH2Files(), "the embedded H2 journal was written in " + node.dataDir());
  }

  private static boolean containsH2Files() {
    if (!Files.exists(node.dataDir())) {
      return false;
    }
    try (Stream<java.nio.file.Path> files = Files.walk(node.dataDir())) {
      return files.anyMatch(p -> p.getFileName().toString().endsWith(".mv.db"));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
