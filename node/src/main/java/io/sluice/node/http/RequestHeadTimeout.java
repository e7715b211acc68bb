package io.sluice.node.http;

import java.time.Duration;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.stream.Attributes;
import org.apache.pekko.stream.FlowShape;
import org.apache.pekko.stream.Inlet;
import org.apache.pekko.stream.Outlet;
import org.apache.pekko.stream.stage.AbstractInHandler;
import org.apache.pekko.stream.stage.AbstractOutHandler;
import org.apache.pekko.stream.stage.GraphStage;
import org.apache.pekko.stream.stage.GraphStageLogic;
import org.apache.pekko.stream.stage.TimerGraphStageLogic;

/**
 * Closes a client connection that does not deliver a request head within {@code timeout} of being
 * ready for one: after it was accepted, and after each response was handed to the server. Pekko
 * HTTP has no such bound of its own; its idle timeout (minutes, since a request may wait that long
 * for its upstream) would let connections that never send a request hold the server's
 * {@code max-connections} slots, and with them every other client's access, /health/* included.
 *
 * <p>Placed in each connection's handler flow before the handler, which takes one request at a
 * time (pipelining limit 1): the stage is pulled only when the previous request has been answered,
 * so the clock never runs while a request waits for its answer. A head sent slowly byte by byte
 * (slowloris) is bounded the same way, since a request is only emitted once its head is complete.
 * On expiry the stage completes: the server then closes the connection without a response, as
 * nginx does for {@code client_header_timeout} on a connection that sent nothing.
 *
 * <p>The clock is one periodic timer per connection that compares the time since the stage was
 * last pulled, checked every quarter of the timeout, so a connection is closed between 1 and 1.25
 * timeouts after it fell silent. A timer per request would cost the hot path a scheduler task each
 * (kept on the heap until its slot of the timer wheel comes round, see http.conf's request-timeout).
 */
final class RequestHeadTimeout extends GraphStage<FlowShape<HttpRequest, HttpRequest>> {
  private static final Object TIMER = "request-head";

  private final Inlet<HttpRequest> in = Inlet.create("RequestHeadTimeout.in");
  private final Outlet<HttpRequest> out = Outlet.create("RequestHeadTimeout.out");
  private final FlowShape<HttpRequest, HttpRequest> shape = FlowShape.of(in, out);
  private final Duration timeout;

  RequestHeadTimeout(Duration timeout) {
    this.timeout = timeout;
  }

  @Override
  public FlowShape<HttpRequest, HttpRequest> shape() {
    return shape;
  }

  @Override
  public GraphStageLogic createLogic(Attributes inheritedAttributes) {
    long timeoutNanos = timeout.toNanos();
    Duration check = timeout.dividedBy(4).isZero() ? timeout : timeout.dividedBy(4);
    return new TimerGraphStageLogic(shape) {
      /** When the stage was pulled and not pushed since, or -1 while a request is being answered. */
      private long waitingSince = System.nanoTime();

      {
        setHandler(in, new AbstractInHandler() {
          @Override
          public void onPush() {
            waitingSince = -1;
            push(out, grab(in));
          }
        });
        setHandler(out, new AbstractOutHandler() {
          @Override
          public void onPull() {
            waitingSince = System.nanoTime();
            pull(in);
          }
        });
      }

      @Override
      public void preStart() {
        scheduleWithFixedDelay(TIMER, check, check);
      }

      @Override
      public void onTimer(Object key) {
        if (waitingSince >= 0 && System.nanoTime() - waitingSince >= timeoutNanos) {
          completeStage();
        }
      }
    };
  }
}
