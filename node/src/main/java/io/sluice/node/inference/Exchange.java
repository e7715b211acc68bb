package io.sluice.node.inference;

import io.sluice.node.admission.Ticket;
import io.sluice.node.provider.ErrorClass;
import io.sluice.node.provider.UpstreamError;
import io.sluice.node.routing.AttemptPlan;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** One request's state in the attempt loop; its steps run one after another, never at once. */
final class Exchange {
  final Gate.Admitted admitted;
  final Call call;
  final Controls controls;
  final long startNanos;
  final List<String> failures = new ArrayList<>(3);
  AttemptPlan plan;
  AttemptHandle handle;
  int attempts;
  long upstreamNanos;
  long waitedNanos;
  ErrorClass lastError;
  UpstreamError lastUpstream;
  Optional<Duration> lastRetryAfter = Optional.empty();

  Exchange(Gate.Admitted admitted, Call call, Controls controls, long startNanos) {
    this.admitted = admitted;
    this.call = call;
    this.controls = controls;
    this.startNanos = startNanos;
  }

  Ticket ticket() {
    return admitted.ticket();
  }

  Duration remaining(long now) {
    return Duration.ofNanos(controls.deadlineNanos() - now);
  }

  Outcome.Timing timing() {
    return new Outcome.Timing(startNanos, upstreamNanos, waitedNanos);
  }

  /** Settles the ticket with {@code usage}, and tells the observation when this call was the one that settled it. */
  void settle(io.sluice.persistence.UsageCounters usage) {
    if (admitted.ticket().finish(usage)) {
      call.observation().settled(usage);
    }
  }

  /** The request ended without a usable outcome: settle it as nothing generated, release the attempt. */
  void abandon() {
    call.observation().attemptEnded("abandoned");
    settle(Settlement.NOTHING_GENERATED);
    if (handle != null) {
      handle.close();
    }
  }
}
