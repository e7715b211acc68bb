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
}
