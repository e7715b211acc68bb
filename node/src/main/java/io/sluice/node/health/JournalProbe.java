package io.sluice.node.health;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
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
 */
public final class JournalProbe {
  private JournalProbe() {}

  private enum Tick { INSTANCE }

  /** The last time (System.nanoTime) a probe recovered; read by {@link Readiness}. */
  public static Behavior<Tick> create(String nodeId, Duration interval, AtomicLong lastSuccessNanos) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> {
      timers.startTimerWithFixedDelay(Tick.INSTANCE, Duration.ZERO, interval);
      long[] n = {0};
      return Behaviors.receiveMessage(tick -> {
        ctx.spawn(Behaviors.<Stop>setup(c -> new Recovery(PersistenceId.ofUniqueId("sluice-health|" + nodeId),
            c.getSelf(), lastSuccessNanos)), "probe-" + (n[0]++));
        return Behaviors.same();
      });
    }));
  }

  /** Sent by a probe to itself once it has recovered. */
  private enum Stop { INSTANCE }

  private static final class Recovery extends EventSourcedBehavior<Stop, Object, Object> {
    private final ActorRef<Stop> self;
    private final AtomicLong lastSuccessNanos;

    Recovery(PersistenceId id, ActorRef<Stop> self, AtomicLong lastSuccessNanos) {
      super(id);
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
