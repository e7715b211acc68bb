package io.sluice.node.inference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import com.typesafe.config.ConfigFactory;
import io.sluice.node.OneAtATime;
import io.sluice.node.inference.chat.ChatEvent;
import io.sluice.node.inference.chat.StreamDecoder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.pekko.actor.ActorSystem;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

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

    Throwable failure = run(OneAtATime.chunksThenFail(List.of("a,b"), cut), seen);

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

  /** Runs {@code body} through the stage into a reader that asks for one event at a time. */
  private static Throwable run(Source<ByteString, ?> body, List<ChatEvent> seen) throws Exception {
    List<Object> events = new CopyOnWriteArrayList<>();
    Throwable failure = OneAtATime.read(body.via(new DecodeStage(new CommaDecoder())), mat, events, e -> e);
    events.forEach(e -> seen.add((ChatEvent) e));
    return failure;
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
}
