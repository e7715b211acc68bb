package io.sluice.it;

import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import java.util.stream.Collectors;

/**
 * A local Sluice cluster of N node JVMs on Cassandra, started as {@code ops/cluster} starts them:
 * {@code SLUICE_PROFILE=multi-node/cluster.conf} with SLUICE_HTTP_PORT, SLUICE_CLUSTER_PORT,
 * SLUICE_SEED_NODES (nodes 1 and 2), SLUICE_CASSANDRA_KEYSPACE, SLUICE_DATA_DIR and
 * SLUICE_ADMIN_KEY, on free ports; every node's {@code --config} file holds the models of one mock
 * upstream ({@link Fixtures#models}). The keyspace {@code sluice_it_<pid>_<n>} belongs to this run
 * and is dropped by {@link #close()}; the Cassandra is reused or started by {@link CassandraProcess}.
 *
 * <p>HTTP is on 127.0.0.1. Each node's Pekko remoting (inbound and, through
 * {@code outbound-client-hostname}, outbound) uses its own loopback address 127.A.B.(10+i), so a
 * test can cut one node's cluster traffic off with a packet filter without touching its HTTP,
 * the upstream or Cassandra: Artery sends each direction over its own TCP connection from an
 * ephemeral port, so a rule on the remoting port alone would cut only one direction.
 */
final class SluiceCluster implements AutoCloseable {
  private static final AtomicInteger RUNS = new AtomicInteger();

  /** One node: its ports and addresses stay the same across restarts. */
  static final class Node implements Api.Target {
    final int index;
    final String clusterHost;
    final int clusterPort;
    final int httpPort;
    final Path dir;
    final Path config;
    private final Map<String, String> env;
    private ManagedProcess process;
    private int starts;

    private Node(int index, String clusterHost, int clusterPort, int httpPort, Path dir, Path config,
        Map<String, String> env) {
      this.index = index;
      this.clusterHost = clusterHost;
      this.clusterPort = clusterPort;
      this.httpPort = httpPort;
      this.dir = dir;
      this.config = config;
      this.env = env;
    }

    @Override
    public String url(String path) {
      return "http://127.0.0.1:" + httpPort + path;
    }

    /** The node's Pekko address, as GET /admin/v1/cluster names it. */
    String address() {
      return "pekko://sluice@" + clusterHost + ":" + clusterPort;
    }

    boolean alive() {
      return process != null && process.alive();
    }

    Path log() {
      return process.log;
    }

    ManagedProcess process() {
      return process;
    }

    boolean ready() {
      return alive() && Api.status("GET", url("/health/ready")) == 200;
    }

    @Override
    public String toString() {
      return "node" + index + "(http " + httpPort + ", remoting " + clusterHost + ":" + clusterPort + ")";
    }
  }

  final CassandraProcess cassandra;
  final MockUpstream mock;
  final List<Node> nodes;
  final String keyspace;

  private SluiceCluster(CassandraProcess cassandra, MockUpstream mock, List<Node> nodes, String keyspace) {
    this.cassandra = cassandra;
    this.mock = mock;
    this.nodes = nodes;
    this.keyspace = keyspace;
  }

  /** Starts Cassandra (or reuses a running one), the keyspace, one mock upstream and {@code n} nodes. */
  static SluiceCluster start(int n) {
    return start(n, i -> Map.of(), n);
  }

  /**
   * Like {@link #start(int)}, with more environment for node i ({@code extraEnv.apply(i)}, which
   * may replace SLUICE_PROFILE), waiting until only the first {@code awaitUp} nodes are ready and
   * Up: the others are started and left to whatever they manage.
   */
  static SluiceCluster start(int n, java.util.function.IntFunction<Map<String, String>> extraEnv, int awaitUp) {
    long pid = ProcessHandle.current().pid();
    int run = RUNS.incrementAndGet();
    String keyspace = "sluice_it_" + pid + "_" + run;
    CassandraProcess cassandra = CassandraProcess.startWithKeyspace(keyspace);
    MockUpstream mock = null;
    SluiceCluster cluster = null;
    try {
      mock = MockUpstream.start("cluster");
      String net = "127." + (1 + pid % 250) + "." + (run % 250) + ".";
      List<Node> nodes = new ArrayList<>();
      for (int i = 1; i <= n; i++) {
        String host = net + (10 + i);
        Path dir = Repo.scratch("cluster-node" + i);
        Path config = dir.resolve("node.conf");
        Files.writeString(config, Fixtures.models(mock)
            + "pekko.remote.artery.advanced.tcp.outbound-client-hostname = \"" + host + "\"\n");
        Map<String, String> env = new HashMap<>(cassandra.nodeEnv());
        env.put("SLUICE_PROFILE", "multi-node/cluster.conf");
        env.put("SLUICE_HTTP_HOST", "127.0.0.1");
        env.put("SLUICE_HTTP_PORT", String.valueOf(Repo.freePort()));
        env.put("SLUICE_CLUSTER_HOST", host);
        env.put("SLUICE_CLUSTER_PORT", String.valueOf(freePort(host)));
        env.put("SLUICE_DATA_DIR", dir.resolve("data").toString());
        env.put("SLUICE_ADMIN_KEY", SluiceNode.ADMIN_KEY);
        env.putAll(extraEnv.apply(i));
        nodes.add(new Node(i, host, Integer.parseInt(env.get("SLUICE_CLUSTER_PORT")),
            Integer.parseInt(env.get("SLUICE_HTTP_PORT")), dir, config, env));
      }
      cluster = new SluiceCluster(cassandra, mock, List.copyOf(nodes), keyspace);
      // Nodes 1 and 2 are the seeds, as ops/cluster has it; all start at once.
      String seeds = nodes.stream().limit(2).map(Node::address).collect(Collectors.joining(","));
      for (Node node : nodes) {
        cluster.launch(node, seeds);
      }
      List<Node> expected = nodes.subList(0, awaitUp);
      for (Node node : expected) {
        awaitReady(node);
      }
      cluster.awaitMembersUp(expected, Duration.ofSeconds(90));
      return cluster;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (RuntimeException | Error e) {
      if (cluster != null) {
        cluster.close();
      } else {
        if (mock != null) mock.close();
        cassandra.close();
      }
      throw e;
    }
  }

  Node node(int index) {
    return nodes.get(index - 1);
  }

  List<Node> alive() {
    return nodes.stream().filter(Node::alive).toList();
  }

  private void launch(Node node, String seeds) {
    Map<String, String> env = new HashMap<>(node.env);
    env.put("SLUICE_SEED_NODES", seeds);
    Path log = node.dir.resolve("node-" + (node.starts++) + ".log");
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    // C1 only: these JVMs live for a few minutes on a small shared machine, where C2's compile
    // threads would take the CPU the nodes need to stay responsive in the cluster.
    node.process = new ManagedProcess(List.of(java, "-Xmx384m", "-XX:TieredStopAtLevel=1", "-jar",
        Repo.nodeJar().toString(), "--config", node.config.toString()), env, log);
  }

  private static void awaitReady(Node node) {
    await(node + " ready").atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(200))
        .until(() -> {
          if (!node.alive()) {
            throw new IllegalStateException(node + " exited: " + tail(node.log(), 40));
          }
          return Api.status("GET", node.url("/health/ready")) == 200;
        });
  }

  /**
   * Starts a stopped or killed node again with the same ports and data directory. Its seeds are
   * the other live nodes, so a restarted first seed never forms a cluster of its own.
   */
  void restart(Node node) {
    if (node.alive()) {
      throw new IllegalStateException(node + " still runs");
    }
    String seeds = nodes.stream().filter(n -> n != node && n.alive()).map(Node::address)
        .collect(Collectors.joining(","));
    launch(node, seeds);
    awaitReady(node);
  }

  /**
   * Restarts every node that is not running, then waits until all are Up in every node's view
   * and ready (their journal answers).
   */
  void ensureAllUp() {
    List<Node> down = nodes.stream().filter(n -> !n.alive()).toList();
    if (!down.isEmpty()) {
      String seeds = alive().stream().map(Node::address).collect(Collectors.joining(","));
      for (Node node : down) {
        launch(node, seeds);
      }
    }
    for (Node node : nodes) {
      awaitReady(node);
    }
    awaitMembersUp(nodes, Duration.ofSeconds(90));
  }

  /** GET /admin/v1/cluster through {@code via}. */
  static JsonNode view(Node via) {
    HttpResponse<String> r = Api.admin(via, "GET", "/admin/v1/cluster", null);
    if (r.statusCode() != 200) {
      throw new IllegalStateException("GET /admin/v1/cluster on " + via + ": " + r.statusCode() + " " + r.body());
    }
    return Api.json(r.body());
  }

  /** The addresses that {@code view} lists as Up and reachable. */
  static Set<String> upMembers(JsonNode view) {
    Set<String> up = new TreeSet<>();
    for (JsonNode m : view.get("members")) {
      if (m.get("status").asText().equals("up") && m.get("reachable").asBoolean()) {
        up.add(m.get("address").asText());
      }
    }
    return up;
  }

  /** Every address that {@code view} lists as a member, whatever its status. */
  static Set<String> members(JsonNode view) {
    Set<String> all = new TreeSet<>();
    view.get("members").forEach(m -> all.add(m.get("address").asText()));
    return all;
  }

  /** Waits until each of {@code expected} sees exactly {@code expected} as its Up, reachable members. */
  void awaitMembersUp(List<Node> expected, Duration atMost) {
    Set<String> want = expected.stream().map(Node::address).collect(Collectors.toCollection(TreeSet::new));
    await("members up: " + want).atMost(atMost).pollInterval(Duration.ofMillis(500))
        .ignoreExceptions().until(() -> {
          for (Node n : expected) {
            if (!upMembers(view(n)).equals(want)) {
              return false;
            }
          }
          return true;
        });
  }

  /** The node whose remoting port is the port of {@code address} (pekko://sluice@host:port). */
  Node byAddress(String address) {
    int port = Integer.parseInt(address.substring(address.lastIndexOf(':') + 1));
    return nodes.stream().filter(n -> n.clusterPort == port).findFirst()
        .orElseThrow(() -> new IllegalStateException("no node has remoting port " + port + ": " + address));
  }

  /** Tenant entities per node index, as {@code via} sees them (the {@code shards} of /admin/v1/cluster). */
  Map<Integer, Integer> entities(Node via) {
    JsonNode view = view(via);
    Map<Integer, Integer> out = new LinkedHashMap<>();
    view.get("shards").fields().forEachRemaining(e ->
        out.put(byAddress(e.getKey()).index, e.getValue().get("entities").asInt()));
    return out;
  }

  /** A created tenant, its key, and the node that hosts its entity. */
  record HostedTenant(String id, String key, Node host) {}

  /**
   * Creates tenants (through {@code via}) until one's entity lands on a node that {@code where}
   * accepts, and returns it with a key. The host is the node whose entity count went up by one;
   * entities do not passivate during a test (active-entity-limit 100000), so the difference is it.
   */
  HostedTenant createTenant(Node via, String prefix, String limitsJson, Predicate<Node> where) {
    for (int attempt = 0; attempt < 20; attempt++) {
      Map<Integer, Integer> before = entities(via);
      String id = Fixtures.tenant(prefix);
      String key = Api.tenantWithKey(via, id, limitsJson);
      Map<Integer, Integer> after = entities(via);
      List<Node> grew = nodes.stream()
          .filter(n -> after.getOrDefault(n.index, 0) > before.getOrDefault(n.index, 0)).toList();
      if (grew.size() != 1) {
        throw new IllegalStateException("cannot tell where tenant " + id + " lives: " + before + " -> " + after);
      }
      if (where.test(grew.get(0))) {
        return new HostedTenant(id, key, grew.get(0));
      }
    }
    throw new IllegalStateException("no tenant landed on a wanted node in 20 attempts");
  }

  static String tail(Path log, int lines) {
    try {
      List<String> all = Files.readAllLines(log);
      return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
    } catch (IOException e) {
      return "(no log: " + e + ")";
    }
  }

  private static int freePort(String host) {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName(host))) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Stops every node (SIGTERM, all at once, then SIGKILL after 30 s), the mock, and drops the keyspace. */
  @Override
  public void close() {
    try {
      for (Node n : nodes) {
        if (n.alive()) n.process.terminate();
      }
      for (Node n : nodes) {
        if (n.process != null && !n.process.awaitExit(Duration.ofSeconds(30))) {
          n.process.kill();
        }
      }
    } finally {
      try {
        if (mock != null) mock.close();
      } finally {
        cassandra.close();
      }
    }
  }
}
