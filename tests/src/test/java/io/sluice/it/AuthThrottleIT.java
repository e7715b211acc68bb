package io.sluice.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Failed authentication is throttled per client address: after {@code burst} 401s from 127.0.0.1
 * every request from it that needs a key gets 429 with Retry-After, a valid key and the admin key
 * included (the throttle is by address, checked before any key is looked at), while a client at
 * another address (127.0.0.2) is unaffected. Both are counted in /metrics.
 */
class AuthThrottleIT {
  private static final int BURST = 3;
  private static MockUpstream mock;
  private static SluiceNode node;

  @BeforeAll
  static void start() {
    mock = MockUpstream.start("auth-throttle");
    // one token a minute: nothing refills while the test runs
    node = SluiceNode.start("auth-throttle", Fixtures.models(mock)
        + "\nsluice.http.auth-failures { burst = " + BURST + ", refill-per-minute = 1 }\n");
  }

  @AfterAll
  static void stop() {
    if (node != null) node.close();
    if (mock != null) mock.close();
  }

  @Test
  void badKeys_pastTheBurst_answer429ForThatAddressOnly() {
    String good = Api.tenantWithKey(node, Fixtures.tenant("throttle"), null);
    String chat = Api.chatBody("gpt-4o-mini", null);
    assertEquals(200, Api.chat(node, good, chat).statusCode());

    for (int i = 0; i < BURST; i++) {
      ErrorsIT.assertEnvelope(Api.chat(node, "sk-sluice.nobody.guess" + i, chat), 401);
    }
    HttpResponse<String> throttled = Api.chat(node, "sk-sluice.nobody.guess-more", chat);
    ErrorsIT.assertEnvelope(throttled, 429);
    assertEquals("auth_rate_limited", Api.json(throttled.body()).at("/error/code").asText(), throttled.body());
    long retryAfter = Long.parseLong(throttled.headers().firstValue("Retry-After").orElseThrow());
    assertTrue(retryAfter >= 1 && retryAfter <= 60, "Retry-After " + retryAfter);

    // The same address with a valid key, on the inference path and the admin API: throttled too.
    ErrorsIT.assertEnvelope(Api.chat(node, good, chat), 429);
    ErrorsIT.assertEnvelope(Api.admin(node, "GET", "/admin/v1/deployments", null), 429);
    HttpResponse<String> anthropic = Api.send("POST", node.url("/v1/messages"), Map.of("x-api-key", good,
        "anthropic-version", "2023-06-01"), "{\"model\":\"gpt-4o-mini\",\"max_tokens\":5,"
        + "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
    assertEquals(429, anthropic.statusCode(), anthropic.body());
    // Anthropic's envelope on its surface
    assertEquals("error", Api.json(anthropic.body()).get("type").asText(), anthropic.body());
    assertEquals("rate_limit_error", Api.json(anthropic.body()).at("/error/type").asText(), anthropic.body());
    assertTrue(anthropic.headers().firstValue("Retry-After").isPresent());

    // Another address is not affected by 127.0.0.1's guessing.
    RawHttp.Reply other = fromOtherAddress("POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        + "Authorization: Bearer " + good + "\r\nContent-Type: application/json\r\nContent-Length: "
        + chat.getBytes(StandardCharsets.UTF_8).length + "\r\nConnection: close\r\n\r\n" + chat);
    assertEquals(200, other.status(), other.head() + other.body());

    String metrics = Api.send("GET", node.url("/metrics"), Map.of(), null).body();
    assertTrue(metrics.contains("sluice_auth_failures_total{outcome=\"rejected\"} " + BURST + ".0"), metrics);
    assertTrue(metrics.matches("(?s).*sluice_auth_failures_total\\{outcome=\"throttled\"} [1-9].*"), metrics);
  }

  /** One request over a socket whose local address is 127.0.0.2 (all of 127/8 is loopback). */
  private static RawHttp.Reply fromOtherAddress(String request) {
    try (Socket s = new Socket()) {
      s.bind(new InetSocketAddress("127.0.0.2", 0));
      s.connect(new InetSocketAddress("127.0.0.1", node.port), 5000);
      s.setSoTimeout(10_000);
      s.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
      s.getOutputStream().flush();
      return RawHttp.read(s.getInputStream());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
