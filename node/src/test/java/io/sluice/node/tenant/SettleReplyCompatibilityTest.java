package io.sluice.node.tenant;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.typesafe.config.ConfigFactory;
import io.sluice.node.tenant.TenantCommand.SettleReply;
import io.sluice.persistence.CborSerializable;
import java.time.Instant;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.serialization.Serialization;
import org.apache.pekko.serialization.SerializationExtension;
import org.apache.pekko.serialization.Serializers;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@link SettleReply} crosses the cluster, and during a rolling upgrade between versions: an
 * answer without {@code priorSeq} (from an older node) must read as "cannot tell", not as 0.
 */
class SettleReplyCompatibilityTest {
  private static ActorTestKit kit;
  private static Serialization serialization;

  /** The answer's shape before {@code priorSeq}. */
  record OlderSettleReply(boolean applied, Instant expiresAt) implements CborSerializable {}

  @BeforeAll
  static void start() {
    kit = ActorTestKit.create("SettleReplyCompatibilityTest",
        ConfigFactory.parseString("""
                pekko.actor.provider = local
                pekko.coordinated-shutdown.exit-jvm = off
                """).withFallback(ConfigFactory.load()));
    serialization = SerializationExtension.get(kit.system().classicSystem());
  }

  @AfterAll
  static void stop() {
    kit.shutdownTestKit();
  }

  private static Object roundTrip(Object message, String asManifest) {
    byte[] bytes = serialization.serialize(message).get();
    int serializerId = serialization.findSerializerFor(message).identifier();
    return serialization.deserialize(bytes, serializerId, asManifest).get();
  }

  @Test
  void deserialize_answerOfAnOlderNode_priorSeqNull() {
    Instant at = Instant.parse("2026-03-10T12:00:00Z");
    Object read = roundTrip(new OlderSettleReply(true, at), SettleReply.class.getName());
    assertEquals(new SettleReply(true, at, null), read);
  }

  @Test
  void deserialize_currentAnswer_priorSeqKept() {
    SettleReply reply = new SettleReply(false, Instant.parse("2026-03-10T12:00:00Z"), 7L);
    assertEquals(reply, roundTrip(reply, Serializers.manifestFor(serialization.findSerializerFor(reply), reply)));
  }
}
