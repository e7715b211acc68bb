package io.sluice.node.provider;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import com.typesafe.config.ConfigFactory;
import io.sluice.node.OneAtATime;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.pekko.actor.ActorSystem;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The Pekko side of a streamed upstream response: what the request path reads of its body. */
class UpstreamResponsesTest {
  private static ActorSystem system;
  private static Materializer mat;

  @BeforeAll
  static void start() {
    // Pekko's reference settings only: the node's application.conf makes a terminated system exit the JVM.
    system = ActorSystem.create("UpstreamResponsesTest", ConfigFactory.defaultReference());
    mat = Materializer.createMaterializer(system);
  }

  @AfterAll
  static void stop() {
    system.terminate();
  }

  @Test
  void streamedEntity_bodyFailsRightAfterItsLastChunks_everyChunkThenTheFailure() throws Exception {
    IllegalStateException cut = new IllegalStateException("connection closed");
    List<Object> seen = new CopyOnWriteArrayList<>();
    Source<ByteString, ?> body = OneAtATime.chunksThenFail(List.of("a", "b", "c", "d"), cut);

    Throwable failure = OneAtATime.read(
        UpstreamResponses.streamedEntity(ContentTypes.APPLICATION_OCTET_STREAM, body).getDataBytes(), mat, seen,
        ByteString::utf8String);

    assertEquals(List.of("a", "b", "c", "d"), seen, "the bytes before the cut are all read");
    assertSame(cut, failure);
  }
}
