package io.sluice.node.provider;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.NullAndEmptySource;
import org.junit.jupiter.params.provider.ValueSource;

class RetryAfterTest {
  private static final Instant NOW = Instant.parse("2026-03-01T12:00:00Z");

  static Stream<Arguments> validValues() {
    return Stream.of(
        Arguments.of("0", Duration.ZERO),
        Arguments.of("1", Duration.ofSeconds(1)),
        Arguments.of("120", Duration.ofSeconds(120)),
        Arguments.of("  7  ", Duration.ofSeconds(7)),
        Arguments.of("1.5", Duration.ofMillis(1500)),
        Arguments.of("007", Duration.ofSeconds(7)),
        Arguments.of("Sun, 01 Mar 2026 12:00:30 GMT", Duration.ofSeconds(30)),
        Arguments.of("Sun, 1 Mar 2026 12:01:00 GMT", Duration.ofMinutes(1)),
        Arguments.of("Mon, 02 Mar 2026 12:00:00 GMT", Duration.ofDays(1)),
        Arguments.of("Sun, 01 Mar 2026 12:00:00 GMT", Duration.ZERO),
        Arguments.of("Sun, 01 Mar 2026 11:59:59 GMT", Duration.ZERO),
        Arguments.of("Thu, 01 Jan 2015 00:00:00 GMT", Duration.ZERO),
        Arguments.of("99999999999999999999999", Duration.ofSeconds(Long.MAX_VALUE)));
  }

  @ParameterizedTest(name = "\"{0}\" -> {1}")
  @MethodSource("validValues")
  void parse_validValue_isDuration(String value, Duration expected) {
    assertEquals(Optional.of(expected), RetryAfter.parse(value, NOW));
  }

  @ParameterizedTest(name = "\"{0}\" -> empty")
  @NullAndEmptySource
  @ValueSource(strings = {"  ", "-1", "-0.5", "soon", "1e3", "1,5", "+5", "0x10", "1.", ".5", "5s",
      "2026-03-01T12:00:30Z", "Sun, 01 Mar 2026 12:00:30", "Sun, 32 Mar 2026 12:00:30 GMT"})
  void parse_garbageOrNegative_isEmpty(String value) {
    assertEquals(Optional.empty(), RetryAfter.parse(value, NOW));
  }

  @ParameterizedTest(name = "\"{0}\" ms")
  @ValueSource(strings = {"0", "250", "1500", "20.5"})
  void parseMillis_validValue_isMillis(String value) {
    Duration expected = Duration.ofNanos(Math.round(Double.parseDouble(value) * 1_000_000));
    assertEquals(Optional.of(expected), RetryAfter.parseMillis(value));
  }

  @ParameterizedTest(name = "\"{0}\" ms -> empty")
  @NullAndEmptySource
  @ValueSource(strings = {"-5", "abc", "Sun, 01 Mar 2026 12:00:30 GMT"})
  void parseMillis_garbage_isEmpty(String value) {
    assertEquals(Optional.empty(), RetryAfter.parseMillis(value));
  }

  @Test
  void fromHeaders_both_prefersMillis() {
    Map<String, String> h = Map.of("retry-after-ms", "250", "retry-after", "1");
    assertEquals(Optional.of(Duration.ofMillis(250)), RetryAfter.fromHeaders(n -> Optional.ofNullable(h.get(n)), NOW));
  }

  @Test
  void fromHeaders_badMillis_fallsBackToSeconds() {
    Map<String, String> h = Map.of("retry-after-ms", "nope", "retry-after", "2");
    assertEquals(Optional.of(Duration.ofSeconds(2)), RetryAfter.fromHeaders(n -> Optional.ofNullable(h.get(n)), NOW));
  }

  @Test
  void fromHeaders_none_isEmpty() {
    assertEquals(Optional.empty(), RetryAfter.fromHeaders(n -> Optional.empty(), NOW));
  }
}
