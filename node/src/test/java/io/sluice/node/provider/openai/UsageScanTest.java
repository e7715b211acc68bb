package io.sluice.node.provider.openai;

import io.sluice.node.inference.chat.Usage;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class UsageScanTest {

  private static Usage scan(String json) {
    return UsageScan.of(json.getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void of_chatCompletion_promptAndCompletion() {
    String body = "{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion\",\"created\":1,\"model\":\"gpt-4o-mini\","
        + "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"Hi \\\"usage\\\"\","
        + "\"usage\":{\"prompt_tokens\":999}},\"finish_reason\":\"stop\"}],"
        + "\"usage\":{\"prompt_tokens\":19,\"completion_tokens\":10,\"total_tokens\":29,"
        + "\"prompt_tokens_details\":{\"cached_tokens\":0},\"completion_tokens_details\":{\"reasoning_tokens\":0}},"
        + "\"system_fingerprint\":\"fp\"}";
    assertEquals(Usage.of(19, 10), scan(body));
  }

  @Test
  void of_embeddings_promptTokensOnly() {
    String body = "{\"object\":\"list\",\"data\":[{\"object\":\"embedding\",\"index\":0,"
        + "\"embedding\":[0.0023,-0.0093,0.015]}],\"model\":\"text-embedding-3-small\","
        + "\"usage\":{\"prompt_tokens\":8,\"total_tokens\":8}}";
    assertEquals(Usage.of(8, 0), scan(body));
  }

  @Test
  void of_onlyTotalTokens_countedAsPrompt() {
    assertEquals(Usage.of(5, 0), scan("{\"usage\":{\"total_tokens\":5}}"));
  }

  @Test
  void of_totalAlongsidePromptAndCompletion_ignored() {
    assertEquals(Usage.of(3, 4), scan("{\"usage\":{\"total_tokens\":100,\"prompt_tokens\":3,"
        + "\"completion_tokens\":4}}"));
  }

  @Test
  void of_responsesApiNames_inputAndOutputTokens() {
    assertEquals(Usage.of(12, 7), scan("{\"usage\":{\"input_tokens\":12,\"output_tokens\":7,"
        + "\"total_tokens\":19,\"input_tokens_details\":{\"cached_tokens\":0}}}"));
  }

  @Test
  void of_sseChunkData_withOffsetAndLength() {
    String event = "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":4}}\n\n";
    byte[] b = event.getBytes(StandardCharsets.UTF_8);
    int from = event.indexOf('{');
    int to = event.lastIndexOf('}') + 1;
    assertEquals(Usage.of(9, 4), UsageScan.of(b, from, to - from));
  }

  @Test
  void of_negativeCounts_clampedToZero() {
    assertEquals(Usage.of(0, 0), scan("{\"usage\":{\"prompt_tokens\":-3,\"completion_tokens\":-1}}"));
  }

  @Test
  void of_nonIntegerCounts_ignored() {
    assertEquals(Usage.of(0, 2), scan("{\"usage\":{\"prompt_tokens\":1.5,\"completion_tokens\":2,"
        + "\"x\":[1,{\"prompt_tokens\":7}]}}"));
  }

  @Test
  void of_emptyUsage_zeros() {
    assertEquals(Usage.of(0, 0), scan("{\"usage\":{}}"));
  }

  @Test
  void of_usageFirstThenGarbage_usageRead() {
    // Streaming: the parser stops after usage, so what follows is not looked at.
    assertEquals(Usage.of(1, 2), scan("{\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":2}, ]]]"));
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "{\"usage\":null}",
      "{\"id\":\"x\",\"choices\":[]}",
      "{}",
      "{\"choices\":[{\"usage\":{\"prompt_tokens\":1}}]}", // not top level
      "{\"usage\":[1,2]}",
      "{\"usage\":\"9 tokens\"}",
      "[{\"usage\":{\"prompt_tokens\":1}}]",
      "\"usage\"",
      "[DONE]",
      "",
      "   ",
      "{\"usage\":{\"prompt_tokens\":1",           // truncated
      "{\"usage\":{\"prompt_tokens\":1,\"completion",
      "{\"usage\":",
      "{\"id\":\"x\" \"usage\":{\"prompt_tokens\":1}}", // missing comma
      "{\"id\":tru, \"usage\":{\"prompt_tokens\":1}}",
      "{\"usage\":{\"prompt_tokens\":99999999999999999999}}", // beyond a long
      "not json",
  })
  void of_noUsableUsage_null(String json) {
    assertNull(scan(json));
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
      "{\"model\":\"m\",\"usage\":{\"prompt_tokens\":0,\"completion_tokens\":0,\"total_tokens\":0}} | 0 | 0",
      "{\"usage\":{\"completion_tokens\":3}}                                                     | 0 | 3",
      "{\"usage\":{\"prompt_tokens\":3,\"total_tokens\":3}}                                      | 3 | 0",
      "  {\"usage\" : { \"prompt_tokens\" : 2 , \"completion_tokens\" : 5 } }                    | 2 | 5",
  })
  void of_variants_tokens(String json, long prompt, long completion) {
    assertEquals(Usage.of(prompt, completion), scan(json.trim()));
  }
}
