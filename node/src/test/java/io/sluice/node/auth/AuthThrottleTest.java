package io.sluice.node.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class AuthThrottleTest {
  private final AtomicLong clock = new AtomicLong(1_000_000_000L);

  private static InetAddress addr(int last) throws UnknownHostException {
    return InetAddress.getByAddress(new byte[] {10, 0, 0, (byte) last});
  }

  private AuthThrottle throttle(int burst, double perMinute, long maxAddresses) {
    return new AuthThrottle(new AuthThrottleSettings(true, burst, perMinute, maxAddresses), clock::get);
  }

  @Test
  void retryAfterSeconds_burstOfFailures_throttlesOnlyAfterTheBurst() throws Exception {
    AuthThrottle t = throttle(3, 60, 100);
    InetAddress a = addr(1);
    for (int i = 0; i < 3; i++) {
      assertEquals(0, t.retryAfterSeconds(a), "attempt " + i);
      t.failed(a);
    }
    assertEquals(1, t.retryAfterSeconds(a));
  }

  @Test
  void retryAfterSeconds_afterRefill_allowsAgain() throws Exception {
    AuthThrottle t = throttle(2, 6, 100); // one token per 10 s
    InetAddress a = addr(1);
    t.failed(a);
    t.failed(a);
    assertEquals(10, t.retryAfterSeconds(a));
    clock.addAndGet(TimeUnit.SECONDS.toNanos(4));
    assertEquals(6, t.retryAfterSeconds(a));
    clock.addAndGet(TimeUnit.SECONDS.toNanos(6));
    assertEquals(0, t.retryAfterSeconds(a));
    t.failed(a);
    assertTrue(t.retryAfterSeconds(a) > 0, "the refilled token was spent");
  }

  @Test
  void retryAfterSeconds_otherAddress_isNotAffected() throws Exception {
    AuthThrottle t = throttle(1, 1, 100);
    t.failed(addr(1));
    assertTrue(t.retryAfterSeconds(addr(1)) > 0);
    assertEquals(0, t.retryAfterSeconds(addr(2)));
  }

  @Test
  void retryAfterSeconds_noFailures_tracksNoAddress() throws Exception {
    AuthThrottle t = throttle(1, 1, 100);
    for (int i = 0; i < 50; i++) {
      assertEquals(0, t.retryAfterSeconds(addr(i)));
    }
    assertEquals(0, t.tracked());
  }

  @Test
  void failed_manyAddresses_keepsAtMostMaxAddresses() throws Exception {
    AuthThrottle t = throttle(1, 1, 10);
    for (int i = 0; i < 200; i++) {
      t.failed(addr(i));
    }
    assertTrue(t.tracked() <= 10, "tracked " + t.tracked());
  }

  @Test
  void failed_idleLongerThanFullRefill_forgetsTheAddress() throws Exception {
    AuthThrottle t = throttle(2, 60, 100);
    t.failed(addr(1));
    assertEquals(1, t.tracked());
    clock.addAndGet(TimeUnit.SECONDS.toNanos(3));
    assertEquals(0, t.tracked());
  }

  @Test
  void retryAfterSeconds_disabledOrUnknownAddress_neverThrottles() throws Exception {
    AuthThrottle off = new AuthThrottle(new AuthThrottleSettings(false, 1, 1, 10), clock::get);
    off.failed(addr(1));
    off.failed(addr(1));
    assertEquals(0, off.retryAfterSeconds(addr(1)));
    AuthThrottle on = throttle(1, 1, 10);
    on.failed(null);
    on.failed(null);
    assertEquals(0, on.retryAfterSeconds(null));
  }
}
