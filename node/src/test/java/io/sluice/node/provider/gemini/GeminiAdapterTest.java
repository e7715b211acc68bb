package io.sluice.node.provider.gemini;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.auth.oauth2.AccessToken;
import io.sluice.node.inference.Call;
import io.sluice.node.inference.ClientBody;
import io.sluice.node.inference.Operation;
import io.sluice.node.inference.Protocol;
import io.sluice.node.inference.chat.ChatRequest;
import io.sluice.node.inference.chat.InvalidChat;
import io.sluice.node.inference.chat.Message;
import io.sluice.node.inference.chat.Part;
import io.sluice.node.inference.chat.ToolChoice;
import io.sluice.node.routing.Deployment;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class GeminiAdapterTest {

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
      "AI Studio            | https://generativelanguage.googleapis.com |             |             | https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash",
      "Vertex, a region     |                                           | my-proj     | europe-west4 | https://europe-west4-aiplatform.googleapis.com/v1/projects/my-proj/locations/europe-west4/publishers/google/models/gemini-2.5-flash",
      "Vertex, global       |                                           | my-proj     | global      | https://aiplatform.googleapis.com/v1/projects/my-proj/locations/global/publishers/google/models/gemini-2.5-flash",
      "Vertex, project only |                                           | my-proj     |             | https://aiplatform.googleapis.com/v1/projects/my-proj/locations/global/publishers/google/models/gemini-2.5-flash",
      "Vertex express mode  |                                           |             | global      | https://aiplatform.googleapis.com/v1/publishers/google/models/gemini-2.5-flash",
      "Vertex on a mock     | http://127.0.0.1:9999                     | my-proj     | us-central1 | http://127.0.0.1:9999/v1/projects/my-proj/locations/us-central1/publishers/google/models/gemini-2.5-flash"})
  void request_deploymentOptions_selectUrlScheme(String name, String baseUrl, String project, String location,
      String prefix) throws Exception {
    Map<String, String> options = new java.util.HashMap<>();
    if (project != null) {
      options.put("vertex-project", project);
    }
    if (location != null) {
      options.put("vertex-location", location);
    }
    Deployment d = deployment(baseUrl == null ? GeminiAdapter.defaultBaseUrl(options) : baseUrl, options);
    GeminiAdapter adapter = new GeminiAdapter();
    assertEquals(prefix + ":generateContent", adapter.request(d, call(false)).getUri().toString());
    assertEquals(prefix + ":streamGenerateContent?alt=sse", adapter.request(d, call(true)).getUri().toString());
  }

  @Test
  void request_apiKey_sentAsGoogApiKeyHeaderOnly() throws Exception {
    HttpRequest r = new GeminiAdapter().request(deployment(GeminiAdapter.AI_STUDIO, Map.of()), call(false));
    assertEquals(Optional.of("AIzaTestKey"), r.getHeader("x-goog-api-key").map(HttpHeader::value));
    assertFalse(r.getHeader("authorization").isPresent());
    assertFalse(r.getUri().toString().contains("key="), "the key never goes in the URL, which is logged");
  }

  @Test
  void request_serviceAccount_sentAsCachedBearer() throws Exception {
    Deployment d = deployment("https://aiplatform.googleapis.com", Map.of("vertex-project", "p"));
    int[] fetches = {0};
    AccessTokens tokens = new AccessTokens(d.name(), () -> {
      fetches[0]++;
      return new AccessToken("ya29.token" + fetches[0], Date.from(Instant.now().plus(Duration.ofHours(1))));
    }, InstantSource.system(), Duration.ofMinutes(5));
    tokens.refreshIfDue();
    GeminiAdapter adapter = new GeminiAdapter(Map.of(d.name(), tokens));
    HttpRequest first = adapter.request(d, call(false));
    HttpRequest second = adapter.request(d, call(true));
    assertEquals(Optional.of("Bearer ya29.token1"), first.getHeader("authorization").map(HttpHeader::value));
    assertEquals(Optional.of("Bearer ya29.token1"), second.getHeader("authorization").map(HttpHeader::value));
    assertFalse(first.getHeader("x-goog-api-key").isPresent());
    assertEquals(1, fetches[0], "the request path reads the cached token");
  }

  @Test
  void request_embeddings_refusedClearly() {
    InvalidChat e = assertThrows(InvalidChat.class,
        () -> new GeminiAdapter().request(deployment(GeminiAdapter.AI_STUDIO, Map.of()), call(Operation.EMBEDDINGS)));
    assertTrue(e.getMessage().contains("embeddings"), e.getMessage());
  }

  @Test
  void request_body_isTheEncodedNeutralRequest() throws Exception {
    HttpRequest r = new GeminiAdapter().request(deployment(GeminiAdapter.AI_STUDIO, Map.of()), call(false));
    String body = ((org.apache.pekko.http.javadsl.model.HttpEntity.Strict) r.entity()).getData().utf8String();
    assertTrue(body.contains("\"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":\"hi\"}]}]"), body);
  }

  @Test
  void tap_never_throwsSayingWhy() {
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> new GeminiAdapter().tap(true));
    assertTrue(e.getMessage().contains("no client surface speaks Gemini"), e.getMessage());
  }

  @Test
  void protocol_isGemini() {
    assertEquals(Protocol.GEMINI, new GeminiAdapter().protocol());
    assertEquals("gemini", new GeminiAdapter().provider());
  }

  static Deployment deployment(String baseUrl, Map<String, String> options) {
    return new Deployment("g1", "gemini", baseUrl, "gemini-2.5-flash", "AIzaTestKey", 1, 0, Duration.ofSeconds(1),
        Duration.ofSeconds(5), Duration.ofSeconds(30), 4, 16, 0, null, options);
  }

  static Call call(boolean stream) {
    return call(Operation.CHAT, stream);
  }

  static Call call(Operation op) {
    return call(op, false);
  }

  static Call call(Operation op, boolean stream) {
    ChatRequest chat = new ChatRequest("client-alias", List.of(),
        List.of(new Message(Message.Role.USER, List.of(new Part.Text("hi")))), List.of(), ToolChoice.AUTO, -1, null,
        null, List.of(), stream, stream);
    ClientBody body = new ClientBody() {
      @Override public Protocol protocol() { return Protocol.OPENAI; }
      @Override public Operation operation() { return op; }
      @Override public String model() { return "client-alias"; }
      @Override public boolean stream() { return stream; }
      @Override public boolean includeUsage() { return stream; }
      @Override public long maxTokens() { return -1; }
      @Override public long promptTokens() { return 1; }
      @Override public byte[] passthrough(String upstreamModel) { throw new AssertionError("never passed through"); }
      @Override public ChatRequest chat() { return chat; }
    };
    return new Call(body, name -> null);
  }
}
