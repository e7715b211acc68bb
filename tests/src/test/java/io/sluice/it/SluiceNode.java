package io.sluice.it;

import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A Sluice node JVM, started as the README starts it: {@code java -jar node/target/sluice.jar
 * --config FILE} with SLUICE_* environment variables. Waits on {@code /health/ready}.
 */
final class SluiceNode implements AutoCloseable, Api.Target {
  static final String ADMIN_KEY = "test-admin-key-not-secret";

  private final Path configFile;
  private final Path dataDir;
  private final Map<String, String> env;
  final int port;
  /** The HTTPS client port of a node started by {@link #startHttps}; 0 otherwise. */
  final int httpsPort;
  private ManagedProcess process;
  private int starts;
  private String awaitPath = "/health/ready";

  private SluiceNode(Path configFile, Path dataDir, int port, int httpsPort, Map<String, String> env) {
    this.configFile = configFile;
    this.dataDir = dataDir;
    this.port = port;
    this.httpsPort = httpsPort;
    this.env = env;
  }

  /** Starts a node whose config file holds {@code hocon}, with its own data directory. */
  static SluiceNode start(String name, String hocon) {
    return start(name, hocon, Map.of());
  }

  /** Like {@link #start(String, String)}, with more environment variables for the node. */
  static SluiceNode start(String name, String hocon, Map<String, String> extraEnv) {
    return start(name, hocon, extraEnv, false, true);
  }

  /** Like {@link #start(String, String, Map)}, but waits only until /health/live answers 200. */
  static SluiceNode startLive(String name, String hocon, Map<String, String> extraEnv) {
    return start(name, hocon, extraEnv, false, false);
  }

  /**
   * A node whose client port ({@link #httpsPort}) speaks HTTPS as {@code hocon}'s sluice.http.tls
   * says; {@link #port} (and {@link #url}) is its plain-HTTP loopback listener.
   */
  static SluiceNode startHttps(String name, String hocon, Map<String, String> extraEnv) {
    return start(name, hocon, extraEnv, true, true);
  }

  private static SluiceNode start(String name, String hocon, Map<String, String> extraEnv, boolean https,
      boolean ready) {
    Path dir = Repo.scratch("node-" + name);
    Path config = dir.resolve("node.conf");
    try {
      Files.writeString(config, hocon);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    int port = Repo.freePort();
    Map<String, String> env = new HashMap<>();
    env.put("SLUICE_HTTP_PORT", String.valueOf(port));
    env.put("SLUICE_HTTP_HOST", "127.0.0.1");
    env.put("SLUICE_ADMIN_KEY", ADMIN_KEY);
    env.put("SLUICE_DATA_DIR", dir.resolve("data").toString());
    int httpsPort = 0;
    if (https) {
      httpsPort = Repo.freePort();
      env.put("SLUICE_HTTP_PORT", String.valueOf(httpsPort));
      env.put("SLUICE_HTTP_PLAIN_LOOPBACK_PORT", String.valueOf(port));
    }
    env.putAll(extraEnv);
    SluiceNode node = new SluiceNode(config, dir.resolve("data"), port, httpsPort, env);
    node.awaitPath = ready ? "/health/ready" : "/health/live";
    node.startProcess();
    return node;
  }

  private void startProcess() {
    Path log = configFile.getParent().resolve("node-" + (starts++) + ".log");
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    process = new ManagedProcess(List.of(java, "-Xmx512m", "-jar", Repo.nodeJar().toString(),
        "--config", configFile.toString()), env, log);
    await("node " + awaitPath + " on " + port).atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(100))
        .until(() -> {
          if (!process.alive()) {
            throw new IllegalStateException("node exited: " + MockUpstream.read(log));
          }
          return Api.status("GET", url(awaitPath)) == 200;
        });
  }

  /** Stops the node cleanly and starts it again on the same port and data directory. */
  void restart() {
    process.stop();
    startProcess();
  }

  @Override
  public String url(String path) {
    return "http://127.0.0.1:" + port + path;
  }

  Path log() {
    return process.log;
  }

  Path dataDir() {
    return dataDir;
  }

  @Override
  public void close() {
    if (process != null) {
      process.stop();
    }
  }
}
