package io.sluice.node.util;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.Scheduler;
import scala.concurrent.ExecutionContext;
import scala.concurrent.Future;
import scala.jdk.javaapi.FutureConverters;

/**
 * Continues Pekko's completion stages on the thread that completes them, and pauses between
 * tries without Pekko's {@code Patterns.after} (see {@link #after}).
 *
 * <p>Pekko's Java API hands out Scala futures wrapped as {@code CompletionStage}s whose every
 * callback, {@code thenApply} included, is forced onto the JDK common pool: a thread hand-off per
 * stage, several per request. The request path's callbacks are short and never block, so they may
 * run where the result appears (Pekko's own advice for such callbacks is the parasitic executor).
 */
public final class Stages {
  private Stages() {}

  /**
   * A stage that completes, with the same outcome, on the thread that completes {@code stage}; its
   * plain callbacks then run there too, with no hand-off.
   */
  public static <T> CompletableFuture<T> direct(CompletionStage<T> stage) {
    Future<T> future = FutureConverters.asScala(stage);
    if (future.isCompleted()) {
      scala.util.Try<T> done = future.value().get();
      return done.isSuccess() ? CompletableFuture.completedFuture(done.get())
          : CompletableFuture.failedFuture(done.failed().get());
    }
    CompletableFuture<T> out = new CompletableFuture<>();
    future.onComplete(t -> {
      if (t.isSuccess()) {
        out.complete(t.get());
      } else {
        out.completeExceptionally(t.failed().get());
      }
      return null;
    }, ExecutionContext.parasitic$.MODULE$);
    return out;
  }

  /**
   * A stage that completes, with null, after {@code delay}: a pause between tries. Not Pekko's
   * {@code Patterns.after}: in Pekko 1.7.0 its stage completes only with a non-null value or an
   * error ({@code FutureTimeoutSupport.afterCompletionStage}), so a {@code CompletionStage<Void>}
   * passed through it never completes.
   */
  public static CompletableFuture<Void> after(Scheduler scheduler, Duration delay, ExecutionContext executor) {
    CompletableFuture<Void> later = new CompletableFuture<>();
    scheduler.scheduleOnce(delay, () -> later.complete(null), executor);
    return later;
  }
}
