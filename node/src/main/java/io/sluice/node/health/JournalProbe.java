package io.sluice.node.health;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.BackoffSupervisorStrategy;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.ChildFailed;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.Terminated;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.RecoveryCompleted;
import org.apache.pekko.persistence.typed.javadsl.CommandHandler;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehavior;
import org.apache.pekko.persistence.typed.javadsl.SignalHandler;

/**
 * Proves that the journal answers: every probe interval it starts a tiny event-sourced actor that
 * recovers (a real journal read, through whichever plugin is configured) and reports success. A
 * node is ready only while recent probes succeed.
 *
 * <p>An outage is logged once, as a warning without a stack trace, when the first probe fails,
 * and its end once, when a probe recovers again: a probe fails every interval while the journal
 * is down, and a stack trace every two seconds would bury the log.
 */
public final class JournalProbe {
  private JournalProbe() {}

  private enum Tick { INSTANCE }

  /** The last time (System.nanoTime) a probe recovered; read by {@link Readiness}. */
  public static Behavior<Tick> create(String nodeId, Duration interval, AtomicLong lastSuccessNanos) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> {
      ctx.setLoggerName(JournalProbe.class);
      timers.startTimerWithFixedDelay(Tick.INSTANCE, Duration.ZERO, interval);
      PersistenceId id = PersistenceId.ofUniqueId("sluice-health|" + nodeId);
      long[] n = {0};
      long[] failures = {0};
      return Behaviors.receive(Tick.class)
          .onMessage(Tick.class, tick -> {
            // The failure is reported below, once per outage; the supervisor's own log of it would
            // be an ERROR with a stack trace for every probe.
            ActorRef<Stop> probe = ctx.spawn(Behaviors.supervise(Behaviors.<Stop>setup(c ->
                    new Recovery(id, c.getSelf(), lastSuccessNanos)))
                .onFailure(SupervisorStrategy.stop().withLoggingEnabled(false)), "probe-" + (n[0]++));
            ctx.watch(probe);
            return Behaviors.same();
          })
          .onSignal(ChildFailed.class, failed -> {
            if (failures[0]++ == 0) {
              ctx.getLog().warn("The journal does not answer ({}); the node is not ready until a probe recovers",
                  describe(failed.getCause()));
            }
            return Behaviors.same();
          })
          .onSignal(Terminated.class, stopped -> {
            if (failures[0] > 0) {
              ctx.getLog().info("The journal answers again, after {} failed probe(s)", failures[0]);
              failures[0] = 0;
            }
            return Behaviors.same();
          })
          .build();
    }));
  }

  /** The failure's type and message, without the stack trace. */
  private static String describe(Throwable cause) {
    return cause.getClass().getSimpleName() + ": " + cause.getMessage();
  }

  /** Sent by a probe to itself once it has recovered. */
  private enum Stop { INSTANCE }

  private static final class Recovery extends EventSourcedBehavior<Stop, Object, Object> {
    private final ActorRef<Stop> self;
    private final AtomicLong lastSuccessNanos;

    Recovery(PersistenceId id, ActorRef<Stop> self, AtomicLong lastSuccessNanos) {
      // A failed recovery stops the probe without a log line of its own; the parent reports the
      // outage. (By default an event-sourced behavior stops on a journal failure and logs it as
      // an ERROR with its stack trace.) No restarts: the next tick starts a new probe.
      super(id, SupervisorStrategy.restartWithBackoff(Duration.ofMillis(1), Duration.ofMillis(1), 0)
          .withMaxRestarts(0).withLoggingEnabled(false));
      this.self = self;
      this.lastSuccessNanos = lastSuccessNanos;
    }

    @Override
    public Object emptyState() {
      return "";
    }

    @Override
    public CommandHandler<Stop, Object, Object> commandHandler() {
      return newCommandHandlerBuilder().forAnyState().onAnyCommand(c -> Effect().stop());
    }

    @Override
    public EventHandler<Object, Object> eventHandler() {
      return newEventHandlerBuilder().forAnyState().onAnyEvent((s, e) -> s);
    }

    @Override
    public SignalHandler<Object> signalHandler() {
      return newSignalHandlerBuilder().onSignal(RecoveryCompleted.instance(), s -> {
        lastSuccessNanos.set(System.nanoTime());
        self.tell(Stop.INSTANCE);
      }).build();
    }
  }
}
