package io.sluice.mock;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class MainTest {
  @Test
  void parse_noFlags_returnsDefaults() {
    assertEquals(MockSettings.defaults(), Main.parse(new String[0]));
  }

  @Test
  void parse_everyFlag_setsEverySetting() {
    MockSettings s = Main.parse(new String[] {"--host", "0.0.0.0", "--port", "0", "--latency-ms", "1", "--ttft-ms", "2",
        "--inter-token-ms", "3", "--tokens", "4", "--error-rate", "0.5", "--error-status", "503", "--api-key", "k",
        "--threads", "2"});

    assertEquals(new MockSettings("0.0.0.0", 0, 1, 2, 3, 4, 0.5, 503, "k", 2), s);
  }

  @Test
  void parse_unknownFlagMissingValueOrBadValue_throws() {
    assertThrows(IllegalArgumentException.class, () -> Main.parse(new String[] {"--nope", "1"}));
    assertThrows(IllegalArgumentException.class, () -> Main.parse(new String[] {"--port"}));
    assertThrows(IllegalArgumentException.class, () -> Main.parse(new String[] {"--port", "x"}));
    assertThrows(IllegalArgumentException.class, () -> Main.parse(new String[] {"--error-rate", "1.5"}));
  }
}
