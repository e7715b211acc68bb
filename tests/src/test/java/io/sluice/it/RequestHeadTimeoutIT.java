package io.sluice.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The request-head timeout bounds only the wait for a request head: with a 1 s timeout, a stream
 * and a slow whole answer that both take several times longer arrive complete, and a kept-alive
 * connection is reused across requests.
 */
class RequestHeadTimeoutIT {
  private static MockUpstream mock;
  private static SluiceNode node;
  private static String key;

  @BeforeAll
  static void start() {
    mock = MockUpstream.start("head-timeout");
    node = SluiceNode.start("head-timeout", Fixtures.models(mock) + "\nsluice.http.request-head-timeout = 1s\n");
    key = Api.tenantWithKey(node, Fixtures.tenant("head"), null);
  }

  @AfterAll
  static void stop() {
    if (node != null) node.close();
    if (mock != null) mock.close();
  }

  @Test
  void streamLongerThanTheTimeout_arrivesComplete() {
    long start = System.nanoTime();
    HttpResponse<String> r = Api.chat(node, key, Api.chatBody("gpt-4o-mini",
        "\"stream\":true,\"mock\":{\"tokens\":40,\"inter_token_ms\":100}"));
    assertEquals(200, r.statusCode(), r.body());
    assertTrue(r.body().contains("data: [DONE]"), r.body());
    assertTrue(Duration.ofNanos(System.nanoTime() - start).toMillis() >= 3000, "the stream was shorter than intended");
  }

  @Test
  void wholeAnswerSlowerThanTheTimeout_arrives() {
    HttpResponse<String> r = Api.chat(node, key, Api.chatBody("gpt-4o-mini", "\"mock\":{\"latency_ms\":2500}"));
    assertEquals(200, r.statusCode(), r.body());
  }

  @Test
  void requestsInQuickSuccession_allAnswered() {
    for (int i = 0; i < 20; i++) {
      assertEquals(200, Api.chat(node, key, Api.chatBody("gpt-4o-mini", null)).statusCode());
    }
  }
}
