import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.config.DefaultDriverOption;
import com.datastax.oss.driver.api.core.config.DriverConfigLoader;
import com.datastax.oss.driver.api.core.cql.ResultSet;
import com.datastax.oss.driver.api.core.cql.Row;
import com.datastax.oss.driver.api.core.cql.SimpleStatement;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The CQL client of ops/cassandra (cqlsh needs Python packages that are not at hand): a probe that
 * waits until Cassandra answers CQL, and a schema loader. Compiled by ops/cassandra against the
 * Apache Cassandra Java driver that ops/cassandra-runtime/pom.xml resolves.
 *
 * <pre>
 * CqlTool probe HOST:PORT TIMEOUT_SECONDS [PID]   prints release_version once CQL answers;
 *                                                 exit 1 on timeout, 2 when process PID has died
 * CqlTool schema HOST:PORT FILE KEYSPACE          runs FILE's statements (split on ';') with the
 *                                                 keyspace "sluice" renamed to KEYSPACE
 * CqlTool drop HOST:PORT KEYSPACE                 drops KEYSPACE if it exists
 * </pre>
 */
public final class CqlTool {
  private static final Pattern KEYSPACE_NAME = Pattern.compile("[A-Za-z][A-Za-z0-9_]{0,47}");

  private CqlTool() {}

  public static void main(String[] args) throws Exception {
    if (args.length >= 3 && args[0].equals("probe")) {
      long pid = args.length > 3 ? Long.parseLong(args[3]) : -1;
      System.exit(probe(address(args[1]), Duration.ofSeconds(Long.parseLong(args[2])), pid));
    } else if (args.length == 4 && args[0].equals("schema")) {
      System.exit(schema(address(args[1]), Path.of(args[2]), args[3]));
    } else if (args.length == 3 && args[0].equals("drop")) {
      System.exit(drop(address(args[1]), args[2]));
    } else {
      System.err.println("usage: CqlTool probe HOST:PORT TIMEOUT_SECONDS [PID] | schema HOST:PORT FILE KEYSPACE"
          + " | drop HOST:PORT KEYSPACE");
      System.exit(64);
    }
  }

  private static int probe(InetSocketAddress address, Duration timeout, long pid) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    String lastError = "no attempt";
    while (System.nanoTime() < deadline) {
      if (pid > 0 && ProcessHandle.of(pid).map(p -> !p.isAlive()).orElse(true)) {
        System.err.println("cassandra process " + pid + " exited");
        return 2;
      }
      if (!listening(address)) {
        lastError = "nothing listens on " + address;
        Thread.sleep(100);
        continue;
      }
      try (CqlSession session = session(address, Duration.ofSeconds(5))) {
        Row row = session.execute("SELECT release_version FROM system.local").one();
        System.out.println(row == null ? "unknown" : row.getString("release_version"));
        return 0;
      } catch (RuntimeException e) {
        lastError = e.getClass().getSimpleName() + ": " + e.getMessage();
      }
      Thread.sleep(250);
    }
    System.err.println("no CQL answer from " + address + " within " + timeout.toSeconds() + "s: " + lastError);
    return 1;
  }

  /** A plain TCP connect: much cheaper than a driver session while the port is still closed. */
  private static boolean listening(InetSocketAddress address) {
    try (Socket s = new Socket()) {
      s.connect(address, 1000);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  private static int schema(InetSocketAddress address, Path file, String keyspace) throws Exception {
    if (!KEYSPACE_NAME.matcher(keyspace).matches()) {
      System.err.println("not a keyspace name: " + keyspace);
      return 64;
    }
    List<String> statements = statements(Files.readString(file), keyspace);
    try (CqlSession session = session(address, Duration.ofSeconds(30))) {
      for (String cql : statements) {
        ResultSet rs = session.execute(SimpleStatement.newInstance(cql).setTimeout(Duration.ofSeconds(30)));
        if (!rs.getExecutionInfo().isSchemaInAgreement()) {
          System.err.println("warning: schema not in agreement after: " + firstLine(cql));
        }
      }
    }
    System.out.println("applied " + statements.size() + " statements of " + file.getFileName()
        + " to keyspace " + keyspace);
    return 0;
  }

  private static int drop(InetSocketAddress address, String keyspace) {
    if (!KEYSPACE_NAME.matcher(keyspace).matches()) {
      System.err.println("not a keyspace name: " + keyspace);
      return 64;
    }
    try (CqlSession session = session(address, Duration.ofSeconds(30))) {
      session.execute(SimpleStatement.newInstance("DROP KEYSPACE IF EXISTS " + keyspace)
          .setTimeout(Duration.ofSeconds(30)));
    }
    System.out.println("dropped keyspace " + keyspace);
    return 0;
  }

  /** The file's statements without comments, split on ';', with the keyspace sluice renamed. */
  static List<String> statements(String text, String keyspace) {
    StringBuilder code = new StringBuilder();
    for (String line : text.split("\n", -1)) {
      int comment = line.indexOf("--");
      code.append(comment >= 0 ? line.substring(0, comment) : line).append('\n');
    }
    List<String> out = new ArrayList<>();
    for (String part : code.toString().split(";")) {
      String cql = part.strip();
      if (!cql.isEmpty()) {
        out.add(cql.replaceAll("\\bsluice\\b", keyspace));
      }
    }
    return out;
  }

  private static CqlSession session(InetSocketAddress address, Duration requestTimeout) {
    var config = DriverConfigLoader.programmaticBuilder()
        .withDuration(DefaultDriverOption.REQUEST_TIMEOUT, requestTimeout)
        .withDuration(DefaultDriverOption.CONNECTION_CONNECT_TIMEOUT, Duration.ofSeconds(2))
        .withDuration(DefaultDriverOption.CONNECTION_INIT_QUERY_TIMEOUT, Duration.ofSeconds(5))
        .withDuration(DefaultDriverOption.CONTROL_CONNECTION_AGREEMENT_TIMEOUT, Duration.ofSeconds(30))
        // This tool needs no schema or token metadata; refreshing it after every DDL statement
        // (debounced by 1 s) would only slow the schema down.
        .withBoolean(DefaultDriverOption.METADATA_SCHEMA_ENABLED, false)
        .withBoolean(DefaultDriverOption.METADATA_TOKEN_MAP_ENABLED, false)
        // Netty's default 2 s quiet period would add 2 s to every run of this short-lived tool.
        .withInt(DefaultDriverOption.NETTY_IO_SHUTDOWN_QUIET_PERIOD, 0)
        .withInt(DefaultDriverOption.NETTY_ADMIN_SHUTDOWN_QUIET_PERIOD, 0);
    // A TLS-only Cassandra (ops/cassandra with CASSANDRA_CLIENT_TLS_KEYSTORE): check its
    // certificate against the truststore, host name included.
    String truststore = System.getenv("CASSANDRA_CLIENT_TLS_TRUSTSTORE");
    if (System.getenv("CASSANDRA_CLIENT_TLS_KEYSTORE") != null && truststore != null) {
      config = config
          .withString(DefaultDriverOption.SSL_ENGINE_FACTORY_CLASS, "DefaultSslEngineFactory")
          .withString(DefaultDriverOption.SSL_TRUSTSTORE_PATH, truststore)
          .withString(DefaultDriverOption.SSL_TRUSTSTORE_PASSWORD,
              System.getenv().getOrDefault("CASSANDRA_CLIENT_TLS_PASSWORD", ""))
          .withBoolean(DefaultDriverOption.SSL_HOSTNAME_VALIDATION, true);
    }
    DriverConfigLoader loader = config.build();
    return CqlSession.builder().withConfigLoader(loader).addContactPoint(address)
        .withLocalDatacenter("datacenter1").build();
  }

  private static InetSocketAddress address(String hostPort) {
    int colon = hostPort.lastIndexOf(':');
    return new InetSocketAddress(hostPort.substring(0, colon), Integer.parseInt(hostPort.substring(colon + 1)));
  }

  private static String firstLine(String cql) {
    int nl = cql.indexOf('\n');
    return nl < 0 ? cql : cql.substring(0, nl);
  }
}
