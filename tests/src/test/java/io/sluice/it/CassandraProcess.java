package io.sluice.it;

import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A local Cassandra for the tests, run as a developer runs it: {@code ops/cassandra start}, then
 * {@code ops/cassandra schema KEYSPACE} for a keyspace of this test run. A Cassandra that already
 * runs (ops/cassandra status) is reused and left running; one started here is stopped by {@link
 * #close()}. The run's keyspace is dropped either way.
 */
final class CassandraProcess implements AutoCloseable {
  private static final Pattern RUNNING = Pattern.compile("cassandra running \\(pid \\d+\\) on [^:]+:(\\d+)");
  private static final Pattern READY = Pattern.compile("cassandra ready on [^:]+:(\\d+) \\(([^)]*)\\) in ([0-9.]+)s");
  private static final int DEFAULT_PORT = 9042;
  private static final int DEFAULT_STORAGE_PORT = 7000;

  private final Map<String, String> env;
  private final Path dir;
  private final boolean startedHere;
  final int port;
  final String keyspace;
  private int restarts;

  private CassandraProcess(Map<String, String> env, Path dir, boolean startedHere, int port, String keyspace) {
    this.env = env;
    this.dir = dir;
    this.startedHere = startedHere;
    this.port = port;
    this.keyspace = keyspace;
  }

  /** A running Cassandra with {@code keyspace} holding Sluice's schema. */
  static CassandraProcess startWithKeyspace(String keyspace) {
    Path dir = Repo.scratch("cassandra");
    Map<String, String> env = new HashMap<>();
    boolean startedHere = false;
    int port;
    Matcher running = RUNNING.matcher(run(dir, env, "status", List.of("status"), true));
    if (running.find()) {
      port = Integer.parseInt(running.group(1));
    } else {
      if (System.getenv("CASSANDRA_PORT") == null && !(free(DEFAULT_PORT) && free(DEFAULT_STORAGE_PORT))) {
        // Someone else's Cassandra (or anything else) holds the default ports: run our own beside it,
        // with its own state, since a node's saved ring state names its storage port.
        env.put("CASSANDRA_PORT", String.valueOf(Repo.freePort()));
        env.put("CASSANDRA_STORAGE_PORT", String.valueOf(Repo.freePort()));
        env.put("CASSANDRA_HOME", Repo.root().resolve("tests/target/cassandra-it").toString());
      }
      String out = run(dir, env, "start", List.of("start"), false);
      Matcher ready = READY.matcher(out);
      if (!ready.find()) {
        throw new IllegalStateException("ops/cassandra start printed no ready line:\n" + out);
      }
      port = Integer.parseInt(ready.group(1));
      startedHere = !out.contains("already running");
    }
    CassandraProcess cassandra = new CassandraProcess(env, dir, startedHere, port, keyspace);
    run(dir, env, "schema", List.of("schema", keyspace), false);
    return cassandra;
  }

  /**
   * A Cassandra of this test run only, on free ports with its own state under tests/target/NAME,
   * started with {@code extraEnv} (for example the CASSANDRA_CLIENT_TLS_* of ops/cassandra, which
   * make its CQL port TLS only), with {@code keyspace} holding Sluice's schema. Stopped by {@link
   * #close()}.
   */
  static CassandraProcess startOwn(String name, String keyspace, Map<String, String> extraEnv) {
    Path dir = Repo.scratch(name);
    Map<String, String> env = new HashMap<>(extraEnv);
    env.put("CASSANDRA_PORT", String.valueOf(Repo.freePort()));
    env.put("CASSANDRA_STORAGE_PORT", String.valueOf(Repo.freePort()));
    env.put("CASSANDRA_HOME", Repo.root().resolve("tests/target/" + name).toString());
    env.putIfAbsent("CASSANDRA_HEAP", "768m");
    String out = run(dir, env, "start", List.of("start"), false);
    Matcher ready = READY.matcher(out);
    if (!ready.find()) {
      throw new IllegalStateException("ops/cassandra start printed no ready line:\n" + out);
    }
    CassandraProcess cassandra = new CassandraProcess(env, dir, true, Integer.parseInt(ready.group(1)), keyspace);
    try {
      run(dir, env, "schema", List.of("schema", keyspace), false);
    } catch (RuntimeException e) {
      cassandra.close();
      throw e;
    }
    return cassandra;
  }

  /** Whether this test run started the Cassandra (and may therefore stop and start it). */
  boolean startedHere() {
    return startedHere;
  }

  /** {@code ops/cassandra stop}: only for a Cassandra this run started. */
  void stopServer() {
    if (!startedHere) {
      throw new IllegalStateException("this test run did not start the Cassandra on port " + port);
    }
    run(dir, env, "stop-" + (++restarts), List.of("stop"), false);
  }

  /** {@code ops/cassandra start} again after {@link #stopServer()}, on the same port and state. */
  void startServer() {
    if (!startedHere) {
      throw new IllegalStateException("this test run did not start the Cassandra on port " + port);
    }
    String out = run(dir, env, "start-" + restarts, List.of("start"), false);
    if (!READY.matcher(out).find()) {
      throw new IllegalStateException("ops/cassandra start printed no ready line:\n" + out);
    }
  }

  /** The server's pid, from {@code ops/cassandra status}: for freezing it with SIGSTOP and SIGCONT. */
  long pid() {
    Matcher m = Pattern.compile("cassandra running \\(pid (\\d+)\\)").matcher(run(dir, env, "pid", List.of("status"), false));
    if (!m.find()) {
      throw new IllegalStateException("ops/cassandra status named no pid");
    }
    return Long.parseLong(m.group(1));
  }

  /** Environment for a node that uses this Cassandra through multi-node/cassandra.conf. */
  Map<String, String> nodeEnv() {
    return Map.of(
        "SLUICE_CASSANDRA_KEYSPACE", keyspace,
        "SLUICE_CASSANDRA_CONTACT_POINTS", "127.0.0.1:" + port);
  }

  @Override
  public void close() {
    try {
      run(dir, env, "drop", List.of("drop", keyspace), true);
    } finally {
      if (startedHere) {
        run(dir, env, "stop", List.of("stop"), false);
      }
    }
  }

  /** Runs {@code ops/cassandra ARGS} to its end and returns its output. */
  private static String run(Path dir, Map<String, String> env, String name, List<String> args, boolean mayFail) {
    Path log = dir.resolve(name + ".log");
    List<String> command = new java.util.ArrayList<>(List.of("bash", "ops/cassandra"));
    command.addAll(args);
    ManagedProcess p = new ManagedProcess(command, env, log);
    try {
      // start may first resolve Cassandra's classpath from Maven Central; its own CQL wait is 120 s.
      await("ops/cassandra " + String.join(" ", args)).atMost(Duration.ofMinutes(5))
          .pollInterval(Duration.ofMillis(100)).until(() -> !p.alive());
    } finally {
      p.close();
    }
    String out = MockUpstream.read(log);
    if (p.exitCode() != 0 && !mayFail) {
      throw new IllegalStateException("ops/cassandra " + String.join(" ", args) + " exited " + p.exitCode() + ":\n" + out);
    }
    return out;
  }

  private static boolean free(int port) {
    try (ServerSocket s = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
      return true;
    } catch (IOException e) {
      return false;
    }
  }
}
