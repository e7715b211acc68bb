package io.sluice.node.inference;

import io.sluice.node.inference.chat.ChatEvent;
import io.sluice.node.inference.chat.StreamDecoder;
import java.util.ArrayDeque;
import org.apache.pekko.stream.Attributes;
import org.apache.pekko.stream.FlowShape;
import org.apache.pekko.stream.Inlet;
import org.apache.pekko.stream.Outlet;
import org.apache.pekko.stream.stage.AbstractInHandler;
import org.apache.pekko.stream.stage.AbstractOutHandler;
import org.apache.pekko.stream.stage.GraphStage;
import org.apache.pekko.stream.stage.GraphStageLogic;
import org.apache.pekko.util.ByteString;

/**
 * A streamed upstream body decoded into neutral events. It exists because Pekko's
 * {@code mapConcat} fails as soon as its upstream fails, dropping the events a chunk produced
 * that the client has not pulled yet. Here every event decoded before a failure goes out first,
 * then the failure; at the end of the body the decoder's held events ({@link StreamDecoder#end()})
 * follow.
 */
final class DecodeStage extends GraphStage<FlowShape<ByteString, ChatEvent>> {
  private final Inlet<ByteString> in = Inlet.create("Decode.in");
  private final Outlet<ChatEvent> out = Outlet.create("Decode.out");
  private final FlowShape<ByteString, ChatEvent> shape = FlowShape.of(in, out);
  private final StreamDecoder decoder;

  DecodeStage(StreamDecoder decoder) {
    this.decoder = decoder;
  }

  @Override
  public FlowShape<ByteString, ChatEvent> shape() {
    return shape;
  }

  @Override
  public GraphStageLogic createLogic(Attributes inheritedAttributes) {
    return new GraphStageLogic(shape) {
      private final ArrayDeque<ChatEvent> pending = new ArrayDeque<>();

      {
        setHandler(in, new AbstractInHandler() {
          @Override
          public void onPush() {
            pending.addAll(decoder.decode(grab(in)));
            next();
          }

          @Override
          public void onUpstreamFinish() {
            pending.addAll(decoder.end());
            drainThen(() -> completeStage());
          }

          @Override
          public void onUpstreamFailure(Throwable failure) {
            drainThen(() -> failStage(failure));
          }
        });
        setHandler(out, new AbstractOutHandler() {
          @Override
          public void onPull() {
            next();
          }
        });
      }

      private void next() {
        if (!pending.isEmpty()) {
          if (isAvailable(out)) {
            push(out, pending.poll());
          }
        } else if (!hasBeenPulled(in) && !isClosed(in)) {
          pull(in);
        }
      }

      /** The input is closed: what is pending goes out as it is pulled, then {@code last}. */
      private void drainThen(Runnable last) {
        if (pending.isEmpty()) {
          last.run();
        } else {
          emitMultiple(out, pending.iterator(), last::run);
        }
      }
    };
  }
}
