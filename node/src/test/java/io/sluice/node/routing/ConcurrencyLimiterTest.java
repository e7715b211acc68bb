package io.sluice.node.routing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ConcurrencyLimiterTest {

  @ParameterizedTest(name = "limit {0}")
  @ValueSource(ints = {1, 2, 3, 10})
  void tryAcquire_upToLimit_thenRefuses(int limit) {
    ConcurrencyLimiter l = new ConcurrencyLimiter(limit);
    for (int i = 0; i < limit; i++) {
      assertTrue(l.hasCapacity());
      assertTrue(l.tryAcquire());
    }
    assertFalse(l.hasCapacity());
    assertFalse(l.tryAcquire());
    assertEquals(limit, l.inFlight());
  }

  @Test
  void release_atLimit_freesOneSlot() {
    ConcurrencyLimiter l = new ConcurrencyLimiter(2);
    l.tryAcquire();
    l.tryAcquire();
    l.release();
    assertTrue(l.tryAcquire());
    assertFalse(l.tryAcquire());
  }

  @Test
  void tryAcquire_unlimited_neverRefuses() {
    ConcurrencyLimiter l = new ConcurrencyLimiter(Deployment.UNLIMITED);
    for (int i = 0; i < 100_000; i++) {
      assertTrue(l.tryAcquire());
    }
    assertEquals(Integer.MAX_VALUE, l.limit());
  }

  @Test
  void release_withoutAcquire_throwsAndStaysAtZero() {
    ConcurrencyLimiter l = new ConcurrencyLimiter(1);
    assertThrows(IllegalStateException.class, l::release);
    assertEquals(0, l.inFlight());
    assertTrue(l.tryAcquire());
  }

  @Test
  void constructor_negativeLimit_throws() {
    assertThrows(IllegalArgumentException.class, () -> new ConcurrencyLimiter(-1));
  }

  @Test
  void of_deployment_usesItsLimit() {
    assertEquals(7, ConcurrencyLimiter.of(Fixtures.deployment("d", 1, 0, 7)).limit());
    assertEquals(Integer.MAX_VALUE, ConcurrencyLimiter.of(Fixtures.deployment("d")).limit());
  }

  @ParameterizedTest(name = "limit {0}")
  @ValueSource(ints = {1, 4})
  void tryAcquire_manyThreads_neverExceedsLimit(int limit) throws Exception {
    ConcurrencyLimiter l = new ConcurrencyLimiter(limit);
    AtomicInteger holders = new AtomicInteger();
    AtomicInteger maxHolders = new AtomicInteger();
    LongAdder granted = new LongAdder();
    LongAdder refused = new LongAdder();
    int threads = 16;
    int iterations = 20_000;
    CountDownLatch go = new CountDownLatch(1);
    List<Thread> workers = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      Thread w = new Thread(() -> {
        try {
          go.await();
        } catch (InterruptedException e) {
          return;
        }
        for (int i = 0; i < iterations; i++) {
          if (l.tryAcquire()) {
            granted.increment();
            int now = holders.incrementAndGet();
            maxHolders.accumulateAndGet(now, Math::max);
            Thread.onSpinWait();
            holders.decrementAndGet();
            l.release();
          } else {
            refused.increment();
          }
        }
      });
      w.start();
      workers.add(w);
    }
    go.countDown();
    for (Thread w : workers) {
      w.join(TimeUnit.SECONDS.toMillis(20));
      assertFalse(w.isAlive(), "worker finished");
    }
    assertTrue(maxHolders.get() <= limit, "at most " + limit + " at once, saw " + maxHolders.get());
    assertTrue(maxHolders.get() >= 1);
    assertEquals((long) threads * iterations, granted.sum() + refused.sum());
    assertEquals(0, l.inFlight());
  }
}
