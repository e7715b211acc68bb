package io.sluice.mock;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.auth.oauth2.AccessToken;
import com.google.auth.oauth2.GoogleCredentials;
import com.google.genai.Client;
import com.google.genai.ResponseStream;
import com.google.genai.errors.ApiException;
import com.google.genai.errors.ClientException;
import com.google.genai.errors.ServerException;
import com.google.genai.types.FinishReason;
import com.google.genai.types.FunctionCall;
import com.google.genai.types.FunctionCallingConfig;
import com.google.genai.types.FunctionCallingConfigMode;
import com.google.genai.types.FunctionDeclaration;
import com.google.genai.types.GenerateContentConfig;
import com.google.genai.types.GenerateContentResponse;
import com.google.genai.types.HttpOptions;
import com.google.genai.types.HttpRetryOptions;
import com.google.genai.types.Tool;
import com.google.genai.types.ToolConfig;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The Gemini mode as the official Google Gen AI Java SDK sees it, on AI Studio's URLs (API key)
 * and on Vertex's (bearer token): every response, stream and error must parse as the SDK parses
 * the real API's.
 */
class GeminiSdkTest {
  private static final String KEY = "AIzaMockKey0123456789abcdefghijklmnopq";
  private static final String MODEL = "gemini-2.5-flash";
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final HttpClient HTTP = HttpClient.newHttpClient();
  private MockLlmServer server;
  private Client client;

  @BeforeEach
  void start() {
    server = MockLlmServer.start(MockSettings.defaults().withPort(0).withApiKey(KEY));
    client = aiStudio(KEY);
  }

  @AfterEach
  void stop() {
    client.close();
    server.close();
  }

  @Test
  void generateContent_text_parsesTextStopAndUsage() throws Exception {
    configure("{\"mock\":{\"tokens\":3,\"usage\":{\"thoughts_tokens\":5,\"cache_read_input_tokens\":2}}}");
    GenerateContentResponse r = client.models.generateContent(MODEL, "12345678",
        GenerateContentConfig.builder().systemInstruction(com.google.genai.types.Content.fromParts(
            com.google.genai.types.Part.fromText("Be terse."))).maxOutputTokens(64).build());

    assertEquals("tok tok tok ", r.text());
    assertEquals(FinishReason.Known.STOP, r.finishReason().knownEnum());
    assertEquals(MODEL, r.modelVersion().orElseThrow());
    var u = r.usageMetadata().orElseThrow();
    assertEquals(7, u.promptTokenCount().orElseThrow()); // (9 + 8) / 4 = 4, + 3 for the one content
    assertEquals(3, u.candidatesTokenCount().orElseThrow());
    assertEquals(5, u.thoughtsTokenCount().orElseThrow());
    assertEquals(2, u.cachedContentTokenCount().orElseThrow());
    JsonNode last = lastRequest();
    assertEquals("/v1/models/" + MODEL + ":generateContent", last.path("path").asText()); // the SDK's default version
    assertEquals(KEY, last.path("x_goog_api_key").asText());
    assertTrue(last.path("summary").asText().contains("contents=1,system=1"), last.toString());
  }

  @Test
  void generateContentStream_text_eachChunkParsesWithRunningUsage() {
    configure("{\"mock\":{\"tokens\":4}}");
    List<GenerateContentResponse> chunks = new ArrayList<>();
    try (ResponseStream<GenerateContentResponse> s = client.models.generateContentStream(MODEL, "hi", null)) {
      s.forEach(chunks::add);
    }
    assertEquals(4, chunks.size());
    StringBuilder text = new StringBuilder();
    chunks.forEach(c -> text.append(c.text()));
    assertEquals("tok tok tok tok ", text.toString());
    assertEquals(List.of(1, 2, 3, 4), chunks.stream()
        .map(c -> c.usageMetadata().orElseThrow().candidatesTokenCount().orElseThrow()).toList());
    assertEquals(FinishReason.Known.STOP, chunks.get(3).finishReason().knownEnum());
    assertTrue(chunks.get(0).candidates().orElseThrow().get(0).finishReason().isEmpty());
    assertEquals("alt=sse", lastRequest().path("query").asText());
  }

  @Test
  void generateContent_forcedFunction_parsesCallWithArgsAndSignature() {
    GenerateContentConfig config = GenerateContentConfig.builder()
        .tools(Tool.builder().functionDeclarations(FunctionDeclaration.builder().name("get_weather")
            .description("Weather").parametersJsonSchema(Map.of("type", "object", "properties",
                Map.of("city", Map.of("type", "string"), "unit", Map.of("type", "string", "enum", List.of("c", "f")))))
            .build()).build())
        .toolConfig(ToolConfig.builder().functionCallingConfig(FunctionCallingConfig.builder()
            .mode(FunctionCallingConfigMode.Known.ANY).allowedFunctionNames("get_weather").build()).build())
        .build();
    GenerateContentResponse r = client.models.generateContent(MODEL, "Weather in Paris?", config);

    List<FunctionCall> calls = r.functionCalls();
    assertEquals(1, calls.size());
    assertEquals("get_weather", calls.get(0).name().orElseThrow());
    assertEquals(Map.of("city", "mock", "unit", "c"), calls.get(0).args().orElseThrow());
    var part = r.candidates().orElseThrow().get(0).content().orElseThrow().parts().orElseThrow().get(0);
    assertTrue(part.thoughtSignature().isPresent(), "the signature parses as bytes (it is valid base64)");
    assertEquals(FinishReason.Known.STOP, r.finishReason().knownEnum());
    assertTrue(lastRequest().path("summary").asText().contains("tools=1,mode=ANY,allowed=get_weather"));
  }

  @Test
  void generateContent_functionResponseTurn_accepted() {
    var call = com.google.genai.types.Part.fromFunctionCall("get_weather", Map.of("city", "Paris"));
    var answer = com.google.genai.types.Part.fromFunctionResponse("get_weather", Map.of("output", "15 C"));
    GenerateContentResponse r = client.models.generateContent(MODEL, List.of(
        com.google.genai.types.Content.builder().role("user").parts(com.google.genai.types.Part.fromText("Weather?"))
            .build(),
        com.google.genai.types.Content.builder().role("model").parts(call).build(),
        com.google.genai.types.Content.builder().role("user").parts(answer).build()), null);
    assertFalse(r.text().isEmpty());
    assertTrue(lastRequest().path("summary").asText().contains("contents=3,system=0,images=0,function_calls=1,"
        + "function_responses=1"), lastRequest().toString());
  }

  @Test
  void generateContent_wrongKey_isClientExceptionWithApiKeyInvalid() {
    try (Client wrong = aiStudio("AIzaWrongKey")) {
      ClientException e = assertThrows(ClientException.class, () -> wrong.models.generateContent(MODEL, "hi", null));
      assertEquals(400, e.code());
      assertEquals("INVALID_ARGUMENT", e.status());
      assertTrue(e.message().contains("API key not valid"), e.message());
    }
  }

  @Test
  void generateContent_statusKnobs_parseAsTheSdksErrors() {
    for (int status : new int[] {429, 403, 404}) {
      configure("{\"mock\":{\"status\":" + status + "}}");
      ClientException e = assertThrows(ClientException.class, () -> client.models.generateContent(MODEL, "hi", null));
      assertEquals(status, e.code());
    }
    configure("{\"mock\":{\"status\":503}}");
    ServerException e = assertThrows(ServerException.class, () -> client.models.generateContent(MODEL, "hi", null));
    assertEquals(503, e.code());
    assertEquals("UNAVAILABLE", e.status());
  }

  @Test
  void generateContentStream_errorMidway_raisesFromTheStream() {
    configure("{\"mock\":{\"tokens\":4,\"error_after_tokens\":2}}");
    List<GenerateContentResponse> chunks = new ArrayList<>();
    ApiException e = assertThrows(ApiException.class, () -> {
      try (ResponseStream<GenerateContentResponse> s = client.models.generateContentStream(MODEL, "hi", null)) {
        s.forEach(chunks::add);
      }
    });
    assertEquals(2, chunks.size());
    assertEquals(503, e.code());
  }

  @Test
  void vertex_bearerToken_projectPathAccepted() {
    GoogleCredentials token = GoogleCredentials.create(new AccessToken(KEY, Date.from(Instant.now().plusSeconds(3600))));
    try (Client vertex = Client.builder().vertexAI(true).project("my-proj").location("us-central1").credentials(token)
        .httpOptions(options()).build()) {
      configure("{\"mock\":{\"tokens\":2}}");
      GenerateContentResponse r = vertex.models.generateContent(MODEL, "hi", null);
      assertEquals("tok tok ", r.text());
      JsonNode last = lastRequest();
      assertEquals("/v1beta1/projects/my-proj/locations/us-central1/publishers/google/models/" + MODEL + ":generateContent",
          last.path("path").asText());
      assertEquals("Bearer " + KEY, last.path("authorization").asText());
    }
  }

  private Client aiStudio(String key) {
    return Client.builder().apiKey(key).vertexAI(false).httpOptions(options()).build();
  }

  private HttpOptions options() {
    return HttpOptions.builder().baseUrl(server.baseUrl()).retryOptions(HttpRetryOptions.builder().attempts(1))
        .build();
  }

  private void configure(String json) {
    send(HttpRequest.newBuilder(URI.create(server.baseUrl() + "/mock/config"))
        .POST(HttpRequest.BodyPublishers.ofString(json)).build());
  }

  private JsonNode lastRequest() {
    try {
      return JSON.readTree(send(HttpRequest.newBuilder(URI.create(server.baseUrl() + "/mock/last-request")).build()));
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private static String send(HttpRequest request) {
    try {
      return HTTP.send(request, HttpResponse.BodyHandlers.ofString()).body();
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
