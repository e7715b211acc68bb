package io.sluice.node;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import com.typesafe.config.Config;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.http.javadsl.ServerBinding;

/**
 * The training run of the node's class-data-sharing archive. It exists because a node spends most
 * of its start loading and linking ~13,000 classes: the build runs this once with
 * {@code -XX:ArchiveClassesAtExit} (node/pom.xml), and {@code ops/sluice} starts the node with the
 * archive, which halves start → ready. It starts a real node on ephemeral ports with an empty data
 * directory, serves a few admin calls and chats (whole and streamed, both client APIs) against a
 * loopback stand-in for the upstream, so the request path's classes are in the archive too, then
 * stops the node and exits. Nothing of it stays behind but the archive.
 */
public final class CdsTraining {
  private static final String REPLY = "{\"id\":\"chatcmpl-cds\",\"object\":\"chat.completion\",\"created\":0,"
      + "\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"hi\"},"
      + "\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":1,\"total_tokens\":6}}";
  private static final String STREAM = "data: {\"id\":\"chatcmpl-cds\",\"object\":\"chat.completion.chunk\","
      + "\"created\":0,\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\","
      + "\"content\":\"hi\"},\"finish_reason\":null}]}\n\n"
      + "data: {\"id\":\"chatcmpl-cds\",\"object\":\"chat.completion.chunk\",\"created\":0,\"model\":\"gpt-4o-mini\","
      + "\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}],"
      + "\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":1,\"total_tokens\":6}}\n\ndata: [DONE]\n\n";
  private static final Pattern KEY = Pattern.compile("\"key\"\\s*:\\s*\"([^\"]+)\"");

  private CdsTraining() {}

  public static void main(String[] args) throws Exception {
    Path data = Files.createTempDirectory("sluice-cds-");
    HttpServer upstream = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    upstream.createContext("/", CdsTraining::answer);
    upstream.start();
    String admin = UUID.randomUUID().toString();
    // Quiet in the build's output: only warnings and errors.
    ((ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME))
        .setLevel(ch.qos.logback.classic.Level.WARN);
    System.setProperty("pekko.loglevel", "WARNING");
    // The node exits the JVM when its system terminates; here the training decides the exit status.
    System.setProperty("pekko.coordinated-shutdown.exit-jvm", "off");
    System.setProperty("sluice.http.host", "127.0.0.1");
    System.setProperty("sluice.http.port", "0");
    System.setProperty("sluice.http.admin-key", admin);
    System.setProperty("pekko.remote.artery.canonical.port", "0");
    System.setProperty("sluice.node.data-dir", data.toString());
    System.setProperty("sluice.openai-base-url", "http://127.0.0.1:" + upstream.getAddress().getPort() + "/v1");
    Config config = ConfigLoader.load(null);
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "sluice", config);
    int status = 1;
    try {
      ServerBinding binding = Main.init(system, NodeSettings.from(config)).toCompletableFuture().get(60, TimeUnit.SECONDS);
      train("http://127.0.0.1:" + binding.localAddress().getPort(), admin);
      status = 0;
    } finally {
      system.terminate();
      system.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
      upstream.stop(0);
      try (Stream<Path> files = Files.walk(data)) {
        files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
    System.exit(status);
  }

  private static void train(String node, String admin) throws Exception {
    HttpClient client = HttpClient.newHttpClient();
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (send(client, "GET", node + "/health/ready", null, null).statusCode() != 200) {
      if (System.nanoTime() > until) {
        throw new IllegalStateException("the training node did not become ready in 30 s");
      }
      Thread.sleep(20);
    }
    expect(201, send(client, "POST", node + "/admin/v1/tenants", admin,
        "{\"id\":\"cds\",\"limits\":{\"requests_per_minute\":1000,\"tokens_per_minute\":1000000}}"));
    HttpResponse<String> issued = expect(201, send(client, "POST", node + "/admin/v1/tenants/cds/keys", admin, null));
    Matcher m = KEY.matcher(issued.body());
    if (!m.find()) {
      throw new IllegalStateException("no key in " + issued.statusCode());
    }
    String key = m.group(1);
    String chat = "{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"Say hello\"}]";
    String messages = "{\"model\":\"gpt-4o-mini\",\"max_tokens\":16,\"messages\":[{\"role\":\"user\",\"content\":\"Say hello\"}]";
    for (int i = 0; i < 5; i++) {
      expect(200, send(client, "POST", node + "/v1/chat/completions", key, chat + "}"));
      expect(200, send(client, "POST", node + "/v1/chat/completions", key, chat + ",\"stream\":true}"));
      expect(200, send(client, "POST", node + "/v1/messages", key, messages + "}"));
      expect(200, send(client, "POST", node + "/v1/messages", key, messages + ",\"stream\":true}"));
    }
    expect(200, send(client, "GET", node + "/v1/models", key, null));
    expect(200, send(client, "GET", node + "/admin/v1/tenants/cds/usage", admin, null));
    send(client, "GET", node + "/metrics", null, null);
  }

  private static HttpResponse<String> send(HttpClient client, String method, String url, String bearer, String body)
      throws IOException, InterruptedException {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10))
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body))
        .header("Content-Type", "application/json");
    if (bearer != null) {
      b.header("Authorization", "Bearer " + bearer);
    }
    return client.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static HttpResponse<String> expect(int status, HttpResponse<String> r) {
    if (r.statusCode() != status) {
      throw new IllegalStateException(r.request().method() + " " + r.request().uri().getPath() + ": " + r.statusCode()
          + " (expected " + status + ")");
    }
    return r;
  }

  /** The upstream stand-in: one OpenAI chat completion, whole or streamed as the request asks. */
  private static void answer(HttpExchange ex) throws IOException {
    String request = new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
    boolean stream = request.contains("\"stream\":true");
    byte[] body = (stream ? STREAM : REPLY).getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().set("Content-Type", stream ? "text/event-stream" : "application/json");
    ex.sendResponseHeaders(200, body.length);
    try (OutputStream out = ex.getResponseBody()) {
      out.write(body);
    }
  }
}
