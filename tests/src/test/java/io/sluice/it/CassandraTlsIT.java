package io.sluice.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The journal over TLS: a Cassandra whose CQL port speaks TLS only (ops/cassandra with
 * CASSANDRA_CLIENT_TLS_KEYSTORE, a keystore made for this run), a node with
 * multi-node/cassandra-tls.conf and the CA's truststore that becomes ready and serves a tenant,
 * and a node whose truststore holds another CA that stays live but never ready.
 */
class CassandraTlsIT {
  private static final String CONFIG = """
      include classpath("multi-node/cassandra.conf")
      include classpath("multi-node/cassandra-tls.conf")
      sluice.persistence.create-embedded-schema = off
      """;
  private static Path dir;
  private static CassandraProcess cassandra;
  private static MockUpstream mock;
  private static final List<SluiceNode> nodes = new java.util.ArrayList<>();

  @BeforeAll
  static void start() {
    dir = Repo.scratch("cassandra-tls-certs");
    TestPki.Ca ca = TestPki.Ca.create("sluice-cassandra-ca");
    ca.localServer("cassandra").writePkcs12(dir.resolve("cassandra.p12"));
    ca.writeTruststore(dir.resolve("truststore.p12"));
    TestPki.Ca.create("some-other-ca").writeTruststore(dir.resolve("wrong-truststore.p12"));
    cassandra = CassandraProcess.startOwn("cassandra-tls", "sluice_tls_" + ProcessHandle.current().pid(), Map.of(
        "CASSANDRA_CLIENT_TLS_KEYSTORE", dir.resolve("cassandra.p12").toString(),
        "CASSANDRA_CLIENT_TLS_TRUSTSTORE", dir.resolve("truststore.p12").toString(),
        "CASSANDRA_CLIENT_TLS_PASSWORD", TestPki.PASSWORD));
    mock = MockUpstream.start("cassandra-tls");
  }

  @AfterAll
  static void stop() {
    nodes.forEach(SluiceNode::close);
    if (mock != null) mock.close();
    if (cassandra != null) cassandra.close();
  }

  private static Map<String, String> env(String truststore) {
    Map<String, String> env = new HashMap<>(cassandra.nodeEnv());
    env.put("SLUICE_CASSANDRA_TLS_TRUSTSTORE", dir.resolve(truststore).toString());
    env.put("SLUICE_CASSANDRA_TLS_TRUSTSTORE_PASSWORD", TestPki.PASSWORD);
    return env;
  }

  @Test
  void nodeWithTheCasTruststore_becomesReady_andServes() {
    SluiceNode node = SluiceNode.start("cassandra-tls-ok", Fixtures.models(mock) + CONFIG, env("truststore.p12"));
    nodes.add(node);
    // Creating the tenant and its key writes events to the journal, so this passes over TLS only.
    String id = Fixtures.tenant("cql-tls");
    String key = Api.tenantWithKey(node, id, "\"limits\":{\"requests_per_minute\":100}");
    HttpResponse<String> r = Api.chat(node, key, Api.chatBody("gpt-4o-mini", null));
    assertEquals(200, r.statusCode(), r.body());
    assertEquals(200, Api.admin(node, "GET", "/admin/v1/tenants/" + id + "/usage", null).statusCode());
  }

  @Test
  void nodeWithAWrongTruststore_staysLiveButNotReady() {
    SluiceNode node = SluiceNode.startLive("cassandra-tls-wrong", Fixtures.models(mock) + CONFIG,
        env("wrong-truststore.p12"));
    nodes.add(node);
    await("not ready with an untrusted Cassandra").during(Duration.ofSeconds(10)).atMost(Duration.ofSeconds(20))
        .pollInterval(Duration.ofMillis(500))
        .until(() -> Api.status("GET", node.url("/health/ready")) == 503
            && Api.status("GET", node.url("/health/live")) == 200);
  }
}
