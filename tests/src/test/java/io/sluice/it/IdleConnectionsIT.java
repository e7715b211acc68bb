package io.sluice.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * 2,000 TCP connections that send nothing (more than Pekko HTTP's default max-connections of
 * 1,024) leave inference and /health/* answering, and are closed by the request-head timeout, as
 * are a connection idle after its request and one that sends its head too slowly. Needs ~2,100 file
 * descriptors in this JVM and in the node (ulimit -n).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class IdleConnectionsIT {
  private static final int IDLE = 2000;
  /** Long enough for the first test to finish while the idle connections are still open. */
  private static final Duration HEAD_TIMEOUT = Duration.ofSeconds(30);

  private static MockUpstream mock;
  private static SluiceNode node;
  private static String key;
  private static final List<SocketChannel> idle = new ArrayList<>();
  private static SocketChannel afterRequest;
  private static SocketChannel slowHead;

  @BeforeAll
  static void start() {
    mock = MockUpstream.start("idle");
    node = SluiceNode.start("idle", Fixtures.models(mock)
        + "\nsluice.http.request-head-timeout = " + HEAD_TIMEOUT.toSeconds() + "s\n");
    key = Api.tenantWithKey(node, Fixtures.tenant("idle"), null);
  }

  @AfterAll
  static void stop() {
    for (SocketChannel c : idle) {
      close(c);
    }
    close(afterRequest);
    close(slowHead);
    if (node != null) node.close();
    if (mock != null) mock.close();
  }

  @Test
  @Order(1)
  void twoThousandIdleConnections_normalTrafficAndHealthStillAnswer() throws IOException {
    long opened = System.nanoTime();
    for (int i = 0; i < IDLE; i++) {
      idle.add(connect());
    }
    // A connection that makes one request and then stays idle, and one whose head never ends.
    afterRequest = connect();
    write(afterRequest, "GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n");
    slowHead = connect();
    write(slowHead, "GET /health/live HTTP/1.1\r\nHost: x\r\n");
    // The server has accepted (not just queued) the idle connections: a request after all of them
    // is answered, which the accept loop only reaches once it took the earlier ones.
    for (int i = 0; i < 20; i++) {
      assertEquals(200, Api.status("GET", node.url("/health/live")), "health/live with " + IDLE + " idle connections");
      assertEquals(200, Api.status("GET", node.url("/health/ready")), "health/ready with " + IDLE + " idle connections");
      assertEquals(200, Api.chat(node, key, Api.chatBody("gpt-4o-mini", null)).statusCode(), "chat with idle connections");
    }
    assertTrue(Duration.ofNanos(System.nanoTime() - opened).compareTo(HEAD_TIMEOUT) < 0,
        "the traffic was not served within the head timeout, so the idle connections may have gone already");
    int open = 0;
    for (SocketChannel c : idle) {
      open += state(c) == 0 ? 1 : 0;
    }
    assertEquals(IDLE, open, "idle connections still open while the traffic was served");
  }

  @Test
  @Order(2)
  void idleConnections_closedByTheRequestHeadTimeout() {
    assertTrue(!idle.isEmpty(), "runs after the first test");
    await("idle connections closed").atMost(HEAD_TIMEOUT.multipliedBy(2)).pollInterval(Duration.ofMillis(500))
        .until(() -> idle.stream().allMatch(c -> state(c) != 0));
    await("a connection idle after its request closed").atMost(Duration.ofSeconds(10))
        .until(() -> drainThenState(afterRequest) != 0);
    await("a connection with an unfinished head closed").atMost(Duration.ofSeconds(10))
        .until(() -> drainThenState(slowHead) != 0);
    assertEquals(200, Api.status("GET", node.url("/health/live")));
  }

  private static SocketChannel connect() throws IOException {
    SocketChannel c = SocketChannel.open();
    c.socket().connect(new InetSocketAddress("127.0.0.1", node.port), 5000);
    c.configureBlocking(false);
    return c;
  }

  private static void write(SocketChannel c, String s) throws IOException {
    ByteBuffer b = ByteBuffer.wrap(s.getBytes(StandardCharsets.ISO_8859_1));
    while (b.hasRemaining()) {
      c.write(b);
    }
  }

  /** 0 while open and silent, -1 once the server closed it, 1 when it sent bytes. */
  private static int state(SocketChannel c) {
    try {
      int n = c.read(ByteBuffer.allocate(1));
      return n < 0 ? -1 : n == 0 ? 0 : 1;
    } catch (IOException e) {
      return -1; // reset
    }
  }

  /** Reads whatever the server sent (a response), then 0 while open, -1 once closed. */
  private static int drainThenState(SocketChannel c) {
    try {
      ByteBuffer b = ByteBuffer.allocate(4096);
      int n;
      while ((n = c.read(b)) > 0) {
        b.clear();
      }
      return n < 0 ? -1 : 0;
    } catch (IOException e) {
      return -1;
    }
  }

  private static void close(SocketChannel c) {
    if (c == null) return;
    try {
      c.close();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
