package io.sluice.node.routing;

import java.time.Duration;
import java.util.Optional;

/**
 * What to do after a failed attempt: {@link Retry} or {@link GiveUp}. It exists so that the
 * request path acts on a decision and does not re-derive the retry rules.
 */
public sealed interface RetryDecision {

  /**
   * Try again. The next attempt waits {@code delay} when it goes to another deployment, and
   * {@code sameDeploymentDelay} when it goes to the deployment that just failed; an empty {@code
   * sameDeploymentDelay} means that deployment must not be tried again for this request (it asked
   * for a wait longer than the time left).
   */
  record Retry(Duration delay, Optional<Duration> sameDeploymentDelay) implements RetryDecision {

    /** Whether the deployment that just failed may serve a later attempt of this request. */
    public boolean sameDeploymentAllowed() {
      return sameDeploymentDelay.isPresent();
    }

    /**
     * The wait before the next attempt, which goes to the same deployment or another one.
     *
     * @throws IllegalStateException for the same deployment when it is not allowed
     */
    public Duration delayBefore(boolean sameDeployment) {
      if (!sameDeployment) {
        return delay;
      }
      return sameDeploymentDelay.orElseThrow(
          () -> new IllegalStateException("the failed deployment must not be retried in this request"));
    }
  }

  /** Stop: answer the client with the failure(s) so far. */
  record GiveUp(Reason reason) implements RetryDecision {}

  /** Why no further attempt is made. */
  enum Reason {
    /** Bytes of a stream already reached the client; another attempt would duplicate or splice output. */
    STREAM_STARTED,
    /** The failure would repeat on any deployment (a client error, a refused key). */
    NOT_RETRYABLE,
    /** The request made its maximum number of attempts. */
    ATTEMPTS_EXHAUSTED,
    /** Not enough of the request's deadline is left for a wait and another attempt. */
    DEADLINE_EXHAUSTED
  }
}
