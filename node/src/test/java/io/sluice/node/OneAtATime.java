package io.sluice.node;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.apache.pekko.stream.Attributes;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.Outlet;
import org.apache.pekko.stream.SourceShape;
import org.apache.pekko.stream.javadsl.AsPublisher;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.stream.stage.AbstractOutHandler;
import org.apache.pekko.stream.stage.GraphStage;
import org.apache.pekko.stream.stage.GraphStageLogic;
import org.apache.pekko.util.ByteString;
import org.reactivestreams.Subscriber;
import org.reactivestreams.Subscription;

/**
 * Reads a stream asking for one element at a time, as a client on a socket does: nothing pulls
 * ahead of it, so a failure finds elements still held by the stages before it. Tests of what a
 * stream keeps when its upstream fails use it, with {@link #chunksThenFail} as that upstream.
 */
public final class OneAtATime {
  private OneAtATime() {}

  /** Adds each element of {@code source} (as {@code show} renders it) to {@code seen}; returns the failure, or null. */
  public static <T> Throwable read(Source<T, ?> source, Materializer mat, List<Object> seen,
      Function<T, Object> show) throws Exception {
    CompletableFuture<Void> done = new CompletableFuture<>();
    source.runWith(Sink.asPublisher(AsPublisher.WITHOUT_FANOUT), mat).subscribe(new Subscriber<T>() {
      private Subscription subscription;

      @Override
      public void onSubscribe(Subscription s) {
        subscription = s;
        s.request(1);
      }

      @Override
      public void onNext(T element) {
        seen.add(show.apply(element));
        subscription.request(1);
      }

      @Override
      public void onError(Throwable t) {
        done.completeExceptionally(t);
      }

      @Override
      public void onComplete() {
        done.complete(null);
      }
    });
    try {
      done.get(10, TimeUnit.SECONDS);
      return null;
    } catch (ExecutionException e) {
      return e.getCause();
    }
  }

  /**
   * Like a connection whose last read brought its last chunks and its close together: one chunk
   * per pull, and the failure right after the last one is pushed, unasked.
   */
  public static Source<ByteString, ?> chunksThenFail(List<String> chunks, Throwable failure) {
    return Source.fromGraph(new GraphStage<SourceShape<ByteString>>() {
      private final Outlet<ByteString> out = Outlet.create("ChunksThenFail.out");

      @Override
      public SourceShape<ByteString> shape() {
        return SourceShape.of(out);
      }

      @Override
      public GraphStageLogic createLogic(Attributes inheritedAttributes) {
        return new GraphStageLogic(shape()) {
          private int next;

          {
            setHandler(out, new AbstractOutHandler() {
              @Override
              public void onPull() {
                push(out, ByteString.fromString(chunks.get(next++)));
                if (next == chunks.size()) {
                  failStage(failure);
                }
              }
            });
          }
        };
      }
    });
  }
}
