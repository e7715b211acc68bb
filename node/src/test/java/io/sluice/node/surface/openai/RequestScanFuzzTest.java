package io.sluice.node.surface.openai;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.sluice.node.FuzzBudget;
import io.sluice.node.inference.Operation;
import io.sluice.node.inference.TokenCounter;

/**
 * Any body is either scanned or refused with {@link RequestScan.InvalidRequest} (the 400), for every
 * operation; a scanned body's offsets lie inside it, {@link RequestScan#countPrompt} agrees with the
 * scan, and the bodies {@link RequestScan#forUpstream} and {@link RequestScan#withModel} splice
 * still scan, to the new model, with every other field as before.
 */
class RequestScanFuzzTest {
  /** Counts chars: deterministic and cheap, so a disagreement is the scanner's. */
  private static final TokenCounter CHARS = String::length;
  private static final String[] MODELS = {"gpt-4o-mini", "m\"\\\u2028\u00e9\ud83d\ude00", ""};

  @FuzzTest(maxDuration = FuzzBudget.CI)
  void scan_anyBody_scansOrRefusesAndSplicesStillScan(byte[] body) {
    for (Operation op : Operation.values()) {
      RequestScan s;
      try {
        s = RequestScan.scan(body, op, CHARS);
      } catch (RequestScan.InvalidRequest refused) {
        continue;
      }
      assertTrue(0 <= s.objectStart() && s.objectStart() < s.modelStart() && s.modelStart() < s.modelEnd()
          && s.modelEnd() <= body.length, "model offsets inside the body");
      assertEquals(s.promptTokens(), RequestScan.countPrompt(body, op, CHARS));
      for (String model : MODELS) {
        if (model.isEmpty()) {
          continue;
        }
        rescan(s, s.withModel(body, model), op, model, false);
        rescan(s, s.forUpstream(body, model, false), op, model, false);
        rescan(s, s.forUpstream(body, model, true), op, model, true);
      }
    }
  }

  private static void rescan(RequestScan before, byte[] spliced, Operation op, String model, boolean forced) {
    RequestScan after;
    try {
      after = RequestScan.scan(spliced, op, CHARS);
    } catch (RequestScan.InvalidRequest e) {
      throw new AssertionError("a spliced body no longer scans: " + e.getMessage(), e);
    }
    assertEquals(model, after.model());
    assertEquals(before.stream(), after.stream());
    assertEquals(before.maxTokens(), after.maxTokens());
    assertEquals(before.promptTokens(), after.promptTokens());
    assertEquals(before.includeUsage() || forced, after.includeUsage());
  }
}
