package io.sluice.node.inference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import com.typesafe.config.ConfigFactory;
import io.sluice.node.inference.chat.ChatEvent;
import io.sluice.node.inference.chat.StreamDecoder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.ActorSystem;
import org.apache.pekko.stream.Attributes;
import org.apache.pekko.stream.javadsl.AsPublisher;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.Outlet;
import org.apache.pekko.stream.SourceShape;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.stream.stage.AbstractOutHandler;
import org.apache.pekko.stream.stage.GraphStage;
import org.apache.pekko.stream.stage.GraphStageLogic;
import org.apache.pekko.util.ByteString;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.reactivestreams.Subscriber;
import org.reactivestreams.Subscription;

class DecodeStageTest {
  private static ActorSystem system;
  private static Materializer mat;

  @BeforeAll
  static void start() {
    // Pekko's reference settings only: the node's application.conf makes a terminated system exit the JVM.
    system = ActorSystem.create("DecodeStageTest", ConfigFactory.defaultReference());
    mat = Materializer.createMaterializer(system);
  }

  @AfterAll
  static void stop() {
    system.terminate();
  }

  @Test
  void upstreamFails_rightAfterAChunkOfTwoEvents_bothEventsThenTheFailure() throws Exception {
    IllegalStateException cut = new IllegalStateException("connection closed");
    List<ChatEvent> seen = new CopyOnWriteArrayList<>();

    Throwable failure = run(Source.fromGraph(new PushThenFail(ByteString.fromString("a,b"), cut)), seen);

    assertEquals(List.of(delta("a"), delta("b")), seen, "the events decoded before the cut go out");
    assertSame(cut, failure);
  }

  @Test
  void upstreamCompletes_decoderHoldsATail_tailFollowsTheChunks() throws Exception {
    List<ChatEvent> seen = new CopyOnWriteArrayList<>();

    Throwable failure = run(Source.from(List.of(ByteString.fromString("a,b"), ByteString.emptyByteString(),
        ByteString.fromString("c"))), seen);

    assertEquals(null, failure);
    assertEquals(List.of(delta("a"), delta("b"), delta("c"), delta("end")), seen);
  }

  @Test
  void decoderThrows_onAChunk_streamFailsWithItsError() throws Exception {
    List<ChatEvent> seen = new CopyOnWriteArrayList<>();

    Throwable failure = run(Source.from(List.of(ByteString.fromString("a"), ByteString.fromString("!"))), seen);

    assertEquals(List.of(delta("a")), seen);
    assertEquals("bad chunk", failure.getMessage());
  }

  /**
   * Runs {@code body} through the stage into a reader that asks for one event at a time, as a
   * client on a socket does: the stage is never pulled ahead, so a failure finds events held.
   */
  private static Throwable run(Source<ByteString, ?> body, List<ChatEvent> seen) throws Exception {
    CompletableFuture<Void> done = new CompletableFuture<>();
    body.via(new DecodeStage(new CommaDecoder())).runWith(Sink.asPublisher(AsPublisher.WITHOUT_FANOUT), mat)
        .subscribe(new Subscriber<ChatEvent>() {
          private Subscription subscription;

          @Override
          public void onSubscribe(Subscription s) {
            subscription = s;
            s.request(1);
          }

          @Override
          public void onNext(ChatEvent event) {
            seen.add(event);
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

  private static ChatEvent delta(String text) {
    return new ChatEvent.TextDelta(text);
  }

  /** One event per comma-separated part of each chunk; "!" is malformed; "end" when the body ends. */
  private static final class CommaDecoder implements StreamDecoder {
    @Override
    public List<ChatEvent> decode(ByteString chunk) {
      List<ChatEvent> events = new ArrayList<>();
      for (String part : Arrays.asList(chunk.utf8String().split(","))) {
        if (part.equals("!")) {
          throw new IllegalArgumentException("bad chunk");
        }
        if (!part.isEmpty()) {
          events.add(delta(part));
        }
      }
      return events;
    }

    @Override
    public List<ChatEvent> end() {
      return List.of(delta("end"));
    }
  }

  /** Like a connection that delivers its last bytes and its close in one read: push, then fail unasked. */
  private static final class PushThenFail extends GraphStage<SourceShape<ByteString>> {
    private final Outlet<ByteString> out = Outlet.create("PushThenFail.out");
    private final ByteString chunk;
    private final Throwable failure;

    PushThenFail(ByteString chunk, Throwable failure) {
      this.chunk = chunk;
      this.failure = failure;
    }

    @Override
    public SourceShape<ByteString> shape() {
      return SourceShape.of(out);
    }

    @Override
    public GraphStageLogic createLogic(Attributes inheritedAttributes) {
      return new GraphStageLogic(shape()) {
        {
          setHandler(out, new AbstractOutHandler() {
            @Override
            public void onPull() {
              push(out, chunk);
              failStage(failure);
            }
          });
        }
      };
    }
  }
}
