package io.sluice.node.surface.anthropic;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.sluice.node.FuzzBudget;
import io.sluice.node.inference.TokenCounter;
import io.sluice.node.inference.chat.InvalidChat;

/**
 * Any body is either scanned or refused with {@link InvalidChat} (the 400), as a Messages body and
 * as a count_tokens body; a scanned body's model offsets lie inside it, and the body {@link
 * MessagesScan#withModel} splices still scans, to the new model, with every other field as before.
 */
class MessagesScanFuzzTest {
  private static final TokenCounter CHARS = String::length;
  private static final String[] MODELS = {"claude-sonnet-4-5", "m\"\\\u2028\u00e9\ud83d\ude00"};

  @FuzzTest(maxDuration = FuzzBudget.CI)
  void scan_anyBody_scansOrRefusesAndSplicesStillScan(byte[] body) {
    for (boolean countTokens : new boolean[] {false, true}) {
      MessagesScan s;
      try {
        s = scan(body, countTokens);
      } catch (InvalidChat refused) {
        continue;
      }
      assertTrue(0 < s.modelStart() && s.modelStart() < s.modelEnd() && s.modelEnd() <= body.length,
          "model offsets inside the body");
      for (String model : MODELS) {
        MessagesScan after;
        try {
          after = scan(s.withModel(body, model), countTokens);
        } catch (InvalidChat e) {
          throw new AssertionError("a spliced body no longer scans: " + e.getMessage(), e);
        }
        assertEquals(new MessagesScan(model, 0, 0, s.stream(), s.maxTokens(), s.promptTokens()),
            new MessagesScan(after.model(), 0, 0, after.stream(), after.maxTokens(), after.promptTokens()));
      }
    }
  }

  private static MessagesScan scan(byte[] body, boolean countTokens) throws InvalidChat {
    return countTokens ? MessagesScan.scanCountTokens(body, CHARS) : MessagesScan.scan(body, CHARS);
  }
}
