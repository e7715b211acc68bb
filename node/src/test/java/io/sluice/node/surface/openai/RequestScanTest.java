package io.sluice.node.surface.openai;

import io.sluice.node.inference.TokenCounter;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.node.surface.openai.RequestScan.InvalidRequest;
import io.sluice.node.inference.Operation;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

class RequestScanTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String MESSAGES = "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]";

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static RequestScan chat(String body) throws InvalidRequest {
    return RequestScan.scan(utf8(body), Operation.CHAT);
  }

  // ---------------------------------------------------------------- valid chat requests

  @Test
  void scan_minimalChat_defaults() throws Exception {
    RequestScan s = chat("{\"model\":\"gpt-4o-mini\"," + MESSAGES + "}");
    assertEquals("gpt-4o-mini", s.model());
    assertFalse(s.stream());
    assertFalse(s.includeUsage());
    assertEquals(-1, s.maxTokens());
  }

  @Test
  void scan_streamingChat_extractsAllFields() throws Exception {
    RequestScan s = chat("{" + MESSAGES + ",\"model\":\"gpt-4o\",\"stream\":true,"
        + "\"stream_options\":{\"other\":{\"x\":[1,2]},\"include_usage\":true},\"max_tokens\":256,"
        + "\"temperature\":0.2}");
    assertEquals("gpt-4o", s.model());
    assertTrue(s.stream());
    assertTrue(s.includeUsage());
    assertEquals(256, s.maxTokens());
  }

  @ParameterizedTest(name = "[{index}] {0} -> {1}")
  @CsvSource(delimiter = '|', value = {
      "\"max_tokens\":100                                  | 100",
      "\"max_completion_tokens\":50                        | 50",
      "\"max_tokens\":100,\"max_completion_tokens\":50     | 50",
      "\"max_completion_tokens\":50,\"max_tokens\":100     | 50",
      "\"max_tokens\":0                                    | 0",
      "\"max_tokens\":null                                 | -1",
      "\"max_completion_tokens\":null,\"max_tokens\":7     | 7",
      "\"max_tokens\":99999999                             | 99999999",
  })
  void scan_maxTokensFields_maxCompletionTokensWins(String fields, long expected) throws Exception {
    assertEquals(expected, chat("{\"model\":\"m\"," + MESSAGES + "," + fields + "}").maxTokens());
  }

  @ParameterizedTest(name = "[{index}] {0}")
  @CsvSource(delimiter = '|', value = {
      "\"stream\":false                                     | false | false",
      "\"stream\":null                                      | false | false",
      "\"stream\":true,\"stream_options\":null              | true  | false",
      "\"stream\":true,\"stream_options\":{}                | true  | false",
      "\"stream\":true,\"stream_options\":{\"include_usage\":false} | true | false",
      "\"stream_options\":{\"include_usage\":true},\"stream\":true  | true | true",
  })
  void scan_streamFlags_extracted(String fields, boolean stream, boolean includeUsage) throws Exception {
    RequestScan s = chat("{\"model\":\"m\"," + MESSAGES + "," + fields + "}");
    assertEquals(stream, s.stream());
    assertEquals(includeUsage, s.includeUsage());
  }

  @Test
  void scan_nestedModelFields_onlyTopLevelModelCounts() throws Exception {
    RequestScan s = chat("{\"messages\":[{\"role\":\"user\",\"content\":\"x\",\"model\":\"nested\"}],"
        + "\"metadata\":{\"model\":\"meta\",\"stream\":\"not-a-bool\"},\"model\":\"top\"}");
    assertEquals("top", s.model());
    assertFalse(s.stream());
  }

  @Test
  void scan_modelWithEscapes_decodedName() throws Exception {
    assertEquals("gpt\"4o/é", chat("{\"model\":\"gpt\\\"4o\\/\\u00e9\"," + MESSAGES + "}").model());
  }

  @Test
  void scan_modelOffsets_pointAtQuotedValue() throws Exception {
    String body = "{\"user\":\"日本 🎉\", \"model\" : \"gpt-4o\" ," + MESSAGES + "}";
    RequestScan s = chat(body);
    byte[] bytes = utf8(body);
    assertEquals("\"gpt-4o\"",
        new String(Arrays.copyOfRange(bytes, s.modelStart(), s.modelEnd()), StandardCharsets.UTF_8));
  }

  // ---------------------------------------------------------------- invalid requests

  static Stream<Arguments> invalidChatBodies() {
    String m = "\"model\":\"m\"";
    return Stream.of(
        // not JSON, or not one JSON object
        Arguments.of("empty body", "", null),
        Arguments.of("whitespace only", "   ", null),
        Arguments.of("malformed", "{\"model\":\"m\",", null),
        Arguments.of("malformed inside messages", "{" + m + ",\"messages\":[1,}", null),
        Arguments.of("unquoted field", "{model:\"m\"}", null),
        Arguments.of("top-level array", "[{" + m + "," + MESSAGES + "}]", null),
        Arguments.of("top-level string", "\"hello\"", null),
        Arguments.of("top-level number", "42", null),
        Arguments.of("trailing garbage", "{" + m + "," + MESSAGES + "} x", null),
        Arguments.of("trailing second object", "{" + m + "," + MESSAGES + "}{}", null),
        Arguments.of("trailing second array", "{" + m + "," + MESSAGES + "} []", null),
        Arguments.of("unterminated object", "{" + m + "," + MESSAGES, null),
        // model
        Arguments.of("missing model", "{" + MESSAGES + "}", "model"),
        Arguments.of("empty model", "{\"model\":\"\"," + MESSAGES + "}", "model"),
        Arguments.of("model number", "{\"model\":4," + MESSAGES + "}", "model"),
        Arguments.of("model null", "{\"model\":null," + MESSAGES + "}", "model"),
        Arguments.of("model array", "{\"model\":[\"m\"]," + MESSAGES + "}", "model"),
        Arguments.of("model object", "{\"model\":{\"name\":\"m\"}," + MESSAGES + "}", "model"),
        Arguments.of("only nested model", "{\"messages\":[{\"model\":\"m\"}]}", "model"),
        // messages
        Arguments.of("missing messages", "{" + m + "}", "messages"),
        Arguments.of("messages string", "{" + m + ",\"messages\":\"hi\"}", "messages"),
        Arguments.of("messages object", "{" + m + ",\"messages\":{\"role\":\"user\"}}", "messages"),
        Arguments.of("messages null", "{" + m + ",\"messages\":null}", "messages"),
        Arguments.of("input instead of messages", "{" + m + ",\"input\":\"hi\"}", "messages"),
        // stream
        Arguments.of("stream string", "{" + m + "," + MESSAGES + ",\"stream\":\"true\"}", "stream"),
        Arguments.of("stream number", "{" + m + "," + MESSAGES + ",\"stream\":1}", "stream"),
        Arguments.of("stream_options bool", "{" + m + "," + MESSAGES + ",\"stream_options\":true}",
            "stream_options"),
        Arguments.of("include_usage string",
            "{" + m + "," + MESSAGES + ",\"stream_options\":{\"include_usage\":\"yes\"}}",
            "stream_options.include_usage"),
        // max tokens
        Arguments.of("negative max_tokens", "{" + m + "," + MESSAGES + ",\"max_tokens\":-1}", "max_tokens"),
        Arguments.of("negative max_completion_tokens",
            "{" + m + "," + MESSAGES + ",\"max_completion_tokens\":-5}", "max_completion_tokens"),
        Arguments.of("fractional max_tokens", "{" + m + "," + MESSAGES + ",\"max_tokens\":1.5}", "max_tokens"),
        Arguments.of("string max_tokens", "{" + m + "," + MESSAGES + ",\"max_tokens\":\"10\"}", "max_tokens"),
        Arguments.of("bool max_tokens", "{" + m + "," + MESSAGES + ",\"max_tokens\":true}", "max_tokens"));
  }

  @ParameterizedTest(name = "[{index}] {0} -> param {2}")
  @MethodSource("invalidChatBodies")
  void scan_invalidChatBody_invalidRequest400WithParam(String name, String body, String param) {
    InvalidRequest e = assertThrows(InvalidRequest.class, () -> chat(body));
    assertInvalid(e, param);
  }

  private static void assertInvalid(InvalidRequest e, String param) {
    assertEquals(param, e.param());
    assertTrue(e.getMessage() != null && !e.getMessage().isBlank());
  }

  // ---------------------------------------------------------------- embeddings

  @ParameterizedTest
  @ValueSource(strings = {
      "\"input\":\"hello\"",
      "\"input\":[\"a\",\"b\"]",
      "\"input\":[[1,2,3]]",
      "\"input\":[]",
  })
  void scan_embeddingsInputStringOrArray_accepted(String input) throws Exception {
    RequestScan s = RequestScan.scan(utf8("{\"model\":\"text-embedding-3-small\"," + input + "}"),
        Operation.EMBEDDINGS);
    assertEquals("text-embedding-3-small", s.model());
  }

  @ParameterizedTest(name = "[{index}] {0}")
  @ValueSource(strings = {
      "{\"model\":\"e\",\"input\":42}",
      "{\"model\":\"e\",\"input\":null}",
      "{\"model\":\"e\",\"input\":{\"text\":\"x\"}}",
      "{\"model\":\"e\",\"input\":true}",
      "{\"model\":\"e\"}",
      "{\"model\":\"e\"," + MESSAGES + "}",
  })
  void scan_embeddingsInputNotStringOrArray_invalidRequestOnInput(String body) {
    InvalidRequest e = assertThrows(InvalidRequest.class,
        () -> RequestScan.scan(utf8(body), Operation.EMBEDDINGS));
    assertInvalid(e, "input");
  }


  // ---------------------------------------------------------------- withModel

  static List<String> withModelBodies() {
    return List.of(
        // model first; unicode and escaped quotes in other fields
        "{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":\"h\u00e9llo \\\"quoted\\\" \u2713 \uD83C\uDF89\"}],"
            + "\"temperature\":0.5}",
        // model in the middle, after multi-byte text and before nested objects that name "model"
        "{\"user\":\"\u65e5\u672c\u8a9e \uD83C\uDF89\",\"messages\":[{\"role\":\"system\",\"content\":\"a\\nb\\\\\"}],"
            + "\"model\":\"gpt-4o\",\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\","
            + "\"parameters\":{\"type\":\"object\",\"properties\":{\"model\":{\"type\":\"string\"}}}}}],\"n\":1}",
        // model last, pretty-printed with whitespace around the colon
        "{\n  \"messages\": [ {\"role\": \"user\", \"content\": \"\\u0041 \\\"model\\\": \\\"x\\\"\"} ],\n"
            + "  \"metadata\": {\"model\": \"nested\"},\n  \"stream\": true,\n  \"model\" :  \"gpt-4o\"\n}",
        // the model value itself written with escapes
        "{\"messages\":[],\"model\":\"gpt\\\"4o\\u00e9\",\"max_tokens\":12}");
  }

  static Stream<Arguments> withModelCases() {
    List<String> names = List.of(
        "upstream-model",
        "m",
        "a-much-longer-upstream-model-name-than-the-original-one",
        "we\"ird\\name/with\ttab",
        "\u6a21\u578b-\u00fcn\u00ef \uD83D\uDE80",
        "line\nbreak");
    return withModelBodies().stream().flatMap(b -> names.stream().map(n -> Arguments.of(b, n)));
  }

  @ParameterizedTest(name = "[{index}] -> {1}")
  @MethodSource("withModelCases")
  void withModel_otherName_replacesOnlyModelValue(String body, String upstream) throws Exception {
    byte[] in = utf8(body);
    byte[] before = in.clone();
    RequestScan scan = RequestScan.scan(in, Operation.CHAT);

    byte[] out = scan.withModel(in, upstream);

    assertArrayEquals(before, in, "the client's body must not be modified");
    // Same JSON as the original with only the top-level model changed.
    JsonNode expected = JSON.readTree(in);
    ((ObjectNode) expected).put("model", upstream);
    assertEquals(expected, JSON.readTree(out));
    // Every byte outside the model value is untouched.
    int start = scan.modelStart();
    int tail = in.length - scan.modelEnd();
    assertArrayEquals(Arrays.copyOfRange(in, 0, start), Arrays.copyOfRange(out, 0, start), "prefix changed");
    assertArrayEquals(Arrays.copyOfRange(in, scan.modelEnd(), in.length),
        Arrays.copyOfRange(out, out.length - tail, out.length), "suffix changed");
    // The new value is a well-formed JSON string of exactly the upstream name.
    byte[] value = Arrays.copyOfRange(out, start, out.length - tail);
    assertEquals(upstream, JSON.readValue(value, String.class));
    // And the rewritten body scans again, to the new name.
    assertEquals(upstream, RequestScan.scan(out, Operation.CHAT).model());
  }

  @ParameterizedTest
  @MethodSource("withModelBodies")
  void withModel_sameName_returnsSameArray(String body) throws Exception {
    byte[] in = utf8(body);
    RequestScan scan = RequestScan.scan(in, Operation.CHAT);
    assertSame(in, scan.withModel(in, scan.model()));
  }

  @Test
  void withModel_otherName_returnsNewArray() throws Exception {
    byte[] in = utf8("{\"model\":\"a\"," + MESSAGES + "}");
    RequestScan scan = RequestScan.scan(in, Operation.CHAT);
    byte[] out = scan.withModel(in, "b");
    assertNotSame(in, out);
    assertEquals("{\"model\":\"b\"," + MESSAGES + "}", new String(out, StandardCharsets.UTF_8));
  }

  // ---------------------------------------------------------------- encoding

  @ParameterizedTest(name = "[{index}] {0}")
  @ValueSource(strings = {"c0 af", "e0 80 af", "ed a0 80", "ed bf bf", "f4 90 80 80", "f8 88 80 80 80", "c3", "80", "ff"})
  void scan_illFormedUtf8InASkippedField_refused(String hex) {
    byte[] bad = java.util.HexFormat.of().parseHex(hex.replace(" ", ""));
    byte[] head = utf8("{\"model\":\"m\"," + MESSAGES + ",\"user\":\"");
    byte[] tail = utf8("\"}");
    byte[] body = new byte[head.length + bad.length + tail.length];
    System.arraycopy(head, 0, body, 0, head.length);
    System.arraycopy(bad, 0, body, head.length, bad.length);
    System.arraycopy(tail, 0, body, head.length + bad.length, tail.length);
    InvalidRequest e = assertThrows(InvalidRequest.class, () -> RequestScan.scan(body, Operation.CHAT), hex);
    assertEquals("The request body is not valid UTF-8 JSON.", e.getMessage());
  }

  @ParameterizedTest(name = "[{index}] {0}")
  @ValueSource(strings = {"UTF-16", "UTF-16LE", "UTF-16BE", "UTF-32", "UTF-32LE", "UTF-32BE"})
  void scan_utf16OrUtf32Body_refused(String charset) {
    byte[] body = ("{\"model\":\"m\"," + MESSAGES + "}").getBytes(java.nio.charset.Charset.forName(charset));
    InvalidRequest e = assertThrows(InvalidRequest.class, () -> RequestScan.scan(body, Operation.CHAT), charset);
    assertEquals("The request body is not valid UTF-8 JSON.", e.getMessage());
  }

  @Test
  void scan_wellFormedMultiByteText_accepted() throws Exception {
    RequestScan s = chat("{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"κόσμε € 😀 \\u0000\"}]}");
    assertEquals("m", s.model());
  }

  // ---------------------------------------------------------------- duplicate keys

  @ParameterizedTest(name = "[{index}] {1} in {0}")
  @CsvSource(delimiter = '|', value = {
      "{\"model\":\"allowed\",MSG,\"model\":\"forbidden\"}                          | model",
      "{\"model\":\"m\",MSG,\"max_tokens\":1,\"max_tokens\":100000}                  | max_tokens",
      "{\"model\":\"m\",MSG,\"stream\":false,\"stream\":true}                         | stream",
      "{\"model\":\"m\",MSG,\"messages\":[]}                                           | messages",
      "{\"model\":\"m\",MSG,\"stream_options\":{\"include_usage\":true,\"include_usage\":false}} | include_usage",
      "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"role\":\"system\",\"content\":\"x\"}]} | role",
      "{\"model\":\"m\",MSG,\"tools\":[{\"a\":{\"b\":1,\"c\":2,\"d\":3,\"b\":4}}]}   | b",
      "{\"model\":\"m\",MSG,\"x\":1,\"y\":2,\"z\":3,\"w\":4,\"x\":5}                 | x",
  })
  void scan_duplicateKeyAnywhere_refusedNamingTheKey(String template, String key) {
    String body = template.replace("MSG", MESSAGES);
    for (TokenCounterCase c : TokenCounterCase.values()) {
      InvalidRequest e = assertThrows(InvalidRequest.class,
          () -> RequestScan.scan(utf8(body), Operation.CHAT, c.counter), body);
      assertEquals(key, e.param(), body);
      assertTrue(e.getMessage().contains("'" + key + "'"), e.getMessage());
    }
  }

  @Test
  void scan_sameKeyInSiblingObjects_accepted() throws Exception {
    RequestScan s = chat("{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"a\"},"
        + "{\"role\":\"user\",\"content\":\"b\"}],\"meta\":{\"model\":\"x\"}}");
    assertEquals("m", s.model());
  }

  /** The scan takes two paths through a body (counted or skipped); both must see duplicates. */
  private enum TokenCounterCase {
    SKIPPED(RequestScan.NO_COUNT),
    COUNTED(String::length);

    final TokenCounter counter;

    TokenCounterCase(TokenCounter counter) {
      this.counter = counter;
    }
  }

  @Test
  void withModel_resultIsValidJson() throws IOException, InvalidRequest {
    byte[] in = utf8("{\"model\":\"a\"," + MESSAGES + "}");
    byte[] out = RequestScan.scan(in, Operation.CHAT).withModel(in, "\u0000\u001f\"\\");
    assertEquals("\u0000\u001f\"\\", JSON.readTree(out).get("model").asText());
  }

  // ---------------------------------------------------------------- legacy completions

  @ParameterizedTest
  @ValueSource(strings = {"\"prompt\":\"Say hi\"", "\"prompt\":[\"a\",\"b\"]", "\"prompt\":[1,2,3]"})
  void scan_completionsPromptStringOrArray_accepted(String prompt) throws Exception {
    RequestScan s = RequestScan.scan(utf8("{\"model\":\"gpt-3.5-turbo-instruct\"," + prompt + ",\"max_tokens\":7}"),
        Operation.COMPLETIONS);
    assertEquals("gpt-3.5-turbo-instruct", s.model());
    assertEquals(7, s.maxTokens());
  }

  @ParameterizedTest(name = "[{index}] {0}")
  @ValueSource(strings = {"{\"model\":\"m\",\"prompt\":42}", "{\"model\":\"m\",\"prompt\":{}}", "{\"model\":\"m\"}",
      "{\"model\":\"m\"," + MESSAGES + "}"})
  void scan_completionsWithoutPromptOrOfWrongType_invalidRequestOnPrompt(String body) {
    InvalidRequest e = assertThrows(InvalidRequest.class, () -> RequestScan.scan(utf8(body), Operation.COMPLETIONS));
    assertInvalid(e, "prompt");
  }

  @Test
  void countPrompt_completions_countsThePromptText() {
    byte[] body = utf8("{\"model\":\"m\",\"prompt\":\"one two three\"}");
    assertEquals(3, RequestScan.countPrompt(body, Operation.COMPLETIONS, text -> text.split(" ").length));
  }
}
