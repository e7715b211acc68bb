package io.sluice.node.routing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.node.provider.ErrorClass;
import io.sluice.node.routing.RetryDecision.GiveUp;
import io.sluice.node.routing.RetryDecision.Reason;
import io.sluice.node.routing.RetryDecision.Retry;
import io.sluice.node.routing.RoutingSettings.BackoffSettings;
import java.time.Duration;
import java.util.Optional;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

class RetryPolicyTest {
  /** Three attempts; backoff 100ms, 200ms, ... capped at 2s, without jitter so delays are exact. */
  private static final RetryPolicy POLICY = policy(3);

  private static RetryPolicy policy(int maxAttempts) {
    RoutingSettings r = Fixtures.routing(maxAttempts);
    BackoffSettings b = r.backoff();
    return new RetryPolicy(r, new Backoff(new BackoffSettings(b.initial(), b.max(), b.multiplier(), 0),
        new SplittableRandom(1)));
  }

  private static Optional<Duration> ms(Long millis) {
    return Optional.ofNullable(millis).map(Duration::ofMillis);
  }

  /** Writes a decision as "retry <delay ms> <same-deployment delay ms or ->" or "give-up <reason>". */
  private static String show(RetryDecision d) {
    if (d instanceof Retry r) {
      return "retry " + r.delay().toMillis() + " " + r.sameDeploymentDelay().map(x -> "" + x.toMillis()).orElse("-");
    }
    return "give-up " + ((GiveUp) d).reason();
  }

  @ParameterizedTest(name = "attempt {0} {1} retry-after={2} remaining={3}ms stream={4} -> {5}")
  @CsvSource(nullValues = "null", value = {
      // backoff without Retry-After: same wait for any deployment, growing with the attempt
      "1, SERVER,       null, 10000, false, retry 100 100",
      "2, SERVER,       null, 10000, false, retry 200 200",
      "1, TIMEOUT,      null, 10000, false, retry 100 100",
      "1, CONNECT,      null, 10000, false, retry 100 100",
      "1, RATE_LIMITED, null, 10000, false, retry 100 100",
      // a stream that reached the client is never retried, whatever the error and time left
      "1, SERVER,       null, 10000, true,  give-up STREAM_STARTED",
      "1, TIMEOUT,      null, 10000, true,  give-up STREAM_STARTED",
      "1, CONNECT,      null, 10000, true,  give-up STREAM_STARTED",
      "1, RATE_LIMITED, 1000, 10000, true,  give-up STREAM_STARTED",
      "1, CLIENT,       null, 10000, true,  give-up STREAM_STARTED",
      // failures that would repeat anywhere
      "1, CLIENT,       null, 10000, false, give-up NOT_RETRYABLE",
      "1, AUTH,         null, 10000, false, give-up NOT_RETRYABLE",
      "1, CLIENT,       1000, 10000, false, give-up NOT_RETRYABLE",
      // attempts used up
      "3, SERVER,       null, 10000, false, give-up ATTEMPTS_EXHAUSTED",
      "4, SERVER,       null, 10000, false, give-up ATTEMPTS_EXHAUSTED",
      "3, RATE_LIMITED, 10,   10000, false, give-up ATTEMPTS_EXHAUSTED",
      // deadline used up, or too little of it for the backoff and an attempt
      "1, SERVER,       null, 0,     false, give-up DEADLINE_EXHAUSTED",
      "1, SERVER,       null, -5,    false, give-up DEADLINE_EXHAUSTED",
      "1, SERVER,       null, 100,   false, give-up DEADLINE_EXHAUSTED",
      "1, SERVER,       null, 99,    false, give-up DEADLINE_EXHAUSTED",
      "2, SERVER,       null, 150,   false, give-up DEADLINE_EXHAUSTED",
      "1, SERVER,       null, 101,   false, retry 100 100",
      "1, RATE_LIMITED, 10,   0,     false, give-up DEADLINE_EXHAUSTED",
      // Retry-After that fits: the same deployment waits for it, another one is tried at once
      "1, RATE_LIMITED, 1000, 10000, false, retry 0 1000",
      "2, RATE_LIMITED, 1000, 10000, false, retry 0 1000",
      "1, SERVER,       3000, 10000, false, retry 0 3000",
      "1, RATE_LIMITED, 9999, 10000, false, retry 0 9999",
      // ... and at least the backoff, even when it asks for less (a date in the past)
      "1, RATE_LIMITED, 0,    10000, false, retry 0 100",
      "2, RATE_LIMITED, 50,   10000, false, retry 0 200",
      // Retry-After longer than the time left: the next deployment, without waiting
      "1, RATE_LIMITED, 30000, 10000, false, retry 0 -",
      "1, RATE_LIMITED, 10000, 10000, false, retry 0 -",
      "1, SERVER,       60000, 10000, false, retry 0 -",
      "1, RATE_LIMITED, 0,     50,    false, retry 0 -"})
  void decide_case_isExpected(int attempt, ErrorClass error, Long retryAfterMs, long remainingMs, boolean stream,
      String expected) {
    assertEquals(expected, show(POLICY.decide(attempt, error, ms(retryAfterMs), Duration.ofMillis(remainingMs),
        stream)));
  }

  @ParameterizedTest
  @EnumSource(ErrorClass.class)
  void decide_singleAttemptAllowed_neverRetries(ErrorClass error) {
    RetryDecision d = policy(1).decide(1, error, Optional.empty(), Duration.ofMinutes(1), false);
    assertTrue(d instanceof GiveUp);
  }

  @Test
  void decide_retryableUntilLastAttempt_thenGivesUp() {
    RetryPolicy five = policy(5);
    for (int attempt = 1; attempt < 5; attempt++) {
      assertTrue(five.decide(attempt, ErrorClass.SERVER, Optional.empty(), Duration.ofMinutes(1), false)
          instanceof Retry);
    }
    assertEquals(new GiveUp(Reason.ATTEMPTS_EXHAUSTED),
        five.decide(5, ErrorClass.SERVER, Optional.empty(), Duration.ofMinutes(1), false));
  }

  @Test
  void delayBefore_sameDeploymentExcluded_throws() {
    Retry r = new Retry(Duration.ZERO, Optional.empty());
    assertFalse(r.sameDeploymentAllowed());
    assertEquals(Duration.ZERO, r.delayBefore(false));
    assertThrows(IllegalStateException.class, () -> r.delayBefore(true));
  }

  @Test
  void delayBefore_sameDeploymentAllowed_picksMatchingDelay() {
    Retry r = new Retry(Duration.ZERO, Optional.of(Duration.ofSeconds(2)));
    assertEquals(Duration.ZERO, r.delayBefore(false));
    assertEquals(Duration.ofSeconds(2), r.delayBefore(true));
  }
}
