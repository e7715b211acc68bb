package io.sluice.persistence;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.persistence.TenantEvent.KeyIssued;
import io.sluice.persistence.TenantEvent.KeyRevoked;
import io.sluice.persistence.TenantEvent.LimitsChanged;
import io.sluice.persistence.TenantEvent.ModelsChanged;
import io.sluice.persistence.TenantEvent.TenantCreated;
import io.sluice.persistence.TenantEvent.TenantDisabled;
import java.math.BigDecimal;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class TenantStateTest {
  private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");
  private static final Instant T1 = Instant.parse("2026-01-02T00:00:00Z");

  private static TenantState created() {
    return TenantState.EMPTY.apply(new TenantCreated("acme", TenantLimits.UNLIMITED, null, T0));
  }

  @Test
  void apply_created_existsEnabledAllModels() {
    TenantState s = created();
    assertTrue(s.exists());
    assertTrue(s.enabled());
    assertNull(s.models());
    assertEquals(1, s.revision());
  }

  @Test
  void apply_keyIssuedThenRevoked_keyKeptButInactive() {
    TenantState s = created().apply(new KeyIssued("k1", "h1", T0)).apply(new KeyRevoked("k1", T1));
    assertFalse(s.keys().get("k1").active());
    assertEquals(T1, s.keys().get("k1").revokedAt());
    assertEquals(3, s.revision());
  }

  @Test
  void apply_revokeTwice_keepsFirstRevocationTime() {
    TenantState s = created().apply(new KeyIssued("k1", "h1", T0)).apply(new KeyRevoked("k1", T0))
        .apply(new KeyRevoked("k1", T1));
    assertEquals(T0, s.keys().get("k1").revokedAt());
  }

  @Test
  void apply_limitsModelsDisabled_replaceFields() {
    TenantLimits l = new TenantLimits(5L, null, null, BigDecimal.ONE, null, null);
    TenantState s = created().apply(new LimitsChanged(l, T1)).apply(new ModelsChanged(List.of("m"), T1))
        .apply(new TenantDisabled(T1));
    assertEquals(l, s.limits());
    assertEquals(List.of("m"), s.models());
    assertFalse(s.enabled());
  }

  @Test
  void overlay_patchWithSomeFields_keepsOthers() {
    TenantLimits base = new TenantLimits(1L, 2L, 3L, BigDecimal.ONE, BigDecimal.TEN, 4L);
    TenantLimits patched = base.overlay(new TenantLimits(null, 20L, null, null, null, null));
    assertEquals(new TenantLimits(1L, 20L, 3L, BigDecimal.ONE, BigDecimal.TEN, 4L), patched);
  }

  @Test
  void firstInvalidField_negativeValue_namesField() {
    assertEquals("tokens_per_day", new TenantLimits(1L, 2L, -3L, null, null, null).firstInvalidField());
    assertEquals("spend_usd_per_month",
        new TenantLimits(null, null, null, null, new BigDecimal("-1"), null).firstInvalidField());
    assertNull(TenantLimits.UNLIMITED.firstInvalidField());
  }

  @Test
  void apply_keyIssuedWithLifecycleFields_recordKeepsThem() {
    KeyLimits kl = new KeyLimits(3L, 1000L);
    TenantState s = created().apply(new KeyIssued("k1", "h1", T0, T1, List.of("m"), kl));
    TenantState.KeyRecord k = s.keys().get("k1");
    assertEquals(T1, k.expiresAt());
    assertEquals(List.of("m"), k.models());
    assertEquals(kl, k.limits());
  }

  @Test
  void usableAt_beforeAtAndAfterExpiry_onlyBeforeIsUsable() {
    TenantState.KeyRecord k = created().apply(new KeyIssued("k1", "h1", T0, T1, null, null)).keys().get("k1");
    assertTrue(k.usableAt(T1.minusMillis(1)));
    assertFalse(k.usableAt(T1));
    assertFalse(k.usableAt(T1.plusMillis(1)));
    assertTrue(created().apply(new KeyIssued("k2", "h2", T0)).keys().get("k2").usableAt(T1.plusSeconds(1_000_000)));
  }

  @Test
  void apply_keyExpirySet_onlyEverBringsExpiryForward() {
    TenantState s = created().apply(new KeyIssued("k1", "h1", T0))
        .apply(new TenantEvent.KeyExpirySet("k1", T1, T0))
        .apply(new TenantEvent.KeyExpirySet("k1", T1.plusSeconds(60), T0));
    assertEquals(T1, s.keys().get("k1").expiresAt());
    s = s.apply(new TenantEvent.KeyExpirySet("k1", T0.plusSeconds(5), T0));
    assertEquals(T0.plusSeconds(5), s.keys().get("k1").expiresAt());
  }

  @Test
  void apply_keyExpirySetForUnknownKey_changesNoKey() {
    TenantState s = created().apply(new TenantEvent.KeyExpirySet("nope", T1, T0));
    assertTrue(s.keys().isEmpty());
    assertEquals(2, s.revision());
  }

  @Test
  void firstInvalidField_negativeKeyLimit_namesField() {
    assertEquals("tokens_per_minute", new KeyLimits(1L, -1L).firstInvalidField());
    assertNull(new KeyLimits(null, null).firstInvalidField());
    assertFalse(new KeyLimits(null, null).limited());
  }
}
