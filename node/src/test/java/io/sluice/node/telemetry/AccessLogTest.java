package io.sluice.node.telemetry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sluice.node.inference.Operation;
import io.sluice.node.inference.Refusal;
import io.sluice.node.inference.RequestObservation;
import io.sluice.persistence.UsageCounters;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AccessLogTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Set<String> FIELDS = Set.of("timestamp", "request_id", "tenant", "key_id", "surface", "operation",
      "model", "deployment", "status", "error_code", "input_tokens", "output_tokens", "cost_usd", "duration_ms",
      "time_to_first_byte_ms", "overhead_ms", "attempts", "stream", "region");

  /** A logback logger of its own context whose appender collects lines, optionally held until released. */
  private static final class Collecting extends AppenderBase<ILoggingEvent> {
    final List<String> lines = new CopyOnWriteArrayList<>();
    final CountDownLatch release;
    final CountDownLatch entered = new CountDownLatch(1);

    Collecting(CountDownLatch release) {
      this.release = release;
    }

    @Override
    protected void append(ILoggingEvent e) {
      entered.countDown();
      try {
        release.await(10, TimeUnit.SECONDS);
      } catch (InterruptedException ex) {
        Thread.currentThread().interrupt();
      }
      lines.add(e.getFormattedMessage());
    }

    org.slf4j.Logger logger() {
      LoggerContext ctx = new LoggerContext();
      setContext(ctx);
      start();
      ch.qos.logback.classic.Logger l = ctx.getLogger(AccessLog.LOGGER);
      l.addAppender(this);
      return l;
    }
  }

  @Test
  void create_logOn_linesAppendedToItsFileOnly(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("access.log");
    Fixture f = Fixture.create();
    try (AccessLog log = new AccessLog(16, file)) {
      RequestObservation obs = f.observability(log, null)
          .start("openai", Operation.CHAT, "req-file", f.nanos.get(), h -> null);
      obs.refused(Refusal.modelNotFound("nope"));
      obs.finished(404);
    }
    List<String> lines = Files.readAllLines(file);
    assertEquals(1, lines.size(), lines.toString());
    assertEquals("req-file", JSON.readTree(lines.get(0)).get("request_id").asText());
  }

  @Test
  void create_logOff_noFileCreated(@TempDir Path dir) {
    Path file = dir.resolve("access.log");
    TelemetrySettings off = new TelemetrySettings(10, Fixture.SETTINGS.latencyBuckets(),
        Fixture.SETTINGS.overheadBuckets(), Fixture.SETTINGS.journalBuckets(), false, 16, file);
    Fixture f = Fixture.create();
    Observability.create(off, f.registry, f.nanos::get, java.time.InstantSource.system());
    assertFalse(Files.exists(file));
  }

  @Test
  void write_servedRequest_oneJsonLineWithEveryFieldAndNoSecret() throws Exception {
    Collecting appender = new Collecting(new CountDownLatch(0));
    Fixture f = Fixture.create();
    try (AccessLog log = new AccessLog(16, appender.logger())) {
      Observability o = f.observability(log, null);
      String key = "sk-sluice.acme.secretsecretsecret";
      RequestObservation obs = o.start("openai", Operation.CHAT, "req-9", f.nanos.get(), h -> null);
      obs.authenticated(Fixture.tenant("acme", key), key);
      obs.admitted(Fixture.MODEL, 100);
      obs.attemptStarted(Fixture.DEPLOYMENT);
      f.advanceMillis(40);
      obs.settled(new UsageCounters(1, 11, 22, 16_650));
      obs.served(false, 1_500_000);
      f.advanceMillis(1);
      obs.finished(200);

      RequestObservation refused = o.start("openai", Operation.EMBEDDINGS, "req-10", f.nanos.get(), h -> null);
      refused.refused(Refusal.modelNotFound("nope"));
      refused.finished(404);
    }
    assertEquals(2, appender.lines.size(), appender.lines.toString());
    JsonNode line = JSON.readTree(appender.lines.get(0));
    Set<String> names = new java.util.TreeSet<>();
    line.fieldNames().forEachRemaining(names::add);
    assertEquals(new java.util.TreeSet<>(FIELDS), names);
    assertEquals("2026-12-07T12:00:00Z", line.get("timestamp").asText());
    assertEquals("req-9", line.get("request_id").asText());
    assertEquals("acme", line.get("tenant").asText());
    assertEquals("key-acme", line.get("key_id").asText());
    assertEquals("openai", line.get("surface").asText());
    assertEquals("gpt-4o-mini", line.get("model").asText());
    assertEquals("mock-1", line.get("deployment").asText());
    assertEquals(200, line.get("status").asInt());
    assertTrue(line.get("error_code").isNull());
    assertEquals(11, line.get("input_tokens").asLong());
    assertEquals(22, line.get("output_tokens").asLong());
    assertEquals(1.665e-5, line.get("cost_usd").asDouble(), 1e-12);
    assertEquals(41.0, line.get("duration_ms").asDouble(), 1e-9);
    assertEquals(41.0, line.get("time_to_first_byte_ms").asDouble(), 1e-9);
    assertEquals(1.5, line.get("overhead_ms").asDouble(), 1e-9);
    assertEquals(1, line.get("attempts").asInt());
    assertTrue(line.get("region").isNull());
    assertFalse(appender.lines.get(0).contains("secret"));

    JsonNode refused = JSON.readTree(appender.lines.get(1));
    assertEquals(404, refused.get("status").asInt());
    assertEquals("model_not_found", refused.get("error_code").asText());
    assertTrue(refused.get("tenant").isNull());
    assertEquals("embeddings", refused.get("operation").asText());
  }

  @Test
  void write_writerStuck_fullQueueDropsAndCountsWithoutBlocking() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    Collecting appender = new Collecting(release);
    RequestRecord r = new RequestRecord(Fixture.NOW, "r", "openai", Operation.CHAT, "t", "k", "m", "d", 200, null,
        null, 1, 1, 1, 1, 1, false, 1, 1, null);
    try (AccessLog log = new AccessLog(4, appender.logger())) {
      log.write(r);
      assertTrue(appender.entered.await(10, TimeUnit.SECONDS), "the writer took the first line");
      // The writer is held inside the appender: 4 lines fill the queue, the next 10 are dropped.
      long t0 = System.nanoTime();
      for (int i = 0; i < 14; i++) {
        log.write(r);
      }
      long tookMs = (System.nanoTime() - t0) / 1_000_000;
      assertEquals(10, log.dropped());
      assertTrue(tookMs < 5_000, "writes blocked for " + tookMs + " ms");
      release.countDown();
    }
    assertEquals(5, appender.lines.size());
  }
}
