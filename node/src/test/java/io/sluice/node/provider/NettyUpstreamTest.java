package io.sluice.node.provider;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.sluice.node.routing.Deployment;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntity;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpMethods;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** {@link NettyUpstream} against a real HTTP server on a loopback socket (the JDK's). */
class NettyUpstreamTest {
  private HttpServer server;
  private NettyUpstream client;
  private final Set<Integer> clientPorts = ConcurrentHashMap.newKeySet();
  private final Map<String, String> lastHeaders = new ConcurrentHashMap<>();
  private final CountDownLatch release = new CountDownLatch(1);

  @BeforeEach
  void start() throws IOException {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.setExecutor(Executors.newCachedThreadPool());
    server.createContext("/v1/echo", ex -> {
      clientPorts.add(ex.getRemoteAddress().getPort());
      lastHeaders.put("authorization", String.valueOf(ex.getRequestHeaders().getFirst("Authorization")));
      lastHeaders.put("host", String.valueOf(ex.getRequestHeaders().getFirst("Host")));
      byte[] body = ex.getRequestBody().readAllBytes();
      ex.getResponseHeaders().add("Content-Type", "application/json");
      ex.getResponseHeaders().add("Retry-After", "7");
      respond(ex, 200, body);
    });
    server.createContext("/v1/slow", ex -> {
      await();
      respond(ex, 200, "{}".getBytes(StandardCharsets.UTF_8));
    });
    server.createContext("/v1/big", ex -> respond(ex, 200, new byte[4096]));
    server.createContext("/v1/close", ex -> {
      ex.getResponseHeaders().add("Connection", "close");
      respond(ex, 503, "{\"error\":{\"message\":\"down\"}}".getBytes(StandardCharsets.UTF_8));
    });
    server.start();
    client = new NettyUpstream(new UpstreamClientSettings(1, 1024, Duration.ofSeconds(60), Duration.ofSeconds(5)));
  }

  @AfterEach
  void stop() {
    release.countDown();
    client.close();
    server.stop(0);
  }

  private void await() {
    try {
      release.await(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static void respond(HttpExchange ex, int status, byte[] body) throws IOException {
    ex.sendResponseHeaders(status, body.length);
    try (OutputStream out = ex.getResponseBody()) {
      out.write(body);
    }
  }

  private Deployment deployment(String baseUrl, Duration firstByte) {
    return new Deployment("d1", "openai", baseUrl, "m", null, 1, 0, Duration.ofSeconds(2), firstByte,
        Duration.ofSeconds(30), 4, 16);
  }

  private String base() {
    return "http://127.0.0.1:" + server.getAddress().getPort() + "/v1";
  }

  private static HttpRequest post(String url, String body) {
    return HttpRequest.create(url).withMethod(HttpMethods.POST)
        .withHeaders(java.util.List.of(RawHeader.create("Authorization", "Bearer up-key")))
        .withEntity(ContentTypes.APPLICATION_JSON, body.getBytes(StandardCharsets.UTF_8));
  }

  /** Sends with 5 s first-byte and total timeouts and waits for the whole answer. */
  private HttpResponse exchange(Deployment d, String path, String body) throws Exception {
    return client.send(d, post(base() + path, body), Duration.ofSeconds(5), Duration.ofSeconds(5))
        .get(10, TimeUnit.SECONDS);
  }

  private static UpstreamFailure failure(CompletableFuture<HttpResponse> f) throws InterruptedException {
    try {
      f.get(10, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      return assertInstanceOf(UpstreamFailure.class, e.getCause());
    } catch (java.util.concurrent.TimeoutException e) {
      throw new AssertionError("no answer within 10 s", e);
    }
    throw new AssertionError("expected a failure");
  }

  @Test
  void send_okResponse_wholeBodyStatusAndHeadersWithTheRequestsHeaders() throws Exception {
    Deployment d = deployment(base(), Duration.ofSeconds(5));
    HttpResponse r = exchange(d, "/echo", "{\"a\":1}");
    assertEquals(200, r.status().intValue());
    HttpEntity.Strict entity = assertInstanceOf(HttpEntity.Strict.class, r.entity());
    assertEquals("{\"a\":1}", entity.getData().utf8String());
    assertEquals(ContentTypes.APPLICATION_JSON, entity.getContentType());
    assertEquals("7", r.getHeader("Retry-After").map(HttpHeader::value).orElse(null));
    assertEquals("Bearer up-key", lastHeaders.get("authorization"));
    assertEquals("127.0.0.1:" + server.getAddress().getPort(), lastHeaders.get("host"));
  }

  @Test
  void send_sequentialRequests_reuseOneKeepAliveConnection() throws Exception {
    Deployment d = deployment(base(), Duration.ofSeconds(5));
    for (int i = 0; i < 5; i++) {
      HttpResponse r = exchange(d, "/echo", "{\"i\":" + i + "}");
      assertEquals(200, r.status().intValue());
    }
    assertEquals(1, clientPorts.size(), "client ports seen: " + clientPorts);
  }

  @Test
  void send_noHeadWithinFirstByte_timeoutFailure() throws Exception {
    Deployment d = deployment(base(), Duration.ofMillis(200));
    UpstreamFailure f = failure(client.send(d, post(base() + "/slow", "{}"), Duration.ofMillis(200),
        Duration.ofSeconds(5)));
    assertEquals(UpstreamFailure.Kind.TIMEOUT, f.kind());
    assertTrue(f.getMessage().contains("no response within 200 ms"), f.getMessage());
  }

  @Test
  void send_totalShorterThanTheAnswer_timeoutFailure() throws Exception {
    Deployment d = deployment(base(), Duration.ofSeconds(5));
    UpstreamFailure f = failure(client.send(d, post(base() + "/slow", "{}"), Duration.ofSeconds(5),
        Duration.ofMillis(200)));
    assertEquals(UpstreamFailure.Kind.TIMEOUT, f.kind());
  }

  @Test
  void send_nothingListening_connectFailure() throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      port = s.getLocalPort();
    }
    String url = "http://127.0.0.1:" + port + "/v1";
    UpstreamFailure f = failure(client.send(deployment(url, Duration.ofSeconds(5)), post(url + "/echo", "{}"),
        Duration.ofSeconds(5), Duration.ofSeconds(5)));
    assertEquals(UpstreamFailure.Kind.CONNECT, f.kind());
  }

  @Test
  void send_responseOverTheLimit_failsInsteadOfBuffering() throws Exception {
    Deployment d = deployment(base(), Duration.ofSeconds(5));
    UpstreamFailure f = failure(client.send(d, post(base() + "/big", "{}"), Duration.ofSeconds(5),
        Duration.ofSeconds(5)));
    assertEquals(UpstreamFailure.Kind.CONNECT, f.kind());
    // The pool is still usable afterwards.
    HttpResponse ok = exchange(d, "/echo", "{}");
    assertEquals(200, ok.status().intValue());
  }

  @Test
  void send_connectionCloseAnswer_passedOnAndNextRequestOnANewConnection() throws Exception {
    Deployment d = deployment(base(), Duration.ofSeconds(5));
    HttpResponse r = exchange(d, "/close", "{}");
    assertEquals(503, r.status().intValue());
    assertTrue(((HttpEntity.Strict) r.entity()).getData().utf8String().contains("down"));
    HttpResponse next = exchange(d, "/echo", "{}");
    assertEquals(200, next.status().intValue());
  }
}
