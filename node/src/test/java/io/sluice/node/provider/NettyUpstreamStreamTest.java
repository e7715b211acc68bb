package io.sluice.node.provider;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import com.typesafe.config.ConfigFactory;
import io.sluice.node.routing.Deployment;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.ActorSystem;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntity;
import org.apache.pekko.http.javadsl.model.HttpMethods;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.MediaTypes;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.util.ByteString;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Streamed exchanges of {@link NettyUpstream} against real servers on loopback sockets. */
class NettyUpstreamStreamTest {
  private static final List<String> EVENTS = List.of("data: 1\n\n", "data: 2\n\n", "data: 3\n\n", "data: [DONE]\n\n");

  private static ActorSystem system;
  private static Materializer materializer;

  private HttpServer server;
  private NettyUpstream client;
  private final Set<Integer> clientPorts = ConcurrentHashMap.newKeySet();
  /** Counted down when the endless stream's writes fail: the client closed the connection. */
  private final CountDownLatch endlessClosed = new CountDownLatch(1);

  @BeforeAll
  static void startSystem() {
    system = ActorSystem.create("NettyUpstreamStreamTest", ConfigFactory.parseString("pekko.actor.provider = local")
        .withFallback(ConfigFactory.defaultReference()));
    materializer = Materializer.matFromSystem(system);
  }

  @AfterAll
  static void stopSystem() {
    system.terminate();
  }

  @BeforeEach
  void start() throws IOException {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.setExecutor(Executors.newCachedThreadPool());
    server.createContext("/v1/sse", ex -> {
      clientPorts.add(ex.getRemoteAddress().getPort());
      ex.getRequestBody().readAllBytes();
      ex.getResponseHeaders().add("Content-Type", "text/event-stream");
      ex.getResponseHeaders().add("x-upstream", "yes");
      ex.sendResponseHeaders(200, 0); // chunked
      try (OutputStream out = ex.getResponseBody()) {
        for (String e : EVENTS) {
          out.write(e.getBytes(StandardCharsets.UTF_8));
          out.flush();
        }
      }
    });
    server.createContext("/v1/limited", ex -> {
      clientPorts.add(ex.getRemoteAddress().getPort());
      ex.getRequestBody().readAllBytes();
      byte[] body = "{\"error\":{\"message\":\"slow down\"}}".getBytes(StandardCharsets.UTF_8);
      ex.getResponseHeaders().add("Content-Type", "application/json");
      ex.sendResponseHeaders(429, body.length);
      try (OutputStream out = ex.getResponseBody()) {
        out.write(body);
      }
    });
    server.createContext("/v1/endless", ex -> {
      clientPorts.add(ex.getRemoteAddress().getPort());
      ex.getRequestBody().readAllBytes();
      ex.getResponseHeaders().add("Content-Type", "text/event-stream");
      ex.sendResponseHeaders(200, 0);
      byte[] event = "data: x\n\n".getBytes(StandardCharsets.UTF_8);
      try (OutputStream out = ex.getResponseBody()) {
        // Until the client hangs up: a client that does not read stops these writes once the
        // socket buffers are full, and its close makes the next write fail. Bounded in count
        // (~9 MB), and the server's stop at the end of the test ends a blocked write too.
        for (int i = 0; i < 1_000_000; i++) {
          out.write(event);
          out.flush();
        }
      } catch (IOException closedByClient) {
        endlessClosed.countDown();
      }
    });
    server.start();
    client = newClient(Duration.ofSeconds(5));
  }

  @AfterEach
  void stop() {
    client.close();
    server.stop(0);
  }

  private static NettyUpstream newClient(Duration subscriptionTimeout) {
    return new NettyUpstream(new UpstreamClientSettings(1, 1 << 20, Duration.ofSeconds(60), subscriptionTimeout));
  }

  private static Deployment deployment(String baseUrl) {
    return new Deployment("d1", "openai", baseUrl, "m", null, 1, 0, Duration.ofSeconds(2), Duration.ofSeconds(5),
        Duration.ofSeconds(30), 4, 16);
  }

  private String base() {
    return "http://127.0.0.1:" + server.getAddress().getPort() + "/v1";
  }

  private static HttpRequest post(String url) {
    return HttpRequest.create(url).withMethod(HttpMethods.POST)
        .withHeaders(List.of(RawHeader.create("Authorization", "Bearer up-key")))
        .withEntity(ContentTypes.APPLICATION_JSON, "{\"stream\":true}".getBytes(StandardCharsets.UTF_8));
  }

  /** One deployment object per base URL, as the catalog has: a new object is a changed deployment. */
  private final Map<String, Deployment> deployments = new ConcurrentHashMap<>();

  private HttpResponse head(NettyUpstream c, String baseUrl, String path) throws Exception {
    Deployment d = deployments.computeIfAbsent(baseUrl, NettyUpstreamStreamTest::deployment);
    return c.stream(d, post(baseUrl + path), Duration.ofSeconds(5)).get(10, TimeUnit.SECONDS);
  }

  private static String body(HttpResponse r) throws Exception {
    CompletionStage<ByteString> all = r.entity().getDataBytes()
        .runFold(ByteString.emptyByteString(), ByteString::concat, materializer);
    return all.toCompletableFuture().get(10, TimeUnit.SECONDS).utf8String();
  }

  private static UpstreamFailure bodyFailure(HttpResponse r) throws Exception {
    try {
      body(r);
    } catch (ExecutionException e) {
      return assertInstanceOf(UpstreamFailure.class, e.getCause());
    }
    throw new AssertionError("expected the body to fail");
  }

  @Test
  void stream_chunkedEvents_headFirstThenEventsInOrderAndTheConnectionIsReused() throws Exception {
    for (int i = 0; i < 3; i++) {
      HttpResponse r = head(client, base(), "/sse");
      assertEquals(200, r.status().intValue());
      assertEquals(MediaTypes.TEXT_EVENT_STREAM, r.entity().getContentType().mediaType());
      assertEquals("yes", r.getHeader("x-upstream").map(h -> h.value()).orElse(null));
      assertTrue(!(r.entity() instanceof HttpEntity.Strict), "a streamed body, not a strict one");
      assertEquals(String.join("", EVENTS), body(r));
    }
    assertEquals(1, clientPorts.size(), "client ports seen: " + clientPorts);
  }

  @Test
  void stream_errorStatusWithLength_bodyReadWholeAndTheConnectionIsReused() throws Exception {
    HttpResponse r = head(client, base(), "/limited");
    assertEquals(429, r.status().intValue());
    HttpEntity.Strict strict = r.entity().toStrict(5_000, materializer).toCompletableFuture().get(10, TimeUnit.SECONDS);
    assertTrue(strict.getData().utf8String().contains("slow down"));
    assertEquals(String.join("", EVENTS), body(head(client, base(), "/sse")));
    assertEquals(1, clientPorts.size(), "client ports seen: " + clientPorts);
  }

  @Test
  void stream_clientCancelsTheBody_upstreamConnectionClosedAndNotReused() throws Exception {
    HttpResponse r = head(client, base(), "/endless");
    ByteString first = r.entity().getDataBytes().runWith(Sink.head(), materializer)
        .toCompletableFuture().get(10, TimeUnit.SECONDS);
    assertTrue(first.utf8String().startsWith("data: x"), first.utf8String());
    assertTrue(endlessClosed.await(10, TimeUnit.SECONDS), "the upstream saw its connection closed");
    assertEquals(String.join("", EVENTS), body(head(client, base(), "/sse")));
    assertEquals(2, clientPorts.size(), "the cancelled stream's connection was not reused: " + clientPorts);
  }

  @Test
  void stream_bodyNobodyReads_givenUpAfterTheSubscriptionTimeout() throws Exception {
    try (NettyUpstream impatient = newClient(Duration.ofMillis(200))) {
      HttpResponse r = head(impatient, base(), "/endless");
      assertTrue(endlessClosed.await(10, TimeUnit.SECONDS), "the upstream saw its connection closed");
      UpstreamFailure f = bodyFailure(r);
      assertEquals(UpstreamFailure.Kind.TIMEOUT, f.kind());
      assertTrue(f.getMessage().contains("nobody read the response body"), f.getMessage());
    }
  }

  @Test
  void stream_bodyReadTwice_secondReadFails() throws Exception {
    HttpResponse r = head(client, base(), "/sse");
    assertEquals(String.join("", EVENTS), body(r));
    ExecutionException e = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class, () -> body(r));
    assertInstanceOf(IllegalStateException.class, e.getCause());
  }

  @Test
  void stream_connectionDropsMidBody_bodyFailsAfterTheBytesThatCame() throws Exception {
    try (ServerSocket raw = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      Thread upstream = new Thread(() -> {
        try (Socket s = raw.accept()) {
          readRequest(s.getInputStream());
          OutputStream out = s.getOutputStream();
          out.write(("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
              + "9\r\ndata: 1\n\n\r\n").getBytes(StandardCharsets.US_ASCII));
          out.flush();
          // Closed without the last chunk: the stream is cut.
        } catch (IOException ignored) {
          // the test fails on the client side
        }
      }, "raw-upstream");
      upstream.start();
      String url = "http://127.0.0.1:" + raw.getLocalPort() + "/v1";
      HttpResponse r = head(client, url, "/chat");
      assertEquals(200, r.status().intValue());
      ByteString collected = r.entity().getDataBytes().recover(UpstreamFailure.class, () -> ByteString.fromString("|cut"))
          .runFold(ByteString.emptyByteString(), ByteString::concat, materializer)
          .toCompletableFuture().get(10, TimeUnit.SECONDS);
      assertEquals("data: 1\n\n|cut", collected.utf8String());
      upstream.join(10_000);
    }
  }

  /** Reads one request (head and Content-Length body) from a raw socket. */
  private static void readRequest(InputStream in) throws IOException {
    ByteArrayOutputStream head = new ByteArrayOutputStream();
    while (!head.toString(StandardCharsets.US_ASCII).endsWith("\r\n\r\n")) {
      int b = in.read();
      if (b < 0) {
        return;
      }
      head.write(b);
    }
    int length = 0;
    for (String line : head.toString(StandardCharsets.US_ASCII).split("\r\n")) {
      if (line.toLowerCase(java.util.Locale.ROOT).startsWith("content-length:")) {
        length = Integer.parseInt(line.substring(15).trim());
      }
    }
    in.readNBytes(length);
  }
}
