package io.sluice.node.routing;

import io.sluice.node.provider.ErrorClass;
import java.time.Duration;
import java.util.Optional;

/**
 * Decides whether a failed attempt is retried, and after how long. It exists so that the retry
 * rules are one pure function, tested exhaustively, instead of branches in the request path.
 *
 * <p>In order of precedence:
 * <ol>
 *   <li>once a stream's first byte reached the client, never retry;
 *   <li>a failure that is not {@linkplain ErrorClass#retryable() retryable} is final;
 *   <li>at most {@code max-attempts} attempts, the first included;
 *   <li>no retry when the deadline is used up;
 *   <li>a {@code Retry-After} describes the deployment that sent it: when it fits the time left,
 *       a retry on that deployment waits for it (and at least the backoff), while another
 *       deployment is tried at once; when it does not fit, that deployment is not tried again
 *       and another one is tried at once;
 *   <li>otherwise the retry waits the {@link Backoff}, which must leave time for the attempt.
 * </ol>
 */
public final class RetryPolicy {
  private final int maxAttempts;
  private final Backoff backoff;

  public RetryPolicy(RoutingSettings settings, Backoff backoff) {
    this.maxAttempts = settings.maxAttempts();
    this.backoff = backoff;
  }

  /**
   * @param attempt the attempts made so far, the failed one included (1 after the first)
   * @param error how the attempt failed
   * @param retryAfter the wait the upstream asked for, if it did
   * @param remaining the time left of the request's deadline
   * @param streamStarted whether any byte of the response already went to the client
   */
  public RetryDecision decide(int attempt, ErrorClass error, Optional<Duration> retryAfter, Duration remaining,
      boolean streamStarted) {
    if (streamStarted) {
      return new RetryDecision.GiveUp(RetryDecision.Reason.STREAM_STARTED);
    }
    if (!error.retryable()) {
      return new RetryDecision.GiveUp(RetryDecision.Reason.NOT_RETRYABLE);
    }
    if (attempt >= maxAttempts) {
      return new RetryDecision.GiveUp(RetryDecision.Reason.ATTEMPTS_EXHAUSTED);
    }
    if (remaining.isNegative() || remaining.isZero()) {
      return new RetryDecision.GiveUp(RetryDecision.Reason.DEADLINE_EXHAUSTED);
    }
    Duration wait = backoff.delay(attempt);
    if (retryAfter.isPresent()) {
      Duration same = max(wait, retryAfter.get());
      return new RetryDecision.Retry(Duration.ZERO,
          same.compareTo(remaining) < 0 ? Optional.of(same) : Optional.empty());
    }
    if (wait.compareTo(remaining) >= 0) {
      return new RetryDecision.GiveUp(RetryDecision.Reason.DEADLINE_EXHAUSTED);
    }
    return new RetryDecision.Retry(wait, Optional.of(wait));
  }

  private static Duration max(Duration a, Duration b) {
    return a.compareTo(b) >= 0 ? a : b;
  }
}
