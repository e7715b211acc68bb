package io.sluice.node.provider;

import java.util.ArrayDeque;
import java.util.Queue;
import org.apache.pekko.stream.Attributes;
import org.apache.pekko.stream.Outlet;
import org.apache.pekko.stream.SourceShape;
import org.apache.pekko.stream.stage.AbstractOutHandler;
import org.apache.pekko.stream.stage.AsyncCallback;
import org.apache.pekko.stream.stage.GraphStage;
import org.apache.pekko.stream.stage.GraphStageLogic;
import org.apache.pekko.util.ByteString;

/**
 * The body of a streamed upstream response as a Pekko {@code Source}, fed by the connection's
 * event loop. It exists so that a streamed response crosses one thread hand-off per read instead
 * of Pekko HTTP's client pool, connection stream and TCP actor.
 *
 * <p>Backpressure: the connection reads only when this stage has been pulled and holds nothing
 * (the channel does not auto-read while a stream is on it), so a slow client slows the upstream
 * read instead of filling the heap. At most what one socket read decodes is held here. The
 * connection adds to a queue that only this stage polls and wakes the stage after each addition;
 * what arrived with the response head is pushed as soon as the stage starts.
 * Cancelling the stage (the client left, a timeout) closes the upstream connection.
 */
final class BodySource extends GraphStage<SourceShape<ByteString>> {
  /** The end of the body, after its last bytes. */
  static final Object END = new Object();

  /** The connection side of one streamed body; every method may be called from any thread. */
  interface Feed {
    /**
     * Takes the body: from now on the connection invokes {@code wake} whenever it added to
     * {@link #events()}. False if the body was already taken, in which case it never does.
     */
    boolean attach(AsyncCallback<Object> wake);

    /**
     * What the connection delivered, in order: chunks ({@link ByteString}), then {@link #END} or
     * a {@link Throwable}. Only the stage that took the body polls it.
     */
    Queue<Object> events();

    /** The stage holds nothing and wants more: read the connection once. */
    void demand();

    /** The stage stopped before the end of the body: give up the connection. */
    void cancel();
  }

  private final Outlet<ByteString> out = Outlet.create("UpstreamBody.out");
  private final SourceShape<ByteString> shape = SourceShape.of(out);
  private final Feed feed;

  BodySource(Feed feed) {
    this.feed = feed;
  }

  @Override
  public SourceShape<ByteString> shape() {
    return shape;
  }

  @Override
  public GraphStageLogic createLogic(Attributes inheritedAttributes) {
    return new GraphStageLogic(shape) {
      private final ArrayDeque<ByteString> held = new ArrayDeque<>();
      private boolean asked;
      /** {@code END} or the failure, once it came; acted on after the held bytes went out. */
      private Object terminal;

      {
        setHandler(out, new AbstractOutHandler() {
          @Override
          public void onPull() {
            if (!held.isEmpty()) {
              push(out, held.poll());
              if (held.isEmpty() && terminal != null) {
                finish();
              }
            } else if (!asked) {
              asked = true;
              feed.demand();
            }
          }
        });
      }

      @Override
      public void preStart() {
        if (!feed.attach(createAsyncCallback(signal -> drain()))) {
          terminal = new IllegalStateException("an upstream response body can be read only once");
          finish();
          return;
        }
        drain(); // what came with the head goes out without a round trip to the connection
      }

      private void drain() {
        for (Object event = feed.events().poll(); event != null && terminal == null; event = feed.events().poll()) {
          if (event instanceof ByteString bytes) {
            asked = false;
            if (held.isEmpty() && isAvailable(out)) {
              push(out, bytes);
            } else {
              held.add(bytes);
            }
          } else {
            terminal = event;
            if (held.isEmpty()) {
              finish();
            }
          }
        }
      }

      private void finish() {
        if (terminal instanceof Throwable failure) {
          failStage(failure);
        } else {
          completeStage();
        }
      }

      @Override
      public void postStop() {
        if (terminal == null) {
          feed.cancel(); // stopped before the end of the body: the client left, or a timeout
        }
      }
    };
  }
}
