package io.sluice.node.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class AdminJsonTest {
  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "{\"models\":\"gpt-4o-mini\"}", "{\"models\":{\"a\":\"gpt-4o-mini\"}}", "{\"models\":[1]}",
      "{\"models\":[[\"gpt-4o-mini\"]]}", "{\"models\":true}", "{\"models\":7}", "{\"models\":[\"a\",{}]}",
      "{\"models\":[\"a\",null]}", "{\"limits\":\"x\"}", "{\"limits\":[1]}", "{\"limits\":5}", "{\"limits\":true}",
      "{\"id\":\"other\"}", "[]", "\"models\"", "7"})
  void tenantPatchRead_wrongShapeOrType_refused(String body) {
    assertThrows(AdminJson.Invalid.class, () -> AdminJson.TenantPatch.read(utf8(body)), body);
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "{\"limits\":{\"requests_per_minute\":\"many\"}}", "{\"limits\":{\"requests_per_minute\":[1]}}",
      "{\"limits\":{\"nope\":1}}", "{\"models\":["})
  void tenantPatchRead_badLimitsOrJson_failsToParse(String body) {
    assertThrows(IOException.class, () -> AdminJson.TenantPatch.read(utf8(body)), body);
  }

  @Test
  void tenantPatchRead_stringModels_setsThem() throws Exception {
    AdminJson.TenantPatch p = AdminJson.TenantPatch.read(utf8("{\"models\":[\"a\",\"b\"]}"));
    assertTrue(p.setModels());
    assertEquals(List.of("a", "b"), p.models());
    assertNull(p.limits());
  }

  @Test
  void tenantPatchRead_nullModels_meansAllModels() throws Exception {
    AdminJson.TenantPatch p = AdminJson.TenantPatch.read(utf8("{\"models\":null}"));
    assertTrue(p.setModels());
    assertNull(p.models());
  }

  @Test
  void tenantPatchRead_limitsOnly_leavesModels() throws Exception {
    AdminJson.TenantPatch p = AdminJson.TenantPatch.read(utf8("{\"limits\":{\"requests_per_minute\":5}}"));
    assertFalse(p.setModels());
    assertEquals(5L, p.limits().requestsPerMinute());
  }

  @Test
  void tenantPatchRead_wrongModelsType_namesTheField() {
    AdminJson.Invalid e = assertThrows(AdminJson.Invalid.class,
        () -> AdminJson.TenantPatch.read(utf8("{\"models\":\"gpt-4o-mini\"}")));
    assertEquals("models", e.param());
  }
}
