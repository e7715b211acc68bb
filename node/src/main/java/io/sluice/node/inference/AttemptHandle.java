package io.sluice.node.inference;

import io.sluice.node.provider.ErrorClass;
import io.sluice.node.routing.DeploymentStates;
import io.sluice.node.routing.OutlierDetector;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One attempt's hold on its deployment, as Finagle's {@code PeakEwmaNode} keeps one per request:
 * the concurrency slot, the outlier detector's permit and the latency sample. The attempt reports
 * its outcome in one call and the handle does all the bookkeeping; whatever order things end in,
 * and whichever path ends it (an exception included), the outcome is recorded once and the slot
 * released once.
 *
 * <p>Its life: {@link #open} takes the slot and the permit; then {@link #responded()} (a usable
 * answer: health and latency recorded, the slot still held while the body is read or streamed) or
 * {@link #failed} (health and latency recorded, the slot released); {@link #close()} releases the
 * slot at the end, and records an abandoned attempt if nothing was recorded.
 */
public final class AttemptHandle implements AutoCloseable {
  /** Why {@link #open} could not take the deployment. */
  public enum Unavailable { AT_CONCURRENCY_LIMIT, EJECTED }

  private static final int RECORDED = 1;
  private static final int RELEASED = 2;

  private final DeploymentStates.State state;
  private final OutlierDetector.Permit health;
  private final long latencyStart;
  private final AtomicInteger done = new AtomicInteger();

  private AttemptHandle(DeploymentStates.State state, OutlierDetector.Permit health) {
    this.state = state;
    this.health = health;
    this.latencyStart = state.latency().start();
  }

  /**
   * Takes the deployment's slot and health permit, or says why it cannot: at its concurrency
   * limit, or ejected as unhealthy (a pinned attempt goes to an ejected deployment all the same).
   * Returns an {@link AttemptHandle} or an {@link Unavailable}.
   */
  public static Object open(DeploymentStates.State state, boolean pinned) {
    if (!state.limiter().tryAcquire()) {
      return Unavailable.AT_CONCURRENCY_LIMIT;
    }
    OutlierDetector.Permit permit = state.health().tryAcquire();
    if (!permit.granted() && !pinned) {
      state.limiter().release();
      return Unavailable.EJECTED;
    }
    return new AttemptHandle(state, permit);
  }

  /** The upstream answered with a usable response: a success for health and latency. */
  public void responded() {
    if (mark(RECORDED)) {
      state.latency().end(latencyStart);
      if (health.granted()) {
        state.health().onSuccess(health);
      }
    }
  }

  /**
   * The attempt failed with {@code error}: recorded against the deployment's health as the class
   * says (a timeout also as a latency sample, since it measured how slow the deployment is), and
   * the slot released.
   */
  public void failed(ErrorClass error) {
    if (mark(RECORDED)) {
      if (error == ErrorClass.TIMEOUT) {
        state.latency().end(latencyStart);
      } else {
        state.latency().endWithoutSample();
      }
      if (health.granted()) {
        state.health().onError(health, error);
      }
    }
    close();
  }

  /** Releases the slot; an attempt that recorded nothing is recorded as abandoned. Idempotent. */
  @Override
  public void close() {
    if (mark(RECORDED)) {
      state.latency().endWithoutSample();
      if (health.granted()) {
        state.health().onAbandoned(health);
      }
    }
    if (mark(RELEASED)) {
      state.limiter().release();
    }
  }

  /** Whether the slot was released. */
  public boolean released() {
    return (done.get() & RELEASED) != 0;
  }

  private boolean mark(int bit) {
    int prev = done.getAndUpdate(v -> v | bit);
    return (prev & bit) == 0;
  }
}
