package io.sluice.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Artery over mutually authenticated TLS (SLUICE_PROFILE=multi-node/cluster-tls.conf): two nodes
 * with certificates of the cluster's CA form a cluster on 127.0.0.1 and serve a tenant across
 * it, and a third node whose certificate another CA issued (though it trusts the cluster's CA)
 * never becomes a member.
 */
class ClusterTlsIT {
  private static SluiceCluster cluster;

  @BeforeAll
  static void start() {
    Path dir = Repo.scratch("cluster-tls");
    TestPki.Ca ca = TestPki.Ca.create("sluice-cluster-ca");
    TestPki.Ca rogue = TestPki.Ca.create("rogue-ca");
    ca.writePem(dir.resolve("ca.crt"));
    Map<Integer, Map<String, String>> env = new HashMap<>();
    for (int i = 1; i <= 3; i++) {
      // Same subject names for all three: only the issuer tells the outsider apart.
      TestPki.Issued cert = (i == 3 ? rogue : ca).issue("sluice-node", List.of("sluice-cluster"), List.of());
      cert.writePem(dir, "node" + i);
      env.put(i, Map.of(
          "SLUICE_PROFILE", "multi-node/cluster-tls.conf",
          "SLUICE_ARTERY_TLS_CERT", dir.resolve("node" + i + ".crt").toString(),
          "SLUICE_ARTERY_TLS_KEY", dir.resolve("node" + i + ".key").toString(),
          "SLUICE_ARTERY_TLS_CA", dir.resolve("ca.crt").toString()));
    }
    cluster = SluiceCluster.start(3, env::get, 2);
  }

  @AfterAll
  static void stop() {
    if (cluster != null) cluster.close();
  }

  @Test
  void twoTrustedNodes_formClusterOverTls_andServeAcrossIt() {
    SluiceCluster.Node one = cluster.node(1);
    SluiceCluster.Node two = cluster.node(2);
    assertEquals(java.util.Set.of(one.address(), two.address()), SluiceCluster.upMembers(SluiceCluster.view(one)));
    // A tenant created through node 1 answers through node 2: its entity is reached over TLS.
    SluiceCluster.HostedTenant t = cluster.createTenant(one, "tls", null, n -> n.index == 1 || n.index == 2);
    SluiceCluster.Node other = t.host() == one ? two : one;
    assertEquals(200, Api.chat(other, t.key(), Api.chatBody("gpt-4o-mini", null)).statusCode());
  }

  @Test
  void nodeWithUntrustedCertificate_neverJoins() {
    SluiceCluster.Node outsider = cluster.node(3);
    await("outsider stays out").during(Duration.ofSeconds(15)).atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(500)).ignoreExceptions()
        .until(() -> !SluiceCluster.members(SluiceCluster.view(cluster.node(1))).contains(outsider.address())
            && !SluiceCluster.members(SluiceCluster.view(cluster.node(2))).contains(outsider.address()));
    assertFalse(outsider.ready(), "a node outside the cluster must not be ready");
  }
}
