package io.sluice.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * What a hostile or broken client can send below the level of an HTTP library: malformed
 * credentials (which must never reach the log), broken body framing (400, never 500 or an ERROR
 * line), heads the parser refuses (in the error envelope), and bodies that are not UTF-8 JSON or
 * repeat a key. Raw sockets on 127.0.0.1; the node's whole log is checked when it has stopped.
 */
class HostileClientIT {
  private static MockUpstream mock;
  private static SluiceNode node;
  private static String key;
  private static String secret;

  @BeforeAll
  static void start() {
    mock = MockUpstream.start("hostile");
    node = SluiceNode.start("hostile", Fixtures.models(mock));
    key = Api.tenantWithKey(node, Fixtures.tenant("hostile"), null);
    secret = key.substring(key.lastIndexOf('.') + 1);
  }

  @AfterAll
  static void stop() throws IOException {
    if (node != null) {
      node.close();
      String log = Files.readString(node.log());
      assertFalse(log.contains(secret), "the tenant key's secret appeared in the node log");
      assertFalse(log.contains(SluiceNode.ADMIN_KEY), "the admin key appeared in the node log");
      List<String> errors = log.lines().filter(l -> l.contains(" ERROR ")).toList();
      assertTrue(errors.isEmpty(), "ERROR lines in the node log: " + errors);
    }
    if (mock != null) mock.close();
  }

  private static String chat(String headers, String body) {
    return "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        + headers + "Content-Length: " + body.getBytes(StandardCharsets.UTF_8).length + "\r\n\r\n" + body;
  }

  private static JsonNode assertEnvelope(RawHttp.Reply r, int status) {
    assertEquals(status, r.status(), r.head() + r.body());
    assertNotNull(r.header("Content-Type"), r.head());
    assertTrue(r.header("Content-Type").startsWith("application/json"), r.head());
    JsonNode error = Api.json(r.body()).get("error");
    assertTrue(error != null && error.isObject(), r.body());
    for (String field : new String[] {"message", "type", "param", "code"}) {
      assertTrue(error.has(field), "envelope lacks " + field + ": " + r.body());
    }
    return error;
  }

  // ------------------------------------------------------------------ credentials never logged

  static Stream<Arguments> malformedAuthorization() {
    String k = "%KEY%";
    return Stream.of(
        Arguments.of("token with a space", "Authorization: Bearer " + k + " extra\r\n"),
        Arguments.of("token with a tab", "Authorization: Bearer " + k + "\tmore\r\n"),
        Arguments.of("bad scheme", "Authorization: Token " + k + "\r\n"),
        Arguments.of("no scheme", "Authorization: " + k + "\r\n"),
        Arguments.of("missing token", "Authorization: Bearer\r\nX-Note: " + k + " x\r\n"),
        Arguments.of("two spaces", "Authorization: Bearer  " + k + "\r\n"),
        Arguments.of("quoted token", "Authorization: Bearer \"" + k + "\"\r\n"),
        Arguments.of("control character", "Authorization: Bearer " + k + "\u0001\r\n"),
        Arguments.of("DEL character", "Authorization: Bearer " + k + "\u007f\r\n"),
        Arguments.of("very long", "Authorization: Bearer " + k + "A".repeat(9000) + "\r\n"),
        Arguments.of("non-ASCII (UTF-8)", "Authorization: Bearer " + k + "\u00c3\u00a9\r\n"),
        Arguments.of("non-ASCII (Latin-1)", "Authorization: Bearer " + k + "\u00ff\r\n"),
        Arguments.of("list of tokens", "Authorization: Bearer " + k + ", Bearer " + k + "\r\n"),
        Arguments.of("duplicated header", "Authorization: Bearer " + k + "\r\nAuthorization: Bearer " + k + " x\r\n"),
        Arguments.of("basic with a key", "Authorization: Basic " + k + "\r\n"),
        Arguments.of("digest with a key", "Authorization: Digest username=\"" + k + "\", realm=\r\n"),
        Arguments.of("obsolete line folding", "Authorization: Bearer\r\n " + k + "\r\n"),
        Arguments.of("space before colon", "Authorization : Bearer " + k + "\r\n"),
        Arguments.of("x-api-key with a space", "x-api-key: " + k + " extra\r\n"),
        Arguments.of("x-api-key with a control character", "x-api-key: " + k + "\u0002\r\n"),
        Arguments.of("proxy-authorization", "Proxy-Authorization: Bearer " + k + " x\r\n"));
  }

  @ParameterizedTest(name = "tenant key: {0}")
  @MethodSource("malformedAuthorization")
  void malformedAuthorization_tenantKey_answeredWithoutLoggingIt(String name, String headers) {
    RawHttp.Reply r = RawHttp.exchange(node.port, chat(headers.replace("%KEY%", key), Api.chatBody("gpt-4o-mini", null)));
    assertMalformedAuthAnswer(r);
  }

  @ParameterizedTest(name = "admin key: {0}")
  @MethodSource("malformedAuthorization")
  void malformedAuthorization_adminKey_answeredWithoutLoggingIt(String name, String headers) {
    String body = "{\"id\":\"" + Fixtures.tenant("nope") + "\"}";
    String request = "POST /admin/v1/tenants HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        + headers.replace("%KEY%", SluiceNode.ADMIN_KEY) + "Content-Length: " + body.length() + "\r\n\r\n" + body;
    assertMalformedAuthAnswer(RawHttp.exchange(node.port, request));
  }

  private static void assertMalformedAuthAnswer(RawHttp.Reply r) {
    assertTrue(r.status() == -1 || r.status() < 500, r.head() + r.body());
    if (r.status() >= 400) {
      assertEnvelope(r, r.status());
    }
    assertFalse(r.body().contains(secret) || r.body().contains(SluiceNode.ADMIN_KEY), r.body());
  }

  // ------------------------------------------------------------------ body framing

  static Stream<Arguments> brokenChunking() {
    return Stream.of(
        Arguments.of("chunk size not hex", "zz\r\nabc\r\n0\r\n\r\n"),
        Arguments.of("chunk over 2^31", "80000001\r\n" + "x".repeat(64) + "\r\n"),
        Arguments.of("chunk size overflowing a long", "FFFFFFFFFFFFFFFFFFFFFF\r\n" + "x".repeat(64) + "\r\n"),
        Arguments.of("chunk longer than declared", "3\r\nabcdef\r\n0\r\n\r\n"),
        Arguments.of("chunk over the chunk limit", "200000\r\n" + "x".repeat(64) + "\r\n"));
  }

  @ParameterizedTest(name = "inference: {0}")
  @MethodSource("brokenChunking")
  void brokenChunking_inference_answers400(String name, String chunks) {
    String request = "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        + "Authorization: Bearer " + key + "\r\nTransfer-Encoding: chunked\r\n\r\n" + chunks;
    assertEnvelope(RawHttp.exchange(node.port, request), 400);
  }

  @ParameterizedTest(name = "admin: {0}")
  @MethodSource("brokenChunking")
  void brokenChunking_admin_answers400(String name, String chunks) {
    String request = "POST /admin/v1/tenants HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        + "Authorization: Bearer " + SluiceNode.ADMIN_KEY + "\r\nTransfer-Encoding: chunked\r\n\r\n" + chunks;
    assertEnvelope(RawHttp.exchange(node.port, request), 400);
  }

  @Test
  void clientDropsMidBody_nothingAboveDebugAndTheNodeServesOn() throws IOException {
    for (String path : new String[] {"/v1/chat/completions", "/admin/v1/tenants"}) {
      for (boolean chunked : new boolean[] {false, true}) {
        try (Socket s = new Socket()) {
          s.connect(new InetSocketAddress("127.0.0.1", node.port), 5000);
          OutputStream out = s.getOutputStream();
          String auth = path.startsWith("/admin") ? SluiceNode.ADMIN_KEY : key;
          String framing = chunked ? "Transfer-Encoding: chunked\r\n\r\n400\r\n" : "Content-Length: 4000\r\n\r\n";
          out.write(("POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
              + "Authorization: Bearer " + auth + "\r\n" + framing + "{\"model\":\"gpt-4o-mini\",\"messa")
              .getBytes(StandardCharsets.ISO_8859_1));
          out.flush();
        } // closed mid-body
      }
    }
    // The node is unaffected (the log is checked for ERROR lines when it stops).
    assertEquals(200, Api.chat(node, key, Api.chatBody("gpt-4o-mini", null)).statusCode());
  }

  // ------------------------------------------------------------------ parser refusals

  static Stream<Arguments> parserRefusals() {
    StringBuilder manyHeaders = new StringBuilder();
    for (int i = 0; i < 80; i++) {
      manyHeaders.append("X-H").append(i).append(": v\r\n");
    }
    return Stream.of(
        Arguments.of("URI too long", "GET /v1/models?q=" + "a".repeat(3000) + " HTTP/1.1\r\nHost: x\r\n\r\n", 414),
        Arguments.of("header value too long", "GET /health/live HTTP/1.1\r\nHost: x\r\nX-Big: " + "b".repeat(9000) + "\r\n\r\n", 431),
        Arguments.of("too many headers", "GET /health/live HTTP/1.1\r\nHost: x\r\n" + manyHeaders + "\r\n", 400),
        Arguments.of("unknown method", "FROB /v1/models HTTP/1.1\r\nHost: x\r\n\r\n", 501),
        Arguments.of("unknown method on an Anthropic path", "FROB /v1/messages HTTP/1.1\r\nHost: x\r\n\r\n", 501),
        Arguments.of("illegal header name", "GET /health/live HTTP/1.1\r\nHost: x\r\nBad\u0001Name: v\r\n\r\n", 400));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("parserRefusals")
  void parserRefusal_answersTheErrorEnvelope(String name, String request, int status) {
    JsonNode error = assertEnvelope(RawHttp.exchange(node.port, request), status);
    assertEquals("invalid_request_error", error.get("type").asText());
  }

  // ------------------------------------------------------------------ body encoding and keys

  @Test
  void utf16AndUtf32Bodies_answer400() {
    for (String charset : new String[] {"UTF-16", "UTF-16LE", "UTF-32BE"}) {
      byte[] body = Api.chatBody("gpt-4o-mini", null).getBytes(java.nio.charset.Charset.forName(charset));
      byte[] head = ("POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
          + "Authorization: Bearer " + key + "\r\nContent-Length: " + body.length + "\r\n\r\n")
          .getBytes(StandardCharsets.ISO_8859_1);
      byte[] request = new byte[head.length + body.length];
      System.arraycopy(head, 0, request, 0, head.length);
      System.arraycopy(body, 0, request, head.length, body.length);
      JsonNode error = assertEnvelope(RawHttp.exchange(node.port, request), 400);
      assertEquals("The request body is not valid UTF-8 JSON.", error.get("message").asText(), charset);
    }
  }

  @Test
  void overlongUtf8InAnUnreadField_answers400() {
    byte[] head = Api.chatBody("gpt-4o-mini", "\"user\":\"").getBytes(StandardCharsets.UTF_8);
    byte[] body = new byte[head.length + 4];
    System.arraycopy(head, 0, body, 0, head.length);
    body[head.length] = (byte) 0xC0;
    body[head.length + 1] = (byte) 0xAF;
    body[head.length + 2] = '"';
    body[head.length + 3] = '}';
    byte[] start = ("POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        + "Authorization: Bearer " + key + "\r\nContent-Length: " + body.length + "\r\n\r\n")
        .getBytes(StandardCharsets.ISO_8859_1);
    byte[] request = new byte[start.length + body.length];
    System.arraycopy(start, 0, request, 0, start.length);
    System.arraycopy(body, 0, request, start.length, body.length);
    assertEnvelope(RawHttp.exchange(node.port, request), 400);
  }

  @Test
  void duplicateModelKey_answers400NamingIt() {
    String body = "{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"model\":\"alias\"}";
    JsonNode error = assertEnvelope(RawHttp.exchange(node.port, chat("Authorization: Bearer " + key + "\r\n", body)), 400);
    assertEquals("model", error.get("param").asText());
  }
}
