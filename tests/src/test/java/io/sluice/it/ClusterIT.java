package io.sluice.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.it.SluiceCluster.HostedTenant;
import io.sluice.it.SluiceCluster.Node;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Three node JVMs in one Pekko cluster on a real Cassandra (a keyspace of this run), one mock
 * upstream: quotas across nodes, a node killed with -9, a node leaving cleanly, Cassandra going
 * away and coming back, key revocation everywhere, and a network partition.
 *
 * <p>The tests run in an order that needs the fewest node restarts (each costs tens of seconds on
 * a small machine): every test starts with {@link SluiceCluster#ensureAllUp()}, which restarts
 * whatever an earlier test took down. Two tests wait for the right second of a minute (probing
 * the clock): the RPM burst for 25 s left in it, the kill for its last 10 s. Measurements are
 * printed with the prefix [ClusterIT]; the whole class takes about 3-4 minutes on 2 cores.
 *
 * <p>The partition test needs iptables (and the right to use it); without, it is skipped with the
 * command and its error. The Cassandra outage test needs a Cassandra this run started (it stops
 * and starts it); with a reused one it is skipped.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ClusterIT {
  /** 16 completion tokens and max_tokens 16, so a request reserves about what it uses. */
  private static final String CHAT = Api.chatBody("gpt-4o-mini", "\"max_tokens\":16,\"mock\":{\"tokens\":16}");

  private static SluiceCluster cluster;

  @BeforeAll
  static void start() {
    cluster = SluiceCluster.start(3);
  }

  @AfterAll
  static void stop() {
    if (cluster != null) cluster.close();
  }

  private static void report(String format, Object... args) {
    System.out.printf("[ClusterIT] %s " + format + "%n",
        java.util.stream.Stream.concat(java.util.stream.Stream.of(java.time.LocalTime.now(ZoneOffset.UTC)),
            java.util.stream.Stream.of(args)).toArray());
  }

  /** The lines of {@code node}'s current log that contain {@code text}, cut short, for the report. */
  private static List<String> logLines(Node node, String text) {
    try {
      return java.nio.file.Files.readAllLines(node.log()).stream().filter(l -> l.contains(text))
          .map(l -> "node" + node.index + " " + (l.length() > 160 ? l.substring(0, 160) + "..." : l)).toList();
    } catch (IOException e) {
      return List.of("node" + node.index + ": " + e);
    }
  }

  private static JsonNode usage(Node via, String tenant) {
    HttpResponse<String> r = Api.admin(via, "GET", "/admin/v1/tenants/" + tenant + "/usage", null);
    assertEquals(200, r.statusCode(), r.body());
    return Api.json(r.body());
  }

  private static long dayRequests(Node via, String tenant) {
    return usage(via, tenant).at("/windows/day/requests/used").asLong();
  }

  private static Map<String, Long> histogram(List<Load.Result> results) {
    return results.stream().collect(Collectors.groupingBy(
        r -> r.status() + (r.code() == null ? "" : " " + r.code()), TreeMap::new, Collectors.counting()));
  }

  // ---------------------------------------------------------------------------------------------
  // 1. A per-minute limit over three nodes.

  /**
   * How far below the limit admissions may end, with three live nodes each getting a third of a
   * burst twice the limit.
   *
   * <p>README: {@code L - sum over dead or idle nodes of unused_lease_n <= admitted <= L} for RPM
   * (no estimate error). No node here is dead, and none is idle: each gets every third request of
   * the whole burst, and leases come back only after idle-return (5 s) or lease-ttl (30 s), far
   * longer than the burst. A node is told "exhausted" (and then answers 429 from its 1 s
   * deny-cache) only when {@code sum max(used, granted) = L}, i.e. when every unit is leased
   * out; the units then still unspent sit on live nodes whose grants are at most
   * {@code share x available / live nodes <= 0.5 x 300 / 3 = 50}, while each node still has about
   * 100 of its 200 requests to come, so they get spent. By the formula the count is exactly 300.
   *
   * <p>The slack covers the one way the protocol may still leave quota unspent on a slow
   * machine: an acquire whose grant the entity persisted but whose answer came after the node's
   * ask timeout (5 s). The node then never spends that grant, and the entity counts it as spent:
   * a "silent node" in the formula's terms, at most one grant (50). Such a stall would also
   * show as 503s, which fail the test anyway. Measured on a 2-core machine: exactly 300 in every
   * run (307 and 308 before TenantAdmission.sync published a tenant's limits before its revision).
   */
  private static final int RPM_UNDER_ADMISSION_BOUND = 50;

  @Test
  @Order(1)
  void rpm_600RequestsRoundRobinOver3NodesAgainstLimit300_admitsAtMost300AndAtLeast300MinusBound() {
    cluster.ensureAllUp();
    String tenant = Fixtures.tenant("rpm300");
    String key = Api.tenantWithKey(cluster.node(1), tenant, "\"limits\":{\"requests_per_minute\":300}");
    // The burst must not straddle a minute: wait, by probing the clock, for >= 25 s left in it.
    await("25 s left in the current UTC minute").atMost(Duration.ofSeconds(70)).pollInterval(Duration.ofMillis(200))
        .until(() -> Instant.now().atOffset(ZoneOffset.UTC).getSecond() < 35);
    Instant minute = Instant.now().truncatedTo(ChronoUnit.MINUTES);

    Load load = Load.start(key, CHAT, seq -> cluster.nodes.get((int) (seq % 3)), 12, 0, 600, Duration.ofSeconds(20));
    load.awaitFinished(Duration.ofSeconds(60));
    List<Load.Result> results = load.results();
    assertEquals(minute, Instant.now().truncatedTo(ChronoUnit.MINUTES), "the burst straddled a minute");

    long ok = results.stream().filter(Load.Result::ok).count();
    Map<Integer, Long> okPerNode = results.stream().filter(Load.Result::ok)
        .collect(Collectors.groupingBy(Load.Result::node, TreeMap::new, Collectors.counting()));
    report("rpm: admitted %d of %d (limit 300), per node %s, answers %s, in %d ms", ok, results.size(), okPerNode,
        histogram(results), load.elapsedMs());

    assertEquals(600, results.size(), "every request of the burst was answered");
    for (Load.Result r : results) {
      if (!r.ok()) {
        assertEquals(429, r.status(), r.toString());
        assertEquals("rate_limit_exceeded", r.code(), r.toString());
      }
    }
    assertTrue(ok <= 300, "admitted " + ok + " > limit 300");
    assertTrue(ok >= 300 - RPM_UNDER_ADMISSION_BOUND, "admitted " + ok + " < 300 - " + RPM_UNDER_ADMISSION_BOUND);
    // No node died: everything admitted is settled, exactly.
    await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
        assertEquals(ok, usage(cluster.node(2), tenant).at("/windows/minute/requests/used").asLong()));
  }

  // ---------------------------------------------------------------------------------------------
  // 5. Revocation reaches every node.

  @Test
  @Order(2)
  void revokeKey_throughOneNode_rejectedOnAllThreeWithin1s() {
    cluster.ensureAllUp();
    String tenant = Fixtures.tenant("revoke");
    assertEquals(201, Api.admin(cluster.node(1), "POST", "/admin/v1/tenants", "{\"id\":\"" + tenant + "\"}")
        .statusCode());
    HttpResponse<String> issued = Api.admin(cluster.node(1), "POST", "/admin/v1/tenants/" + tenant + "/keys", null);
    assertEquals(201, issued.statusCode(), issued.body());
    String key = Api.json(issued.body()).get("key").asText();
    String keyId = Api.json(issued.body()).get("id").asText();
    // Every node has the tenant cached and admits the key.
    for (Node n : cluster.nodes) {
      await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
          assertEquals(200, Api.chat(n, key, CHAT).statusCode(), "before revocation on " + n));
    }

    HttpResponse<String> revoked = Api.admin(cluster.node(2), "DELETE",
        "/admin/v1/tenants/" + tenant + "/keys/" + keyId, null);
    long revokedAt = System.nanoTime();
    assertEquals(200, revoked.statusCode(), revoked.body());
    await("401 on all three nodes").atMost(Duration.ofSeconds(1)).pollInterval(Duration.ofMillis(20))
        .until(() -> cluster.nodes.stream().allMatch(n -> Api.chat(n, key, CHAT).statusCode() == 401));
    report("revocation: 401 on all three nodes %d ms after the DELETE returned",
        (System.nanoTime() - revokedAt) / 1_000_000);
    for (Node n : cluster.nodes) {
      JsonNode error = ErrorsIT.assertEnvelope(Api.chat(n, key, CHAT), 401);
      assertEquals("invalid_api_key", error.get("code").asText());
    }
  }

  // ---------------------------------------------------------------------------------------------
  // 4. Cassandra goes away under load, and comes back.

  @Test
  @Order(3)
  void cassandraStopped_underLoad_leasesServeThenFailClosedAndAllRecoversWithNothingLost() {
    cluster.ensureAllUp();
    assumeTrue(cluster.cassandra.startedHere(), "skipped: this run reuses a Cassandra it did not start (port "
        + cluster.cassandra.port + "), and stops only what it started");
    // Only a daily limit: a minute limit would drop every lease at the next minute, whatever the
    // store does. A request reserves and uses ~25 tokens; a node's first lease is 32 requests'
    // worth (prefetch-multiplier 32), renewed when below a quarter of that.
    String tenant = Fixtures.tenant("outage");
    String key = Api.tenantWithKey(cluster.node(1), tenant, "\"limits\":{\"tokens_per_day\":30000}");
    AtomicInteger ok = new AtomicInteger();
    for (Node n : cluster.nodes) {
      for (int i = 0; i < 5; i++) {
        HttpResponse<String> r = Api.chat(n, key, CHAT);
        assertEquals(200, r.statusCode(), r.body());
        ok.incrementAndGet();
      }
    }
    // Under load from here on: slow while Cassandra stops (a node unused for idle-return, 5 s,
    // would hand its lease back, and no node should reach its renewal mark before the outage),
    // then as fast as the clients go until every node has spent its lease and fails closed.
    Set<Integer> failedClosed = concurrentSet();
    Load load = Load.start(key, CHAT, seq -> cluster.nodes.get((int) (seq % 3)), 6, 3, 900, Duration.ofSeconds(60));
    boolean down = false;
    try {
      long stopping = load.elapsedMs();
      down = true;
      cluster.cassandra.stopServer();
      long stoppedAt = load.elapsedMs();
      report("outage: Cassandra stopped (ops/cassandra stop took %d ms)", stoppedAt - stopping);
      load.unpace();
      await("every node fails closed past its lease").atMost(Duration.ofSeconds(50))
          .pollInterval(Duration.ofMillis(200)).until(() -> {
            load.results().stream().filter(r -> r.status() == 503 && r.sentMs() >= stoppedAt)
                .forEach(r -> failedClosed.add(r.node()));
            return failedClosed.size() == 3 || load.finished();
          });
      load.stop();
      List<Load.Result> results = load.results();
      List<Load.Result> outage = results.stream().filter(r -> r.sentMs() >= stoppedAt).toList();
      Map<Integer, Long> okPerNode = outage.stream().filter(Load.Result::ok)
          .collect(Collectors.groupingBy(Load.Result::node, TreeMap::new, Collectors.counting()));
      report("outage: while Cassandra stopped %s; after it stopped %s, 200s per node %s",
          histogram(results.stream().filter(r -> r.sentMs() < stoppedAt).toList()), histogram(outage), okPerNode);
      for (Load.Result r : results) {
        if (!r.ok()) {
          assertTrue(r.sentMs() >= stopping, "failed before Cassandra was stopped: " + r);
          assertEquals(503, r.status(), "past the leases a request fails closed: " + r);
          assertEquals("quota_store_unavailable", r.code(), r.toString());
        }
      }
      assertEquals(Set.of(1, 2, 3), okPerNode.keySet(), "each node kept serving from its lease");
      assertEquals(Set.of(1, 2, 3), failedClosed, "each node failed closed past its lease");
      ok.addAndGet((int) results.stream().filter(Load.Result::ok).count());
    } finally {
      load.close();
      if (down) {
        restartCassandra();
      }
    }
    long returnedAt = cassandraBackAt;
    Map<Integer, Long> serving = new java.util.concurrent.ConcurrentSkipListMap<>();
    Map<Integer, Long> readyAgain = new java.util.concurrent.ConcurrentSkipListMap<>();
    await("every node serves again").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(250))
        .until(() -> {
          for (Node n : cluster.nodes) {
            if (!serving.containsKey(n.index)) {
              HttpResponse<String> r = Api.chat(n, key, CHAT);
              if (r.statusCode() == 200) {
                ok.incrementAndGet();
                serving.put(n.index, (System.nanoTime() - returnedAt) / 1_000_000);
              } else {
                assertEquals(503, r.statusCode(), "while recovering: " + r.body());
              }
            }
            if (!readyAgain.containsKey(n.index) && n.ready()) {
              readyAgain.put(n.index, (System.nanoTime() - returnedAt) / 1_000_000);
            }
          }
          return serving.size() == 3 && readyAgain.size() == 3;
        });
    report("outage: after Cassandra was back, each node served again after %s ms and was ready after %s ms",
        serving, readyAgain);
    // Nothing accepted is lost: every 200 is in the settled usage, once and only once.
    long[] used = {-1};
    await("settled usage = the 200s delivered").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(250))
        .ignoreExceptions().untilAsserted(() -> {
          used[0] = dayRequests(cluster.node(2), tenant);
          assertEquals(ok.get(), used[0]);
        });
    report("outage: settled day requests %d = 200s delivered %d", used[0], ok.get());
  }

  private static long cassandraBackAt;

  private static void restartCassandra() {
    long starting = System.nanoTime();
    cluster.cassandra.startServer();
    cassandraBackAt = System.nanoTime();
    report("outage: Cassandra back (CQL answering); ops/cassandra start took %d ms",
        (cassandraBackAt - starting) / 1_000_000);
  }

  private static Set<Integer> concurrentSet() {
    return java.util.concurrent.ConcurrentHashMap.newKeySet();
  }

  // ---------------------------------------------------------------------------------------------
  // 3. A clean leave under load.

  @Test
  @Order(4)
  void sigterm_nonSeedNodeUnderLoad_noClientRequestFails() {
    cluster.ensureAllUp();
    Node leaving = cluster.node(3);
    // The tenant's entity lives on the leaving node, so its hand-off is part of the test.
    HostedTenant t = cluster.createTenant(cluster.node(1), "leave", "\"limits\":{\"requests_per_minute\":100000}",
        n -> n == leaving);
    // A load balancer: round robin over the nodes whose /health/ready answered 200 last time.
    Map<Integer, AtomicBoolean> ready = new TreeMap<>();
    cluster.nodes.forEach(n -> ready.put(n.index, new AtomicBoolean(true)));
    AtomicReference<Long> unreadyAt = new AtomicReference<>();
    ScheduledExecutorService probe = Executors.newSingleThreadScheduledExecutor();
    String slow = Api.chatBody("gpt-4o-mini", "\"max_tokens\":16,\"mock\":{\"tokens\":16,\"latency_ms\":150}");
    Load[] holder = new Load[1];
    try {
      probe.scheduleWithFixedDelay(() -> cluster.nodes.forEach(n -> {
        boolean r = n.alive() && Api.status("GET", n.url("/health/ready")) == 200;
        if (!r && ready.get(n.index).getAndSet(false) && holder[0] != null) {
          unreadyAt.compareAndSet(null, holder[0].elapsedMs());
        }
      }), 0, 100, TimeUnit.MILLISECONDS);
      Load load = Load.start(t.key(), slow, seq -> {
        List<Node> up = cluster.nodes.stream().filter(n -> ready.get(n.index).get()).toList();
        return up.isEmpty() ? null : up.get((int) (seq % up.size()));
      }, 8, 0, 5000, Duration.ofSeconds(60));
      holder[0] = load;
      await().atMost(Duration.ofSeconds(20)).until(() -> load.count(r -> r.node() == 3) >= 20);

      leaving.process().terminate();
      long sigtermAt = load.elapsedMs();
      assertTrue(leaving.process().awaitExit(Duration.ofSeconds(60)), "node 3 did not exit within 60 s of SIGTERM");
      long exitedAt = load.elapsedMs();
      await().atMost(Duration.ofSeconds(10)).until(() -> load.elapsedMs() >= exitedAt + 2000);
      load.stop();

      List<Load.Result> results = load.results();
      List<Load.Result> failed = results.stream().filter(r -> !r.ok()).toList();
      long toLeaving = results.stream().filter(r -> r.node() == 3 && r.sentMs() >= sigtermAt).count();
      long inFlight = results.stream().filter(r -> r.node() == 3 && r.sentMs() < sigtermAt && r.doneMs() >= sigtermAt)
          .count();
      long lastToLeaving = results.stream().filter(r -> r.node() == 3).mapToLong(Load.Result::sentMs).max().orElse(-1);
      report("leave: %d requests, %s; node 3 not ready %s ms after SIGTERM, exited after %d ms (exit code %d); "
              + "%d requests in flight at node 3 at SIGTERM and %d sent to it after SIGTERM (the last %d ms after it)",
          results.size(), histogram(results),
          unreadyAt.get() == null ? "?" : String.valueOf(unreadyAt.get() - sigtermAt), exitedAt - sigtermAt,
          leaving.process().exitCode(), inFlight, toLeaving, lastToLeaving - sigtermAt);
      assertEquals(List.of(), failed, "no client request may fail during a clean leave");
      assertTrue(results.stream().anyMatch(r -> r.sentMs() > exitedAt), "the load went on after node 3 left");
    } finally {
      probe.shutdownNow();
      if (holder[0] != null) holder[0].close();
    }
    // It left: the two others see each other as the whole cluster, and host the tenant now.
    cluster.awaitMembersUp(List.of(cluster.node(1), cluster.node(2)), Duration.ofSeconds(30));
    assertFalse(cluster.entities(cluster.node(1)).containsKey(3));
    assertEquals(200, Api.chat(cluster.node(1), t.key(), CHAT).statusCode());
  }

  // ---------------------------------------------------------------------------------------------
  // 2. kill -9 of the node that hosts the tenant's entity.

  /**
   * How long after a kill -9 the survivors may fail requests that need the tenant's entity. The
   * entity runs again once the dead node is detected (heartbeat 1 s, acceptable pause 2 s: about
   * 3 s), the Split Brain Resolver's stable-after (3 s) has passed, and the leader removed it
   * and down-removal-margin (stable-after again, 3 s) passed: about 9-10 s. A survivor whose
   * acquire went to the dead node just before waits out its ask timeout (5 s) and then answers
   * from its deny-cache (1 s) before it asks the new home: up to about 16 s. 25 s leaves room for a
   * slow machine. Measured on a loaded 2-core machine: the SBR decided 6.9 s after the kill and no
   * survivor request failed (the minute rolling 10 s after it; the first 200 of the new minute
   * 12.9 s after it); with the previous pause 3 s and stable-after 5 s the SBR decided 10.2 s after
   * the kill and the survivors answered 96 503s, sent from 10.0 to 16.0 s after it.
   */
  private static final long FAILOVER_MS = 25_000;

  /** The members that {@code view} lists as unreachable. */
  private static Set<String> unreachable(JsonNode view) {
    Set<String> out = new HashSet<>();
    view.get("members").forEach(m -> {
      if (!m.get("reachable").asBoolean()) {
        out.add(m.get("address").asText());
      }
    });
    return out;
  }

  @Test
  @Order(5)
  void kill9_entityHostMidLoad_survivorsServeAgainWithin25sAndUsageKeepsEvery200() {
    cluster.ensureAllUp();
    HostedTenant t = cluster.createTenant(cluster.node(1), "kill",
        "\"limits\":{\"requests_per_minute\":1000000,\"tokens_per_day\":1000000000}", n -> true);
    Node victim = t.host();
    report("kill: tenant %s lives on %s", t.id(), victim);
    // Kill at second 50-52 of a minute: the minute then rolls 8-10 s later, while the entity may
    // still be down (failure detection, stable-after 3 s and down-removal-margin 3 s take ~9 s or
    // more), so the survivors' per-minute leases end and they must get new ones from the entity
    // once it has recovered on a survivor. Before the roll they serve from the leases they hold.
    await("second 41-47 of a minute").atMost(Duration.ofSeconds(70)).pollInterval(Duration.ofMillis(200))
        .until(() -> {
          int second = Instant.now().atOffset(ZoneOffset.UTC).getSecond();
          return second >= 41 && second <= 47;
        });
    AtomicReference<Node> dead = new AtomicReference<>();
    Load load = Load.start(t.key(), CHAT, seq -> {
      List<Node> live = cluster.nodes.stream().filter(n -> n != dead.get()).toList();
      return live.get((int) (seq % live.size()));
    }, 8, 80, 6000, Duration.ofSeconds(60));
    List<Load.Result> results;
    long killAt;
    long rollAt;
    JsonNode unreachableView;
    try {
      await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50)).until(() ->
          load.count(Load.Result::ok) >= 150 && Instant.now().atOffset(ZoneOffset.UTC).getSecond() >= 50);
      // Like a load balancer's health check, the client stops picking the victim as it dies;
      // requests already sent to it fail.
      Instant now = Instant.now();
      rollAt = load.elapsedMs() + Duration.between(now, now.truncatedTo(ChronoUnit.MINUTES).plusSeconds(60)).toMillis();
      killAt = load.elapsedMs();
      dead.set(victim);
      victim.process().kill();
      // While the victim is unreachable and not yet downed, a survivor's GET /admin/v1/cluster still
      // shows what the survivors host and names the victim's region as not answering (Pekko's
      // cluster-wide statistics would wait out the ask timeout and then show no region at all).
      Node survivor = cluster.nodes.stream().filter(n -> n != victim).findFirst().orElseThrow();
      unreachableView = await("the victim unreachable in the view of " + survivor).atMost(Duration.ofSeconds(15))
          .pollInterval(Duration.ofMillis(200)).ignoreExceptions()
          .until(() -> SluiceCluster.view(survivor), v -> unreachable(v).contains(victim.address()));
      await().atMost(Duration.ofSeconds(45)).until(() -> load.elapsedMs() >= killAt + 30_000 || load.finished());
      load.stop();
      results = load.results();
    } finally {
      load.close();
    }

    List<Load.Result> before = results.stream().filter(r -> r.doneMs() < killAt).toList();
    List<Load.Result> survivorsAfter = results.stream().filter(r -> r.node() != victim.index && r.sentMs() >= killAt)
        .toList();
    List<Load.Result> survivorFailures = survivorsAfter.stream().filter(r -> !r.ok()).toList();
    long firstOkAfter = survivorsAfter.stream().filter(Load.Result::ok).mapToLong(Load.Result::doneMs).min().orElse(-1);
    long firstFailure = survivorFailures.stream().mapToLong(Load.Result::sentMs).min().orElse(-1);
    long lastFailure = survivorFailures.stream().mapToLong(Load.Result::sentMs).max().orElse(killAt);
    long firstOkNewMinute = survivorsAfter.stream().filter(r -> r.ok() && r.sentMs() > rollAt + 500)
        .mapToLong(Load.Result::doneMs).min().orElse(-1);
    report("kill: before the kill %s; on the survivors after it %s; first 200 %d ms after the kill; the minute rolled "
            + "%d ms after it; survivor failures sent from %d to %d ms after it; first 200 of the new minute %d ms "
            + "after it; to the victim after the kill %s", histogram(before), histogram(survivorsAfter),
        firstOkAfter - killAt, rollAt - killAt, firstFailure - killAt, lastFailure - killAt, firstOkNewMinute - killAt,
        histogram(results.stream().filter(r -> r.node() == victim.index && r.doneMs() >= killAt).toList()));
    cluster.nodes.stream().filter(n -> n != victim).forEach(n -> logLines(n, "SBR took decision").forEach(l ->
        report("kill: %s", l)));

    Set<String> regionsNotAnswering = new HashSet<>();
    unreachableView.get("regions_not_answering").forEach(a -> regionsNotAnswering.add(a.asText()));
    Set<String> hosting = new HashSet<>();
    unreachableView.get("shards").fieldNames().forEachRemaining(hosting::add);
    assertEquals(Set.of(victim.address()), regionsNotAnswering, "regions not answering: " + unreachableView);
    assertEquals(cluster.nodes.stream().filter(n -> n != victim).map(Node::address).collect(Collectors.toSet()),
        hosting, "the survivors' shards while the victim is unreachable: " + unreachableView);
    assertTrue(before.stream().allMatch(Load.Result::ok), "before the kill: " + histogram(before));
    for (Load.Result r : survivorFailures) {
      assertTrue(r.sentMs() <= killAt + FAILOVER_MS, "a survivor failed more than " + FAILOVER_MS
          + " ms after the kill: " + r);
      assertTrue(r.status() == 503 || r.status() == -2, "only 503 or a timeout while the entity moves: " + r);
    }
    assertTrue(survivorsAfter.stream().anyMatch(r -> r.ok() && r.sentMs() > killAt + FAILOVER_MS),
        "the survivors serve again within " + FAILOVER_MS + " ms");
    assertTrue(firstOkNewMinute > 0, "no survivor served in the minute after the kill (with a fresh lease)");
    assertFalse(cluster.entities(cluster.nodes.stream().filter(n -> n != victim).findFirst().orElseThrow())
        .containsKey(victim.index), "the dead node still counts as hosting entities");

    // Settled usage. Every 200 a survivor delivered (before or after the kill) was settled by a
    // live node, which retries until the entity, recovered from Cassandra elsewhere, applies it.
    // The victim's own 200s are settled up to its last settlement (every 500 ms); its unsettled
    // tail is not in "used" but stays covered by its lease (the entity counts max(used, granted)).
    long okSurvivors = results.stream().filter(r -> r.ok() && r.node() != victim.index).count();
    long okVictim = results.stream().filter(r -> r.ok() && r.node() == victim.index).count();
    long okVictimSettledSurely = results.stream()
        .filter(r -> r.ok() && r.node() == victim.index && r.doneMs() < killAt - 3000).count();
    Node survivor = cluster.nodes.stream().filter(n -> n != victim).findFirst().orElseThrow();
    long[] used = {-1};
    await("survivors' usage settled").atMost(Duration.ofSeconds(40)).pollInterval(Duration.ofMillis(500))
        .ignoreExceptions().untilAsserted(() -> {
          used[0] = dayRequests(survivor, t.id());
          assertTrue(used[0] >= okSurvivors + okVictimSettledSurely,
              "settled " + used[0] + " < survivors' 200s " + okSurvivors + " + victim's settled 200s " + okVictimSettledSurely);
        });
    report("kill: settled day requests %d; 200s delivered: survivors %d + victim %d = %d; victim's unsettled tail %d",
        used[0], okSurvivors, okVictim, okSurvivors + okVictim, okSurvivors + okVictim - used[0]);
    assertTrue(used[0] <= okSurvivors + okVictim, "settled more than was delivered: " + used[0]);
  }

  // ---------------------------------------------------------------------------------------------
  // 6. A network partition: one node cut off from the two others.

  @Test
  @Order(6)
  void partition_oneNodeCutOff_minorityDownedAndEntityNeverOnBothSides() throws Exception {
    cluster.ensureAllUp();
    Node minority = cluster.node(3);
    Node majority = cluster.node(1);
    String chain = "SLUICE_IT_" + ProcessHandle.current().pid();
    String probe = iptables("-w", "-N", chain);
    assumeTrue(probe == null, "skipped: cannot filter packets: `iptables -w -N " + chain + "` failed: " + probe);
    ScheduledExecutorService writers = Executors.newScheduledThreadPool(2);
    try {
      HostedTenant t = cluster.createTenant(majority, "split", null, n -> n == minority);
      HostedTenant u = cluster.createTenant(majority, "majority-side", null, n -> n != minority);
      for (Node n : cluster.nodes) {
        assertEquals(200, Api.chat(n, t.key(), CHAT).statusCode());
      }
      for (String rule : List.of("-s", "-d")) {
        assertEquals(null, iptables("-w", "-A", chain, rule, minority.clusterHost, "-j", "DROP"));
      }
      assertEquals(null, iptables("-w", "-I", "INPUT", "-i", "lo", "-j", chain));
      long p0 = System.nanoTime();
      report("partition: %s cut off from the others (its remoting address %s); tenant %s lives on it",
          minority, minority.clusterHost, t.id());

      // Both sides keep trying to write the tenant (issue keys), recording every acknowledged write.
      ConcurrentLinkedQueue<long[]> minorityAcks = new ConcurrentLinkedQueue<>();
      ConcurrentLinkedQueue<long[]> majorityAcks = new ConcurrentLinkedQueue<>();
      Set<String> acknowledged = java.util.concurrent.ConcurrentHashMap.newKeySet();
      AtomicInteger minorityTries = new AtomicInteger();
      AtomicInteger majorityTries = new AtomicInteger();
      writers.scheduleWithFixedDelay(() -> issueKey(minority, t.id(), p0, minorityAcks, acknowledged, minorityTries),
          0, 300, TimeUnit.MILLISECONDS);
      writers.scheduleWithFixedDelay(() -> issueKey(majority, t.id(), p0, majorityAcks, acknowledged, majorityTries),
          0, 300, TimeUnit.MILLISECONDS);

      // The minority cannot reach the entity of a tenant on the majority side.
      HttpResponse<String> patch = Api.admin(minority, "PATCH", "/admin/v1/tenants/" + u.id(),
          "{\"limits\":{\"requests_per_minute\":7}}");
      report("partition: PATCH of %s (entity on the majority) through the minority: %d %s", u.id(),
          patch.statusCode(), patch.body());
      assertNotEquals(200, patch.statusCode(), "the minority wrote a tenant whose entity is on the majority side");

      await("the majority downs the minority").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(250))
          .ignoreExceptions().until(() -> !SluiceCluster.upMembers(SluiceCluster.view(majority)).contains(minority.address()));
      long downedMs = (System.nanoTime() - p0) / 1_000_000;
      await("the minority goes unready").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(250))
          .until(() -> !minority.ready());
      long unreadyMs = (System.nanoTime() - p0) / 1_000_000;
      await("the majority writes the tenant").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(250))
          .until(() -> !majorityAcks.isEmpty());
      long takeoverMs = majorityAcks.peek()[0];
      boolean exited = minority.process().awaitExit(Duration.ofSeconds(60));
      long exitedMs = (System.nanoTime() - p0) / 1_000_000;
      writers.shutdownNow();
      writers.awaitTermination(15, TimeUnit.SECONDS);

      JsonNode view = SluiceCluster.view(majority);
      long lastMinorityAck = minorityAcks.stream().mapToLong(a -> a[0]).max().orElse(-1);
      report("partition: minority not Up in the majority's view after %d ms, unready after %d ms, %s after %d ms; "
              + "the majority's first write of the tenant after %d ms; the minority's writes: %d acknowledged of %d, the "
              + "last after %d ms; the majority's: %d of %d; members now %s", downedMs, unreadyMs,
          exited ? "exited (code " + minority.process().exitCode() + ")" : "still running", exitedMs, takeoverMs,
          minorityAcks.size(), minorityTries.get(), lastMinorityAck, majorityAcks.size(), majorityTries.get(),
          SluiceCluster.members(view));

      cluster.nodes.forEach(n -> logLines(n, "SBR took decision").forEach(l -> report("partition: %s", l)));
      assertTrue(exited || !minority.ready(), "the minority neither exited nor went unready");
      assertFalse(SluiceCluster.members(view).contains(minority.address())
              && SluiceCluster.upMembers(view).contains(minority.address()), "the majority still lists the minority as up");
      assertFalse(view.get("shards").has(minority.address()), "the majority still counts shards on the minority");
      // One writer at a time: every write the minority acknowledged came before the first one the
      // majority acknowledged, and the majority's entity holds them all.
      assertTrue(lastMinorityAck < takeoverMs, "the minority acknowledged a write (at " + lastMinorityAck
          + " ms) after the majority's entity took over (at " + takeoverMs + " ms)");
      HttpResponse<String> keys = Api.admin(majority, "GET", "/admin/v1/tenants/" + t.id() + "/keys", null);
      assertEquals(200, keys.statusCode(), keys.body());
      Set<String> listed = new HashSet<>();
      Api.json(keys.body()).get("data").forEach(k -> listed.add(k.get("id").asText()));
      Set<String> lost = new HashSet<>(acknowledged);
      lost.removeAll(listed);
      assertEquals(Set.of(), lost, "acknowledged writes missing from the majority's entity");
      assertEquals(200, Api.chat(cluster.node(2), t.key(), CHAT).statusCode());
    } finally {
      writers.shutdownNow();
      String removed = iptables("-w", "-D", "INPUT", "-i", "lo", "-j", chain);
      String flushed = iptables("-w", "-F", chain);
      String deleted = iptables("-w", "-X", chain);
      if (removed != null || flushed != null || deleted != null) {
        report("partition: cleaning up iptables chain %s: %s / %s / %s", chain, removed, flushed, deleted);
      }
    }
  }

  private static void issueKey(Node via, String tenant, long p0, ConcurrentLinkedQueue<long[]> acks,
      Set<String> acknowledged, AtomicInteger tries) {
    if (!via.alive()) {
      return;
    }
    tries.incrementAndGet();
    try {
      HttpResponse<String> r = Api.admin(via, "POST", "/admin/v1/tenants/" + tenant + "/keys", null);
      if (r.statusCode() == 201) {
        acknowledged.add(Api.json(r.body()).get("id").asText());
        acks.add(new long[] {(System.nanoTime() - p0) / 1_000_000});
      }
    } catch (RuntimeException e) {
      // connection refused or reset: the node is going away
    }
  }

  /** Runs iptables; null when it succeeded, else what it said (or why it could not run). */
  private static String iptables(String... args) {
    List<String> command = new ArrayList<>();
    command.add("iptables");
    command.addAll(List.of(args));
    try {
      Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
      if (!p.waitFor(30, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        return "timed out";
      }
      return p.exitValue() == 0 ? null : "exit " + p.exitValue() + ": " + out;
    } catch (IOException e) {
      return e.toString();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return e.toString();
    }
  }
}
