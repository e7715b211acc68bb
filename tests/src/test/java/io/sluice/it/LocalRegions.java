package io.sluice.it;

import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Regions run as a developer runs them, through {@code ops/regions}: one Cassandra data center per
 * region on its own loopback address, joined as one cluster, and N Sluice nodes per region. Its
 * state lives in a fresh scratch directory, on ports chosen free for this run, so nothing of
 * another run (or a developer's own {@code ops/regions}) is shared.
 */
final class LocalRegions implements AutoCloseable {
  private static final Pattern READY = Pattern.compile(
      "(\\S+)-node(\\d+) ready: http://127\\.0\\.0\\.1:(\\d+) \\(region (\\S+), remoting ([0-9.]+):(\\d+),");

  /** One node of one region, by its HTTP port on 127.0.0.1 and its remoting address. */
  record Node(String region, int index, int httpPort, String clusterHost, int clusterPort) implements Api.Target {
    @Override
    public String url(String path) {
      return "http://127.0.0.1:" + httpPort + path;
    }

    /** Its address as its region's cluster names it. */
    String address() {
      return "pekko://sluice@" + clusterHost + ":" + clusterPort;
    }

    @Override
    public String toString() {
      return region + "-node" + index;
    }
  }

  private final Path dir;
  private final Map<String, String> env;
  final Map<String, List<Node>> nodes;
  private final java.util.concurrent.atomic.AtomicInteger runs = new java.util.concurrent.atomic.AtomicInteger();

  private LocalRegions(Path dir, Map<String, String> env, Map<String, List<Node>> nodes) {
    this.dir = dir;
    this.env = env;
    this.nodes = nodes;
  }

  /** {@code ops/regions start --regions R --nodes N --config FILE}; returns once all nodes are ready. */
  static LocalRegions start(String regions, int nodesPerRegion, String config) {
    Path dir = Repo.scratch("regions");
    Map<String, String> env = new HashMap<>();
    int count = regions.split(",").length;
    env.put("REGIONS_HOME", dir.resolve("home").toString());
    env.put("SLUICE_BASE_PORT", String.valueOf(freeRange(count)));
    env.put("SLUICE_CLUSTER_BASE_PORT", String.valueOf(freeRange(count)));
    env.put("REGIONS_CASSANDRA_PORT", String.valueOf(Repo.freePort()));
    env.put("REGIONS_CASSANDRA_STORAGE_PORT", String.valueOf(Repo.freePort()));
    env.put("SLUICE_CASSANDRA_KEYSPACE", "sluice_regions");
    env.put("SLUICE_ADMIN_KEY", SluiceNode.ADMIN_KEY);
    env.put("CASSANDRA_HEAP", "512m");
    // C1 only, small heaps: a 2-core machine shared with the rest of the build.
    env.put("JAVA_OPTS", "-Xmx384m -XX:TieredStopAtLevel=1");
    LocalRegions out = new LocalRegions(dir, env, new LinkedHashMap<>());
    try {
      Path file = dir.resolve("node.conf");
      Files.writeString(file, config);
      String printed = out.run(Duration.ofMinutes(8), false,
          "start", "--regions", regions, "--nodes", String.valueOf(nodesPerRegion), "--config", file.toString());
      Matcher m = READY.matcher(printed);
      while (m.find()) {
        out.nodes.computeIfAbsent(m.group(4), r -> new ArrayList<>())
            .add(new Node(m.group(4), Integer.parseInt(m.group(2)), Integer.parseInt(m.group(3)), m.group(5),
                Integer.parseInt(m.group(6))));
      }
      if (out.nodes.size() != count || out.nodes.values().stream().anyMatch(l -> l.size() != nodesPerRegion)) {
        throw new IllegalStateException("ops/regions start did not report every node ready:\n" + printed);
      }
      return out;
    } catch (IOException e) {
      out.close();
      throw new UncheckedIOException(e);
    } catch (RuntimeException | Error e) {
      out.close();
      throw e;
    }
  }

  List<Node> region(String name) {
    return nodes.get(name);
  }

  /** {@code ops/regions partition A B}; null when it worked, else what it printed. */
  String partition(String a, String b) {
    return runQuietly("partition", a, b);
  }

  /** {@code ops/regions heal}; null when it worked, else what it printed. */
  String heal() {
    return runQuietly("heal");
  }

  /**
   * kill -9 of {@code node} at once, as {@code ops/regions kill R I} does but without a script's
   * start-up between the decision and the signal; returns once its process is gone.
   */
  void kill(Node node) {
    Path pidFile = Path.of(env.get("REGIONS_HOME"), node.region() + "-node" + node.index() + ".pid");
    long pid;
    try {
      pid = Long.parseLong(Files.readString(pidFile).strip());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    ProcessHandle process = ProcessHandle.of(pid)
        .orElseThrow(() -> new IllegalStateException(node + " (pid " + pid + ") is not running"));
    process.destroyForcibly(); // SIGKILL
    process.onExit().orTimeout(10, java.util.concurrent.TimeUnit.SECONDS).join();
  }

  /** {@code ops/regions restart R I}: starts {@code node} again; returns once it is ready. */
  void restart(Node node) {
    run(Duration.ofMinutes(4), false, "restart", node.region(), String.valueOf(node.index()));
  }

  /**
   * Tenant entities per node of {@code via}'s region, as {@code via} sees them (the {@code shards}
   * of /admin/v1/cluster; each region is its own cluster).
   */
  Map<Node, Integer> entities(Node via) {
    var view = Api.json(Api.admin(via, "GET", "/admin/v1/cluster", null).body());
    Map<Node, Integer> out = new LinkedHashMap<>();
    view.get("shards").fields().forEachRemaining(e -> out.put(byAddress(via.region(), e.getKey()),
        e.getValue().get("entities").asInt()));
    return out;
  }

  /** The node of {@code region} at {@code address} (pekko://sluice@host:port). */
  Node byAddress(String region, String address) {
    return nodes.get(region).stream().filter(n -> n.address().equals(address)).findFirst()
        .orElseThrow(() -> new IllegalStateException("no node of " + region + " at " + address));
  }

  /** The lines of {@code node}'s log (all its runs) that match {@code regex}. */
  List<String> logLines(Node node, String regex) {
    Pattern p = Pattern.compile(regex);
    Path log = Path.of(env.get("REGIONS_HOME"), node.region() + "-node" + node.index() + ".log");
    try (var lines = Files.lines(log)) {
      return lines.filter(l -> p.matcher(l).find()).toList();
    } catch (IOException | UncheckedIOException e) {
      return List.of("(log unreadable: " + e + ")");
    }
  }

  /** Resident memory of every process of the setup (nodes and Cassandras), in MiB, by name. */
  Map<String, Long> residentMiB() {
    Map<String, Long> out = new LinkedHashMap<>();
    Path home = Path.of(env.get("REGIONS_HOME"));
    try (var files = Files.walk(home, 2)) {
      for (Path pid : files.filter(p -> p.getFileName().toString().endsWith(".pid")).sorted().toList()) {
        String name = home.relativize(pid).toString().replace(".pid", "");
        String status = Files.readString(Path.of("/proc", Files.readString(pid).strip(), "status"));
        Matcher m = Pattern.compile("VmRSS:\\s+(\\d+) kB").matcher(status);
        if (m.find()) out.put(name, Long.parseLong(m.group(1)) / 1024);
      }
    } catch (IOException e) {
      out.put("error: " + e.getMessage(), -1L);
    }
    return out;
  }

  @Override
  public void close() {
    run(Duration.ofMinutes(4), true, "stop");
  }

  private String runQuietly(String... args) {
    try {
      run(Duration.ofMinutes(1), false, args);
      return null;
    } catch (IllegalStateException e) {
      return e.getMessage();
    }
  }

  private String run(Duration atMost, boolean mayFail, String... args) {
    Path log = dir.resolve("ops-regions-" + runs.getAndIncrement() + "-" + args[0] + ".log");
    List<String> command = new ArrayList<>(List.of("bash", "ops/regions"));
    command.addAll(List.of(args));
    ManagedProcess p = new ManagedProcess(command, env, log);
    try {
      await("ops/regions " + String.join(" ", args)).atMost(atMost)
          .pollInterval(Duration.ofMillis(200)).until(() -> !p.alive());
    } finally {
      p.close();
    }
    String out = MockUpstream.read(log);
    if (p.exitCode() != 0 && !mayFail) {
      throw new IllegalStateException("ops/regions " + String.join(" ", args) + " exited " + p.exitCode() + ":\n" + out);
    }
    return out;
  }

  /** A base port b with b + 10*k + i free on 127.0.0.1 for the first few nodes of every region. */
  private static int freeRange(int regions) {
    for (int attempt = 0; attempt < 50; attempt++) {
      int base = 20000 + 10 * ThreadLocalRandom.current().nextInt(3000);
      boolean ok = true;
      for (int k = 0; k < regions && ok; k++) {
        for (int i = 0; i < 3 && ok; i++) {
          ok = free(base + 10 * k + i);
        }
      }
      if (ok) return base;
    }
    throw new IllegalStateException("no free port range found");
  }

  private static boolean free(int port) {
    try (ServerSocket s = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
      return true;
    } catch (IOException e) {
      return false;
    }
  }
}
