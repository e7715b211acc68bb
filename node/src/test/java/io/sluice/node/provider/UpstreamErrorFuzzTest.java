package io.sluice.node.provider;

import static org.junit.jupiter.api.Assertions.assertFalse;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.sluice.node.FuzzBudget;
import io.sluice.node.provider.anthropic.AnthropicCodec;
import io.sluice.node.provider.gemini.GeminiCodec;
import io.sluice.node.provider.openai.OpenAiAdapter;
import java.nio.charset.StandardCharsets;
import org.apache.pekko.util.ByteString;

/**
 * The error parsers of every provider, on any upstream error body with a key in it: they never
 * throw, and no string of the {@link UpstreamError} they return (which reaches clients and logs)
 * contains the key's secret part. The fuzz input is the body, with every {@code $} replaced by the
 * key, so the key lands in any field, nested or escaped around, or outside any JSON at all. The
 * secret part is drawn from the input's hash, so that the input cannot spell it out itself (a
 * fixed one the fuzzer learns from the assertion's comparison and writes in plain, unredactable
 * text, which is no leak).
 */
class UpstreamErrorFuzzTest {
  private static final OpenAiAdapter OPENAI = new OpenAiAdapter();

  @FuzzTest(maxDuration = FuzzBudget.CI)
  void error_bodyWithKey_neverShowsIt(FuzzedDataProvider data) {
    // Any status but a success: the pipeline reads a 2xx as an answer, never as an error.
    int status = data.consumeInt(100, 499);
    status = status >= 200 ? status + 100 : status;
    String text = data.consumeRemainingAsString();
    if (!text.contains("$")) {
      text = text + "$"; // every input plants the key at least once
    }
    String secret = String.format("SECRET%08X", text.hashCode());
    String key = "sk-ant-api03-" + secret;
    ByteString body = ByteString.fromString(text.replace("$", key), StandardCharsets.UTF_8);
    check("anthropic", AnthropicCodec.error(status, body), secret);
    check("openai", OPENAI.error(status, body), secret);
    check("gemini", GeminiCodec.error(status, body), secret);
  }

  private static void check(String provider, UpstreamError e, String secret) {
    for (String s : new String[] {e.type(), e.code(), e.message(), e.param()}) {
      assertFalse(s != null && s.contains(secret), provider + " passed the key on: " + e);
    }
  }
}
