package io.sluice.node.admission;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.node.auth.TenantView.KeyGrant;
import io.sluice.node.inference.Refusal;
import io.sluice.persistence.KeyLimits;
import java.time.Instant;
import java.time.InstantSource;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class KeyLimiterTest {
  private static final Instant MINUTE = Instant.parse("2026-05-01T10:00:00Z");
  private final AtomicReference<Instant> now = new AtomicReference<>(MINUTE.plusSeconds(10));
  private final InstantSource clock = () -> now.get();
  private final KeyLimiter limiter = new KeyLimiter(new WindowClock(clock), 100);

  private static KeyGrant key(String id, Long rpm, Long tpm) {
    return new KeyGrant(id, Long.MAX_VALUE, null, new KeyLimits(rpm, tpm));
  }

  private static Demand tokens(long n) {
    return new Demand(n, 0, 0);
  }

  @Test
  void reserve_pastTheKeysRpm_refusedAsARateLimitUntilTheNextMinute() {
    KeyGrant k = key("k1", 2L, null);
    limiter.reserve("acme", k, tokens(1));
    limiter.reserve("acme", k, tokens(1));
    QuotaExceeded e = assertThrows(QuotaExceeded.class, () -> limiter.reserve("acme", k, tokens(1)));
    assertEquals(429, e.refusal().status());
    assertEquals(Refusal.Kind.RATE_LIMITED, e.refusal().kind());
    assertEquals("rate_limit_exceeded", e.refusal().code());
    assertEquals(50, e.refusal().retryAfterSeconds());
    now.set(MINUTE.plusSeconds(60));
    limiter.reserve("acme", k, tokens(1));
  }

  @Test
  void reserve_otherKeyOrTenant_countedApart() {
    KeyGrant k = key("k1", 1L, null);
    limiter.reserve("acme", k, tokens(1));
    limiter.reserve("acme", key("k2", 1L, null), tokens(1));
    limiter.reserve("globex", k, tokens(1));
    assertThrows(QuotaExceeded.class, () -> limiter.reserve("acme", k, tokens(1)));
  }

  @Test
  void release_refusedByTheTenant_givesTheRequestAndTokensBack() {
    KeyGrant k = key("k1", 1L, 100L);
    limiter.reserve("acme", k, tokens(100)).release();
    limiter.reserve("acme", k, tokens(100));
    assertThrows(QuotaExceeded.class, () -> limiter.reserve("acme", k, tokens(1)));
  }

  @Test
  void settle_actualBelowTheEstimate_freesTheDifferenceForLaterRequests() {
    KeyGrant k = key("k1", null, 100L);
    KeyLimiter.Hold h = limiter.reserve("acme", k, tokens(80));
    QuotaExceeded e = assertThrows(QuotaExceeded.class, () -> limiter.reserve("acme", k, tokens(30)));
    assertTrue(e.refusal().message().contains("tokens per minute"), e.refusal().message());
    h.settle(20);
    limiter.reserve("acme", k, tokens(80));
  }

  @Test
  void settle_afterTheMinuteEnded_touchesOnlyItsOwnMinute() {
    KeyGrant k = key("k1", null, 100L);
    KeyLimiter.Hold h = limiter.reserve("acme", k, tokens(100));
    now.set(MINUTE.plusSeconds(61));
    limiter.reserve("acme", k, tokens(100));
    h.settle(0); // gives back to the old minute, not the new one
    assertThrows(QuotaExceeded.class, () -> limiter.reserve("acme", k, tokens(1)));
  }

  @Test
  void reserve_tokensRefused_givesItsRequestBack() {
    KeyGrant k = key("k1", 1L, 10L);
    assertThrows(QuotaExceeded.class, () -> limiter.reserve("acme", k, tokens(11)));
    limiter.reserve("acme", k, tokens(10));
  }
}
