package io.sluice.node.health;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.LoggingTestKit;
import org.apache.pekko.persistence.testkit.PersistenceTestKitPlugin;
import org.apache.pekko.persistence.testkit.PersistenceTestKitSnapshotPlugin;
import org.apache.pekko.persistence.testkit.javadsl.PersistenceTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.slf4j.event.Level;

/** The journal probe against a journal whose reads fail, as during a Cassandra outage. */
class JournalProbeTest {
  private static final ActorTestKit kit = ActorTestKit.create(
      PersistenceTestKitPlugin.config().withFallback(PersistenceTestKitSnapshotPlugin.config()));

  @AfterAll
  static void stop() {
    kit.shutdownTestKit();
  }

  @Test
  void create_threeProbesFail_warnsOnceWithoutErrorsAndLogsTheRecovery() {
    PersistenceTestKit journal = PersistenceTestKit.create(kit.system());
    journal.failNextNReads(3);
    AtomicLong lastSuccess = new AtomicLong();
    LoggingTestKit.empty().withLogLevel(Level.ERROR).withOccurrences(0).expect(kit.system(), () ->
        LoggingTestKit.warn("The journal does not answer").withOccurrences(1).expect(kit.system(), () ->
            LoggingTestKit.info("The journal answers again, after 3 failed probe(s)").expect(kit.system(), () -> {
              kit.spawn(JournalProbe.create("test-node", Duration.ofMillis(100), lastSuccess), "journal-probe");
              kit.createTestProbe().awaitAssert(Duration.ofSeconds(10), () -> {
                assertTrue(lastSuccess.get() != 0, "no probe recovered");
                return null;
              });
              return null;
            })));
  }
}
