package io.sluice.node.tenant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.sluice.node.tenant.TenantCommand.ReportUpstream;
import io.sluice.persistence.CircuitState;
import io.sluice.persistence.TenantEvent;
import io.sluice.persistence.TenantEvent.CircuitClosed;
import io.sluice.persistence.TenantEvent.CircuitOpened;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class CircuitBreakerTest {
  private static final Instant T = Instant.parse("2026-03-01T12:00:00Z");
  private final AtomicReference<Instant> now = new AtomicReference<>(T);
  private final CircuitBreaker breaker = new CircuitBreaker(3, Duration.ofSeconds(30), now::get);

  private static ReportUpstream failure(int status, long retryAfterMillis) {
    return new ReportUpstream("d", status, "HTTP " + status, retryAfterMillis, false);
  }

  private static final ReportUpstream SUCCESS = new ReportUpstream("d", 200, null, 0, true);

  private static CircuitState openUntil(Instant until) {
    return new CircuitState(true, until, 429, "HTTP 429");
  }

  @ParameterizedTest(name = "status {0}")
  @ValueSource(ints = {401, 403, 429})
  void onReport_thresholdTenantSpecificFailures_opensForOpenFor(int status) {
    assertNull(breaker.onReport(Map.of(), failure(status, 0)));
    assertNull(breaker.onReport(Map.of(), failure(status, 0)));
    CircuitOpened opened = assertInstanceOf(CircuitOpened.class, breaker.onReport(Map.of(), failure(status, 0)));
    assertEquals("d", opened.deployment());
    assertEquals(status, opened.status());
    assertEquals(T.plusSeconds(30), opened.openUntil());
  }

  @ParameterizedTest(name = "status {0}")
  @ValueSource(ints = {400, 404, 500, 502, 503})
  void onReport_otherStatuses_neverOpen(int status) {
    for (int i = 0; i < 10; i++) {
      assertNull(breaker.onReport(Map.of(), failure(status, 0)));
    }
  }

  @Test
  void onReport_successBetweenFailures_restartsTheCount() {
    breaker.onReport(Map.of(), failure(429, 0));
    breaker.onReport(Map.of(), failure(429, 0));
    assertNull(breaker.onReport(Map.of(), SUCCESS));
    assertNull(breaker.onReport(Map.of(), failure(429, 0)));
    assertNull(breaker.onReport(Map.of(), failure(429, 0)));
    assertInstanceOf(CircuitOpened.class, breaker.onReport(Map.of(), failure(429, 0)));
  }

  @ParameterizedTest(name = "retry-after {0} ms opens for {1} s")
  @CsvSource({"0, 30", "29000, 30", "45000, 45"})
  void onReport_retryAfterLongerThanOpenFor_opensForRetryAfter(long retryAfterMillis, long seconds) {
    CircuitBreaker one = new CircuitBreaker(1, Duration.ofSeconds(30), now::get);
    CircuitOpened opened = (CircuitOpened) one.onReport(Map.of(), failure(429, retryAfterMillis));
    assertEquals(T.plusSeconds(seconds), opened.openUntil());
  }

  @Test
  void onReport_openCircuit_ignoresLateFailuresAndSuccesses() {
    Map<String, CircuitState> open = Map.of("d", openUntil(T.plusSeconds(10)));
    for (int i = 0; i < 5; i++) {
      assertNull(breaker.onReport(open, failure(429, 0)));
    }
    assertNull(breaker.onReport(open, SUCCESS));
  }

  @Test
  void onReport_halfOpen_successClosesAndOneFailureReopens() {
    Map<String, CircuitState> halfOpen = Map.of("d", openUntil(T.minusSeconds(1)));
    TenantEvent closed = breaker.onReport(halfOpen, SUCCESS);
    assertEquals(new CircuitClosed("d", T), closed);
    CircuitOpened reopened = assertInstanceOf(CircuitOpened.class, breaker.onReport(halfOpen, failure(401, 0)));
    assertEquals(T.plusSeconds(30), reopened.openUntil());
  }

  @Test
  void onReport_otherRegionsCircuitOfTheSameDeployment_isNotThisRegions() {
    Map<String, CircuitState> theirs = Map.of(CircuitState.regionKey("d", "r2"), openUntil(T.minusSeconds(1)));
    assertNull(breaker.onReport(theirs, SUCCESS), "another region's circuit is closed by that region only");
  }

  @Test
  void create_thresholdBelowOne_refused() {
    assertThrows(IllegalArgumentException.class, () -> new CircuitBreaker(0, Duration.ofSeconds(1), now::get));
  }
}
