package io.sluice.node.surface.openai;

import io.sluice.node.api.OpenAiError;
import io.sluice.node.inference.TokenCounter;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.node.surface.openai.RequestScan.InvalidRequest;
import io.sluice.node.inference.Operation;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

/** The quota-related parts of {@link RequestScan}: prompt token counting and the upstream body. */
class RequestScanUpstreamTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  /** A fake tokenizer: one token per character, so expectations are easy to count. */
  private static final TokenCounter CHARS = String::length;
  private static final String USAGE_ON = "{\"include_usage\":true}";

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static long chatTokens(String messages) throws InvalidRequest {
    return RequestScan.scan(utf8("{\"model\":\"m\",\"messages\":" + messages + "}"), Operation.CHAT, CHARS)
        .promptTokens();
  }

  private static long embeddingTokens(String input) throws InvalidRequest {
    return RequestScan.scan(utf8("{\"model\":\"m\",\"input\":" + input + "}"), Operation.EMBEDDINGS, CHARS)
        .promptTokens();
  }

  // ---------------------------------------------------------------- prompt tokens: chat

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
      // reply priming 3 + per message 3 + text
      "empty                | []                                                              | 3",
      "one string           | [{\"role\":\"user\",\"content\":\"hello\"}]                     | 11",
      "content before role  | [{\"content\":\"hello\",\"role\":\"user\"}]                     | 11",
      "two messages         | [{\"role\":\"system\",\"content\":\"abc\"},{\"role\":\"user\",\"content\":\"hello\"}] | 17",
      "name adds 1 + name   | [{\"role\":\"user\",\"name\":\"bob\",\"content\":\"hi\"}]       | 12",
      "non-string name      | [{\"role\":\"user\",\"name\":7,\"content\":\"hi\"}]             | 8",
      "empty content        | [{\"role\":\"user\",\"content\":\"\"}]                          | 6",
      "null content         | [{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"id\":\"c\",\"type\":\"function\",\"function\":{\"name\":\"f\",\"arguments\":\"{}\"}}]}] | 6",
      "no content           | [{\"role\":\"user\"}]                                           | 6",
      "numeric content      | [{\"role\":\"user\",\"content\":42}]                            | 6",
      "object content       | [{\"role\":\"user\",\"content\":{\"text\":\"zzzz\"}}]           | 6",
      "text parts           | [{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"ab\"},{\"type\":\"text\",\"text\":\"cde\"}]}] | 11",
      "image part skipped   | [{\"role\":\"user\",\"content\":[{\"type\":\"image_url\",\"image_url\":{\"url\":\"https://x/y.png\",\"detail\":\"low\"}},{\"type\":\"text\",\"text\":\"ab\"}]}] | 8",
      "nested text skipped  | [{\"role\":\"user\",\"content\":[{\"type\":\"input_audio\",\"input_audio\":{\"text\":\"zzzz\",\"data\":\"AAAA\"}}]}] | 6",
      "non-object parts     | [{\"role\":\"user\",\"content\":[\"loose\",1,null,[\"x\"]]}]    | 6",
      "non-string text      | [{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":5}]}] | 6",
      "non-object messages  | [\"hello\",42,null,[{\"content\":\"nested\"}]]                  | 3",
      "other fields skipped | [{\"role\":\"user\",\"content\":\"hi\",\"metadata\":{\"content\":\"zzzz\",\"name\":\"zzzz\"}}] | 8",
  })
  void promptTokens_chatMessages_textsPlusOverhead(String name, String messages, long expected)
      throws InvalidRequest {
    assertEquals(expected, chatTokens(messages.trim()));
  }

  @Test
  void promptTokens_chat_counterSeesExactlyTheTexts() throws InvalidRequest {
    List<String> seen = new ArrayList<>();
    TokenCounter recording = text -> {
      seen.add(text);
      return 1;
    };
    String body = "{\"model\":\"m\",\"temperature\":0.5,\"messages\":["
        + "{\"role\":\"system\",\"content\":\"Be brief.\"},"
        + "{\"role\":\"user\",\"name\":\"b\\u00f6b\",\"content\":[{\"type\":\"text\",\"text\":\"h\\u00e9llo \\\"\\u2713\\\"\"},"
        + "{\"type\":\"text\",\"text\":\"\\ud83d\\ude00\"}]}],\"max_tokens\":5}";
    RequestScan scan = RequestScan.scan(utf8(body), Operation.CHAT, recording);
    assertEquals(List.of("Be brief.", "b\u00f6b", "h\u00e9llo \"\u2713\"", "\ud83d\ude00"), seen);
    // 3 priming + 2 messages * 3 + 4 texts * 1 + 1 for the name
    assertEquals(14, scan.promptTokens());
    assertEquals(5, scan.maxTokens(), "fields after messages are still scanned");
  }

  @Test
  void promptTokens_noCounter_zeroAndTextsNotRead() throws InvalidRequest {
    String body = "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"hello\"}]}";
    assertEquals(0, RequestScan.scan(utf8(body), Operation.CHAT).promptTokens());
    assertEquals(0, RequestScan.scan(utf8(body), Operation.CHAT, RequestScan.NO_COUNT).promptTokens());
  }

  @Test
  void promptTokens_realisticChatWithRealTokenizerShape_sumOfParts() throws InvalidRequest {
    // A counter that counts words, to check the overhead does not depend on the counter.
    TokenCounter words = t -> t.isBlank() ? 0 : t.trim().split("\\s+").length;
    String body = "{\"model\":\"gpt-4o-mini\",\"messages\":["
        + "{\"role\":\"system\",\"content\":\"You are a helpful assistant.\"},"
        + "{\"role\":\"user\",\"content\":\"What is the capital of France?\"},"
        + "{\"role\":\"assistant\",\"content\":\"Paris.\"},"
        + "{\"role\":\"user\",\"content\":\"And of Italy?\"}],\"stream\":true}";
    assertEquals(3 + 4 * 3 + 5 + 6 + 1 + 3, RequestScan.scan(utf8(body), Operation.CHAT, words).promptTokens());
  }

  // ---------------------------------------------------------------- prompt tokens: embeddings

  @ParameterizedTest(name = "{0} -> {1}")
  @CsvSource(delimiter = '|', value = {
      "\"abc\"                 | 3",
      "\"\"                    | 0",
      "[\"ab\",\"cde\"]        | 5",
      "[]                      | 0",
      "[1,2,3]                 | 3",      // token ids: one token each
      "[[1,2],[3,4,5]]         | 5",
      "[[],[7]]                | 1",
      "[\"ab\",{\"x\":\"yyyy\"},null] | 2",
  })
  void promptTokens_embeddingsInput_noMessageOverhead(String input, long expected) throws InvalidRequest {
    assertEquals(expected, embeddingTokens(input.trim()));
  }

  @Test
  void promptTokens_embeddingsFieldsAroundInput_stillScanned() throws InvalidRequest {
    RequestScan s = RequestScan.scan(utf8("{\"input\":[\"abcd\"],\"model\":\"text-embedding-3-small\","
        + "\"dimensions\":256}"), Operation.EMBEDDINGS, CHARS);
    assertEquals(4, s.promptTokens());
    assertEquals("text-embedding-3-small", s.model());
  }

  // ---------------------------------------------------------------- forUpstream

  /**
   * Bodies built from parts, so the expected bytes are exact: {@code before + model + between +
   * options + after} (or options first), where {@code modelJson} is the model's JSON string as the
   * client wrote it and {@code optionsValue} the {@code stream_options} value (null: absent).
   */
  record Case(String name, String before, String modelJson, String between, String colon, String optionsValue,
      String after, boolean optionsFirst) {

    String body() {
      return assemble(modelJson, optionsValue);
    }

    String assemble(String model, String options) {
      String modelMember = "\"model\":" + model;
      if (options == null) {
        return before + modelMember + between + after;
      }
      String optionsMember = "\"stream_options\"" + colon + options;
      return optionsFirst
          ? before + optionsMember + between + modelMember + after
          : before + modelMember + between + optionsMember + after;
    }

    @Override
    public String toString() {
      return name;
    }
  }

  private static String quote(String s) {
    return new String(OpenAiError.quote(s), StandardCharsets.UTF_8);
  }

  private static final String MSGS = "\"messages\":[{\"role\":\"user\",\"content\":\"h\u00e9llo \u2713 \ud83d\ude00\"}]";
  private static final String MINI = "\"gpt-4o-mini\"";

  static Stream<Case> cases() {
    return Stream.of(
        new Case("after model", "{", MINI, ",\"stream\":true,", ":", "{\"include_usage\":false}",
            "," + MSGS + "}", false),
        new Case("before model", "{" + MSGS + ",", MINI, ",\"stream\":true,", ":",
            "{\"include_usage\":false}", "}", true),
        new Case("null options", "{", MINI, ",\"stream\":true,", ":", "null", "," + MSGS + "}", false),
        new Case("empty options", "{\"stream\":true,", MINI, ",", ":", "{}", "," + MSGS + "}", false),
        new Case("other option", "{", MINI, ",", ":", "{\"include_obfuscation\":false}",
            ",\"stream\":true," + MSGS + "}", false),
        new Case("spaced", " {\n  ", MINI, " ,\n  \"stream\" : true ,\n  ", " : ",
            "{ \"include_usage\" : false }", " ,\n  " + MSGS + "\n}\n", false),
        new Case("spaced, before", "\t{ " + MSGS + " , ", MINI, "  , ", " :\n ", "{ \"include_usage\":false }",
            " , \"stream\":true }", true),
        new Case("absent", "{", MINI, ",\"stream\":true," + MSGS, null, null, "}", false),
        new Case("absent, model last", "{" + MSGS + ",\"stream\":true,", MINI, "", null, null, "}", false),
        new Case("absent, leading space", "  \r\n{ ", MINI, " , \"stream\":true," + MSGS, null, null, " }",
            false),
        new Case("non-ascii before both", "{\"user\":\"\u00fc\u00df\u2603\ud83d\ude00\",", MINI,
            ",\"stream\":true,", ":", "{\"include_usage\":false}", "," + MSGS + "}", false),
        new Case("escaped model", "{", "\"gpt-4o\\u002dmini\"", ",\"stream\":true,", ":",
            "{\"include_usage\":false}", "," + MSGS + "}", false),
        new Case("non-ascii model", "{", "\"m\u00f6del-\u2713\"", ",\"stream\":true,", ":", "null",
            "," + MSGS + "}", false));
  }

  static Stream<Arguments> casesAndModels() {
    return cases().flatMap(c -> Stream.of("gpt-4o-mini", "gpt-4o-mini-2024-07-18", "m", "we\"ird/\u00e9")
        .map(m -> Arguments.of(c, m)));
  }

  @ParameterizedTest(name = "{0} -> {1}")
  @MethodSource("casesAndModels")
  void forUpstream_forceUsage_usageOnAndModelReplacedAllOtherBytesKept(Case c, String upstream) throws Exception {
    byte[] body = utf8(c.body());
    RequestScan scan = RequestScan.scan(body, Operation.CHAT);
    byte[] out = scan.forUpstream(body, upstream, true);

    String expected;
    if (c.optionsValue() == null) {
      // inserted as the first member, right after the opening brace
      int brace = c.before().indexOf('{');
      Case inserted = new Case(c.name(), c.before().substring(0, brace + 1) + "\"stream_options\":" + USAGE_ON + ","
          + c.before().substring(brace + 1), c.modelJson(), c.between(), null, null, c.after(), false);
      expected = inserted.assemble(modelBytes(c, scan, upstream), null);
    } else {
      expected = c.assemble(modelBytes(c, scan, upstream), USAGE_ON);
    }
    assertEquals(expected, new String(out, StandardCharsets.UTF_8));

    // And as a tree: the client's body with exactly these two fields changed.
    ObjectNode want = (ObjectNode) JSON.readTree(body);
    want.put("model", upstream);
    want.set("stream_options", JSON.readTree(USAGE_ON));
    assertEquals(want, JSON.readTree(out));
    RequestScan again = RequestScan.scan(out, Operation.CHAT);
    assertTrue(again.includeUsage());
    assertEquals(upstream, again.model());
  }

  /** What the model value becomes: unchanged bytes when the name is equal, else the quoted name. */
  private static String modelBytes(Case c, RequestScan scan, String upstream) {
    return upstream.equals(scan.model()) ? c.modelJson() : quote(upstream);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void forUpstream_noForce_onlyModelChanges(Case c) throws Exception {
    byte[] body = utf8(c.body());
    RequestScan scan = RequestScan.scan(body, Operation.CHAT);
    byte[] out = scan.forUpstream(body, "other-model", false);
    assertEquals(c.assemble(quote("other-model"), c.optionsValue()), new String(out, StandardCharsets.UTF_8));
    assertArrayEquals(scan.withModel(body, "other-model"), out);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void forUpstream_noForceSameModel_sameArray(Case c) throws Exception {
    byte[] body = utf8(c.body());
    RequestScan scan = RequestScan.scan(body, Operation.CHAT);
    assertSame(body, scan.forUpstream(body, scan.model(), false));
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
      "{\"model\":\"m\",\"stream\":true,\"stream_options\":{\"include_usage\":true}," + "\"messages\":[]}",
      "{\"stream_options\":{\"include_usage\":true},\"model\":\"m\",\"stream\":true,\"messages\":[]}",
      "{\"stream_options\":{\"x\":[1,{\"include_usage\":false}],\"include_usage\":true},\"model\":\"m\",\"messages\":[]}",
  })
  void forUpstream_clientAlreadyAsked_bodyIdentical(String json) throws Exception {
    byte[] body = utf8(json);
    RequestScan scan = RequestScan.scan(body, Operation.CHAT);
    assertTrue(scan.includeUsage());
    assertSame(body, scan.forUpstream(body, "m", true));
    byte[] renamed = scan.forUpstream(body, "upstream-m", true);
    assertNotSame(body, renamed);
    assertEquals(json.replace("\"model\":\"m\"", "\"model\":\"upstream-m\""), new String(renamed, StandardCharsets.UTF_8));
  }

  @Test
  void forUpstream_absentOptions_insertedAsFirstMember() throws Exception {
    byte[] body = utf8("{\"model\":\"m\",\"stream\":true,\"messages\":[]}");
    byte[] out = RequestScan.scan(body, Operation.CHAT).forUpstream(body, "m", true);
    assertEquals("{\"stream_options\":{\"include_usage\":true},\"model\":\"m\",\"stream\":true,\"messages\":[]}",
        new String(out, StandardCharsets.UTF_8));
  }

  @Test
  void forUpstream_optionsAfterModel_offsetsOfBothEditsHold() throws Exception {
    String json = "{\"model\":\"a\",\"stream\":true,\"stream_options\":{\"include_usage\":false},\"messages\":[]}";
    byte[] body = utf8(json);
    byte[] out = RequestScan.scan(body, Operation.CHAT).forUpstream(body, "a-much-longer-upstream-name", true);
    assertEquals("{\"model\":\"a-much-longer-upstream-name\",\"stream\":true,\"stream_options\":"
        + "{\"include_usage\":true},\"messages\":[]}", new String(out, StandardCharsets.UTF_8));
  }

  @Test
  void forUpstream_optionsBeforeModel_offsetsOfBothEditsHold() throws Exception {
    String json = "{\"stream_options\":{\"include_usage\":false},\"stream\":true,\"model\":\"a-long-client-name\","
        + "\"messages\":[]}";
    byte[] body = utf8(json);
    byte[] out = RequestScan.scan(body, Operation.CHAT).forUpstream(body, "b", true);
    assertEquals("{\"stream_options\":{\"include_usage\":true},\"stream\":true,\"model\":\"b\",\"messages\":[]}",
        new String(out, StandardCharsets.UTF_8));
  }

  @Test
  void forUpstream_result_doesNotModifyTheInput() throws Exception {
    String json = "{\"model\":\"a\",\"stream\":true,\"messages\":[]}";
    byte[] body = utf8(json);
    RequestScan.scan(body, Operation.CHAT).forUpstream(body, "b", true);
    assertEquals(json, new String(body, StandardCharsets.UTF_8));
  }

  @Test
  void scan_streamOptionsOffsets_spanTheValue() throws Exception {
    String json = "{\"model\":\"m\",\"stream_options\" : {\"include_usage\":false} ,\"messages\":[]}";
    RequestScan s = RequestScan.scan(utf8(json), Operation.CHAT);
    assertEquals("{\"include_usage\":false}", json.substring(s.streamOptionsStart(), s.streamOptionsEnd()));
    assertEquals(0, s.objectStart());
    RequestScan none = RequestScan.scan(utf8("  {\"model\":\"m\",\"messages\":[]}"), Operation.CHAT);
    assertEquals(-1, none.streamOptionsStart());
    assertEquals(2, none.objectStart());
    assertFalse(none.includeUsage());
  }

  @Test
  void forUpstream_embeddingsBody_optionsInsertedWhenForced() throws Exception {
    // The gateway forces usage only for chat streams; forUpstream itself does what it is told.
    byte[] body = utf8("{\"model\":\"e\",\"input\":\"x\"}");
    RequestScan s = RequestScan.scan(body, Operation.EMBEDDINGS);
    JsonNode tree = JSON.readTree(s.forUpstream(body, "e", true));
    assertTrue(tree.get("stream_options").get("include_usage").asBoolean());
    assertSame(body, s.forUpstream(body, "e", false));
  }
}
