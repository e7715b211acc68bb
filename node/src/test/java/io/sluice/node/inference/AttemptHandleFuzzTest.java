package io.sluice.node.inference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import com.typesafe.config.ConfigFactory;
import io.sluice.node.FuzzBudget;
import io.sluice.node.provider.ErrorClass;
import io.sluice.node.routing.ConcurrencyLimiter;
import io.sluice.node.routing.Deployment;
import io.sluice.node.routing.DeploymentStates;
import io.sluice.node.routing.HealthSettings;
import io.sluice.node.routing.OutlierDetector;
import io.sluice.node.routing.PeakEwma;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Any sequence of attempts on one deployment, each opened and then ended by any sequence of
 * {@link AttemptHandle#responded}, {@link AttemptHandle#failed} and {@link AttemptHandle#close}
 * calls, in any interleaving: after every call the limiter holds exactly the slots of the handles
 * not yet released and the latency tracker counts exactly the attempts not yet recorded; each
 * attempt is recorded in the health window at most once; and once every handle is closed, nothing
 * is held.
 */
class AttemptHandleFuzzTest {
  private static final ErrorClass[] ERRORS = ErrorClass.values();

  /** What the test expects of one handle. */
  private static final class Model {
    final AttemptHandle handle;
    boolean recorded;
    boolean released;

    Model(AttemptHandle handle) {
      this.handle = handle;
    }
  }

  @FuzzTest(maxDuration = FuzzBudget.CI)
  void handles_anyCallSequence_holdNothingAfterClose(FuzzedDataProvider data) {
    int limit = data.consumeInt(0, 4);
    HealthSettings health = HealthSettings.from(ConfigFactory.parseResources("sluice/upstream.conf").resolve());
    AtomicLong millis = new AtomicLong(Instant.parse("2026-03-01T12:00:00Z").toEpochMilli());
    AtomicLong nanos = new AtomicLong();
    InstantSource clock = () -> Instant.ofEpochMilli(millis.get());
    Deployment d = new Deployment("d", "openai", "http://localhost", "m", null, 1, 0, Duration.ofSeconds(1),
        Duration.ofSeconds(60), Duration.ofMinutes(10), 16, 64, limit);
    ConcurrencyLimiter limiter = ConcurrencyLimiter.of(d);
    PeakEwma latency = new PeakEwma(Duration.ofSeconds(10), Duration.ofMillis(100), nanos::get);
    OutlierDetector detector = new OutlierDetector(health, clock);
    DeploymentStates.State state = new DeploymentStates.State(d, limiter, latency, detector);
    List<Model> handles = new ArrayList<>();
    long windowBefore = detector.snapshot().requestsInWindow();
    int ops = data.consumeInt(0, 64);
    for (int i = 0; i < ops && data.remainingBytes() > 0; i++) {
      int op = data.consumeInt(0, 4);
      if (op == 0 || handles.isEmpty()) {
        Object opened = AttemptHandle.open(state, data.consumeBoolean());
        if (opened instanceof AttemptHandle h) {
          handles.add(new Model(h));
        }
      } else {
        Model m = handles.get(data.consumeInt(0, handles.size() - 1));
        switch (op) {
          case 1 -> {
            m.handle.responded();
            m.recorded = true;
          }
          case 2 -> {
            m.handle.failed(ERRORS[data.consumeInt(0, ERRORS.length - 1)]);
            m.recorded = true;
            m.released = true;
          }
          case 3 -> {
            m.handle.close();
            m.recorded = true;
            m.released = true;
          }
          default -> nanos.addAndGet(data.consumeLong(0, 1_000_000_000L));
        }
      }
      check(handles, limiter, latency);
      assertTrue(detector.snapshot().requestsInWindow() - windowBefore <= handles.size(),
          "an attempt recorded in the health window more than once");
    }
    for (Model m : handles) {
      m.handle.close();
      m.recorded = true;
      m.released = true;
      assertTrue(m.handle.released());
    }
    check(handles, limiter, latency);
    assertEquals(0, limiter.inFlight(), "a slot left held");
    assertEquals(0, latency.inFlight(), "an attempt left in flight");
    assertTrue(detector.snapshot().requestsInWindow() - windowBefore <= handles.size(),
        "an attempt recorded in the health window more than once");
  }

  private static void check(List<Model> handles, ConcurrencyLimiter limiter, PeakEwma latency) {
    assertEquals(handles.stream().filter(m -> !m.released).count(), limiter.inFlight(), "slots held");
    assertEquals(handles.stream().filter(m -> !m.recorded).count(), latency.inFlight(), "attempts in flight");
  }
}
