package io.sluice.node.telemetry;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ResponseFactsTest {
  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "{\"id\":\"x\",\"model\":\"gpt-4o-mini-2024\",\"choices\":[{\"index\":0,\"message\":{\"content\":\"stop\"},\"finish_reason\":\"stop\"},{\"finish_reason\":\"length\"}],\"usage\":{}}|gpt-4o-mini-2024|stop,length",
      "{\"type\":\"message\",\"content\":[{\"type\":\"text\",\"text\":\"model\"}],\"model\":\"claude-x\",\"stop_reason\":\"end_turn\"}|claude-x|end_turn",
      "{\"object\":\"list\",\"data\":[{\"embedding\":[0.1]}],\"model\":\"emb\"}|emb|''",
      "not json|''|''",
  })
  void scan_responses_readsModelAndFinishReasonsOnly(String body, String model, String reasons) {
    ResponseFacts facts = ResponseFacts.scan(body.getBytes(StandardCharsets.UTF_8));
    assertEquals(model.isEmpty() ? null : model, facts.model());
    assertEquals(reasons.isEmpty() ? List.of() : List.of(reasons.split(",")), facts.finishReasons());
  }
}
