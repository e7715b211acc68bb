package io.sluice.node.inference;

import io.sluice.node.auth.TenantView;
import io.sluice.node.inference.chat.FinishReason;
import io.sluice.node.routing.Deployment;
import io.sluice.node.routing.ModelCatalog;
import io.sluice.persistence.UsageCounters;
import org.apache.pekko.http.javadsl.model.HttpRequest;

/**
 * The one hook on a client request's lifecycle that traces, metrics and the access log read
 * from, so that the pipeline tells what happened once and knows nothing of its observers. The
 * front creates one per request; it travels with the {@link Call}.
 *
 * <p>The lifecycle, in order: {@link #authenticated}, {@link #admitted}, then per upstream
 * attempt {@link #attemptStarted} and {@link #attemptEnded} (a usable attempt ends when the
 * request settles), {@link #responded}, {@link #firstByte}, and then {@link #settled} and
 * {@link #finished} in either order (a stream settles after its response went out). Steps run
 * one after another, never at once, except that {@code settled} may race {@code finished}.
 * {@code settled} is called exactly once for every admitted request, however it ends.
 *
 * <p>Every method defaults to doing nothing, and {@link #NONE} is the observation of a request
 * nobody observes.
 */
public interface RequestObservation {
  /** Observes nothing. */
  RequestObservation NONE = new RequestObservation() {};

  /** Makes the observation of each request as it arrives. */
  @FunctionalInterface
  interface Factory {
    /** Observes nothing. */
    Factory NONE = (surface, op, requestId, startNanos, header) -> RequestObservation.NONE;

    /**
     * @param surface the client protocol's name ({@code openai}, {@code anthropic})
     * @param startNanos when the request arrived, on the pipeline's clock
     * @param header the client request's headers by name (null when absent)
     */
    RequestObservation start(String surface, Operation op, String requestId, long startNanos,
        java.util.function.Function<String, String> header);
  }

  /** The key {@code key} is {@code view}'s tenant's. The key itself is never kept. */
  default void authenticated(TenantView view, String key) {}

  /** Admission reserved the request's estimate for {@code model}; {@code maxTokens} is the client's, -1 if none. */
  default void admitted(ModelCatalog.Model model, long maxTokens) {}

  /** An attempt is about to be sent to {@code d}. */
  default void attemptStarted(Deployment d) {}

  /** The upstream request of the current attempt, with the trace context it should carry. */
  default HttpRequest propagate(HttpRequest upstream) {
    return upstream;
  }

  /** The current attempt ended with {@code outcome} ({@code ok} or an error class, lowercase). */
  default void attemptEnded(String outcome) {}

  /** The upstream's answer named {@code model} and stopped for {@code reason} (either may be null). */
  default void responded(String model, FinishReason reason) {}

  /** The upstream's whole answer, passed through in the client's protocol (read only for what a trace reports). */
  default void passedThrough(org.apache.pekko.util.ByteString body) {}

  /** The first byte of a streamed response went to the client. Cheap: called per chunk. */
  default void firstByte() {}

  /** The request was refused with {@code refusal}. */
  default void refused(Refusal refusal) {}

  /** The request was charged {@code usage} (exactly once per admitted request). */
  default void settled(UsageCounters usage) {}

  /**
   * The pipeline's outcome is being rendered.
   *
   * @param streamed whether the body is a stream (then the request is not over before the stream is)
   * @param overheadNanos the gateway's own time so far, as the outcome measured it
   */
  default void served(boolean streamed, long overheadNanos) {}

  /** The response head went out with {@code status}. */
  default void finished(int status) {}
}
