package io.sluice.node.provider;

import static org.junit.jupiter.api.Assertions.assertFalse;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.sluice.node.FuzzBudget;
import io.sluice.node.provider.anthropic.AnthropicCodec;
import io.sluice.node.provider.openai.OpenAiAdapter;
import java.nio.charset.StandardCharsets;
import org.apache.pekko.util.ByteString;

/**
 * The error parsers of every provider, on any upstream error body with a key in it: they never
 * throw, and no string of the {@link UpstreamError} they return (which reaches clients and logs)
 * contains the key. The fuzz input is the body, with every {@code $} replaced by the key, so the
 * key lands in any field, nested or escaped around, or outside any JSON at all.
 */
class UpstreamErrorFuzzTest {
  private static final String KEY = "sk-ant-api03-SECRETSECRET";
  private static final String SECRET = "SECRETSECRET";
  private static final OpenAiAdapter OPENAI = new OpenAiAdapter();

  @FuzzTest(maxDuration = FuzzBudget.CI)
  void error_bodyWithKey_neverShowsIt(FuzzedDataProvider data) {
    // Any status but a success: the pipeline reads a 2xx as an answer, never as an error.
    int status = data.consumeInt(100, 499);
    status = status >= 200 ? status + 100 : status;
    String text = data.consumeRemainingAsString();
    if (!text.contains("$")) {
      text = text + KEY; // every input plants the key at least once
    }
    ByteString body = ByteString.fromString(text.replace("$", KEY), StandardCharsets.UTF_8);
    check("anthropic", AnthropicCodec.error(status, body));
    check("openai", OPENAI.error(status, body));
  }

  private static void check(String provider, UpstreamError e) {
    for (String s : new String[] {e.type(), e.code(), e.message(), e.param()}) {
      assertFalse(s != null && s.contains(SECRET), provider + " passed the key on: " + e);
    }
  }
}
