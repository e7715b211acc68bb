package io.sluice.node.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.persistence.KeyLimits;
import io.sluice.persistence.TenantEvent.KeyExpirySet;
import io.sluice.persistence.TenantEvent.KeyIssued;
import io.sluice.persistence.TenantEvent.KeyRevoked;
import io.sluice.persistence.TenantEvent.TenantCreated;
import io.sluice.persistence.TenantLimits;
import io.sluice.persistence.TenantState;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

class TenantViewTest {
  private static final Instant T = Instant.parse("2026-05-01T10:00:00Z");
  private static final long EXPIRY = T.plusSeconds(60).toEpochMilli();

  private static TenantState tenant(List<String> models) {
    return TenantState.EMPTY.apply(new TenantCreated("acme", TenantLimits.UNLIMITED, models, T))
        .apply(new KeyIssued("plain", "h-plain", T))
        .apply(new KeyIssued("exp", "h-exp", T, T.plusSeconds(60), null, null))
        .apply(new KeyIssued("narrow", "h-narrow", T, null, List.of("a", "b"), new KeyLimits(3L, null)));
  }

  @ParameterizedTest(name = "{0} ms from expiry: accepted {1}")
  @CsvSource({"-60000, true", "-1, true", "0, false", "1, false", "3600000, false"})
  void grant_aroundTheKeysExpiry_acceptedOnlyBeforeIt(long offsetMillis, boolean accepted) {
    TenantView view = TenantView.of("acme", tenant(null));
    assertEquals(accepted, view.accepts("h-exp", EXPIRY + offsetMillis));
    assertTrue(view.accepts("h-plain", EXPIRY + offsetMillis), "a key without expiry never expires");
  }

  @Test
  void grant_rotatedKeyAfterItsOverlap_refused() {
    TenantState s = tenant(null).apply(new KeyExpirySet("plain", T.plusSeconds(5), T));
    TenantView view = TenantView.of("acme", s);
    assertTrue(view.accepts("h-plain", T.plusSeconds(5).toEpochMilli() - 1));
    assertFalse(view.accepts("h-plain", T.plusSeconds(5).toEpochMilli()));
  }

  @Test
  void grant_revokedUnknownOrDisabled_refused() {
    TenantState s = tenant(null).apply(new KeyRevoked("plain", T));
    TenantView view = TenantView.of("acme", s);
    assertNull(view.grant("h-plain", T.toEpochMilli()));
    assertNull(view.grant("nope", T.toEpochMilli()));
    TenantView disabled = TenantView.of("acme",
        s.apply(new io.sluice.persistence.TenantEvent.TenantDisabled(T)));
    assertNull(disabled.grant("h-exp", T.toEpochMilli()));
  }

  @Test
  void as_keyWithoutRestrictions_isTheTenantsViewItself() {
    TenantView view = TenantView.of("acme", tenant(null));
    assertSame(view, view.as(view.grant("h-plain", T.toEpochMilli())));
    assertSame(view, view.as(view.grant("h-exp", T.toEpochMilli())));
  }

  @ParameterizedTest(name = "tenant {0}, model {1}: allowed {2}")
  @CsvSource({"all, a, true", "all, c, false", "a;c, a, true", "a;c, b, false", "a;c, c, false"})
  void allows_keyWithModels_intersectsWithTheTenantsModels(String tenantModels, String model, boolean allowed) {
    List<String> models = tenantModels.equals("all") ? null : List.of(tenantModels.split(";"));
    TenantView view = TenantView.of("acme", tenant(models));
    TenantView narrowed = view.as(view.grant("h-narrow", T.toEpochMilli()));
    assertNotNull(narrowed.key());
    assertEquals("narrow", narrowed.key().keyId());
    assertEquals(allowed, narrowed.allows(model));
  }
}
