package io.sluice.node.admission;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The x-ratelimit-reset-* duration form, which clients parse (OpenAI's "850ms", "12s", "6m0s"). */
class RateLimitHeadersTest {

  @ParameterizedTest
  @CsvSource({
      "-5, 0ms",
      "0, 0ms",
      "999, 999ms",
      "1000, 1s",
      "1001, 2s",
      "59000, 59s",
      "59001, 1m0s",
      "60000, 1m0s",
      "61000, 1m1s",
      "125000, 2m5s",
      "86400000, 1440m0s"})
  void duration_millis_openAiForm(long millis, String expected) {
    assertEquals(expected, RateLimitHeaders.duration(millis));
  }
}
