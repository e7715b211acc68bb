package io.sluice.node.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

class OpenAiErrorTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  private static JsonNode parse(OpenAiError e) throws Exception {
    return JSON.readTree(e.toJson());
  }

  private static List<String> fieldNames(JsonNode node) {
    List<String> names = new java.util.ArrayList<>();
    node.fieldNames().forEachRemaining(names::add);
    return names;
  }

  // ---------------------------------------------------------------- envelope

  @Test
  void toJson_allFields_exactEnvelope() throws Exception {
    JsonNode root = parse(new OpenAiError(400, "bad", "invalid_request_error", "model", "some_code"));
    assertEquals(List.of("error"), fieldNames(root));
    JsonNode error = root.get("error");
    assertEquals(List.of("message", "type", "param", "code"), fieldNames(error));
    assertEquals("bad", error.get("message").asText());
    assertEquals("invalid_request_error", error.get("type").asText());
    assertEquals("model", error.get("param").asText());
    assertEquals("some_code", error.get("code").asText());
  }

  @Test
  void toJson_nullParamAndCode_presentAsJsonNull() throws Exception {
    JsonNode error = parse(new OpenAiError(500, "boom", "server_error", null, null)).get("error");
    assertEquals(List.of("message", "type", "param", "code"), fieldNames(error));
    assertTrue(error.get("param").isNull(), "param must be JSON null, not absent");
    assertTrue(error.get("code").isNull(), "code must be JSON null, not absent");
  }

  @Test
  void toJson_statusNotInBody() throws Exception {
    assertFalse(new String(OpenAiError.invalidRequest("x", null).toJson(), StandardCharsets.UTF_8).contains("400"));
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "say \"hi\"",
      "line1\nline2\r\n",
      "tab\there",
      "back\\slash",
      "</script><script>alert(1)</script>",
      "\u0000\u0001\u001f",
      "unicode \u00e9 \u65e5\u672c \uD83C\uDF89",
      "{\"error\":\"injected\"}",
  })
  void toJson_specialCharacters_escapedAndRoundTrip(String message) throws Exception {
    OpenAiError e = new OpenAiError(400, message, "invalid_request_error", "p\"aram", "c\nd");
    byte[] json = e.toJson();
    String text = new String(json, StandardCharsets.UTF_8);
    assertFalse(text.contains("\n"), "raw newlines must be escaped: " + text);
    JsonNode error = JSON.readTree(json).get("error");
    assertEquals(message, error.get("message").asText());
    assertEquals("p\"aram", error.get("param").asText());
    assertEquals("c\nd", error.get("code").asText());
    assertEquals(List.of("error"), fieldNames(JSON.readTree(json)));
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "plain", "q\"uote", "b\\s", "nl\n", "\u00e9\uD83C\uDF89", "\u0007"})
  void quote_value_isJsonStringLiteral(String value) throws Exception {
    byte[] quoted = OpenAiError.quote(value);
    assertEquals('"', quoted[0]);
    assertEquals('"', quoted[quoted.length - 1]);
    assertEquals(value, JSON.readValue(quoted, String.class));
  }

  // ---------------------------------------------------------------- factories (DESIGN.md section 2)

  static Stream<Arguments> factories() {
    return Stream.of(
        Arguments.of("invalidRequest", (Supplier<OpenAiError>) () -> OpenAiError.invalidRequest("m", "messages"),
            400, "invalid_request_error", null, "messages"),
        Arguments.of("invalidApiKey", (Supplier<OpenAiError>) OpenAiError::invalidApiKey,
            401, "invalid_request_error", "invalid_api_key", null),
        Arguments.of("modelNotAllowed", (Supplier<OpenAiError>) () -> OpenAiError.modelNotAllowed("gpt-4o"),
            403, "invalid_request_error", "model_not_allowed", "model"),
        Arguments.of("modelNotFound", (Supplier<OpenAiError>) () -> OpenAiError.modelNotFound("gpt-9"),
            404, "invalid_request_error", "model_not_found", "model"),
        Arguments.of("notFound", (Supplier<OpenAiError>) () -> OpenAiError.notFound("No such tenant."),
            404, "invalid_request_error", "not_found", null),
        Arguments.of("tooLarge", (Supplier<OpenAiError>) () -> OpenAiError.tooLarge(8 * 1024 * 1024),
            413, "invalid_request_error", "request_too_large", null),
        Arguments.of("upstreamUnavailable", (Supplier<OpenAiError>) () -> OpenAiError.upstreamUnavailable("refused"),
            502, "upstream_error", "upstream_unavailable", null),
        Arguments.of("upstreamBadResponse", (Supplier<OpenAiError>) () -> OpenAiError.upstreamBadResponse("garbled"),
            502, "upstream_error", "upstream_error", null),
        Arguments.of("upstreamTimeout", (Supplier<OpenAiError>) () -> OpenAiError.upstreamTimeout("60 s"),
            504, "upstream_error", "upstream_timeout", null),
        Arguments.of("internal", (Supplier<OpenAiError>) OpenAiError::internal,
            500, "server_error", null, null));
  }

  @ParameterizedTest(name = "[{index}] {0} -> {2} {3} {4}")
  @MethodSource("factories")
  void factory_each_statusTypeCodeParam(String name, Supplier<OpenAiError> factory, int status, String type,
      String code, String param) throws Exception {
    OpenAiError e = factory.get();
    assertEquals(status, e.status());
    assertEquals(type, e.type());
    assertEquals(code, e.code());
    assertEquals(param, e.param());
    assertTrue(e.message() != null && !e.message().isBlank());
    // The envelope carries the same values.
    JsonNode error = parse(e).get("error");
    assertEquals(e.message(), error.get("message").asText());
    assertEquals(type, error.get("type").asText());
    assertEquals(code, error.get("code").isNull() ? null : error.get("code").asText());
    assertEquals(param, error.get("param").isNull() ? null : error.get("param").asText());
  }

  @Test
  void modelNotAllowed_model_namedInMessage() {
    assertTrue(OpenAiError.modelNotAllowed("gpt-4o").message().contains("'gpt-4o'"));
    assertTrue(OpenAiError.modelNotFound("gpt-9").message().contains("'gpt-9'"));
  }

  @Test
  void tooLarge_limit_namedInMessage() {
    assertTrue(OpenAiError.tooLarge(1234).message().contains("1234"));
  }
}
