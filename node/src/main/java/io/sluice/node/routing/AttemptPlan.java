package io.sluice.node.routing;

import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The attempts of one request, in order, with a cursor. It exists so that the request path
 * walks a precomputed plan and does not track which deployments it may still use.
 *
 * <p>Not thread-safe: one per request, used by that request's sequential stages (each
 * completion stage happens-before the next, so no synchronization is needed).
 */
public final class AttemptPlan {
  /** The next attempt and the wait before it. */
  public record Step(Attempt attempt, Duration delay) {}

  private final List<Attempt> attempts;
  private final Set<String> excluded = new HashSet<>();
  private int position;

  public AttemptPlan(List<Attempt> attempts) {
    this.attempts = List.copyOf(attempts);
  }

  /** Every planned attempt, from the first, whether taken or not. */
  public List<Attempt> attempts() {
    return attempts;
  }

  /**
   * The next attempt, skipping deployments excluded for this request; empty when the plan is
   * used up. Also used to skip an attempt whose deployment refused it at send time (limiter full,
   * ejected in the meantime).
   */
  public Optional<Attempt> next() {
    while (position < attempts.size()) {
      Attempt a = attempts.get(position++);
      if (!excluded.contains(a.deployment().name())) {
        return Optional.of(a);
      }
    }
    return Optional.empty();
  }

  /**
   * The attempt after {@code failed}, following {@code retry}: the failed deployment is excluded
   * when the decision says so, and the wait depends on whether the next attempt goes to the same
   * deployment. Empty when the plan is used up.
   */
  public Optional<Step> afterFailure(Attempt failed, RetryDecision.Retry retry) {
    String name = failed.deployment().name();
    if (!retry.sameDeploymentAllowed()) {
      excluded.add(name);
    }
    return next().map(a -> new Step(a, retry.delayBefore(a.deployment().name().equals(name))));
  }
}
