package io.sluice.node.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Base64;
import java.util.HashSet;
import java.util.Set;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.NullAndEmptySource;
import org.junit.jupiter.params.provider.ValueSource;

class ApiKeysTest {
  private static final Pattern HEX64 = Pattern.compile("[0-9a-f]{64}");
  private static final Pattern BASE64URL = Pattern.compile("[A-Za-z0-9_-]+");

  // ---------------------------------------------------------------- newKey

  @Test
  void newKey_tenant_hasPrefixAndAtLeast128BitSecret() {
    String key = ApiKeys.newKey("acme");
    assertTrue(key.startsWith("sk-sluice.acme."), key);
    String secret = key.substring("sk-sluice.acme.".length());
    assertTrue(secret.length() >= 22, "22 base64url chars carry 132 bits; got " + secret.length());
    assertTrue(BASE64URL.matcher(secret).matches(), "secret must be unpadded base64url: " + secret);
    assertTrue(Base64.getUrlDecoder().decode(secret).length >= 16, "at least 128 bits of secret");
  }

  @Test
  void newKey_calledTwice_keysDiffer() {
    assertNotEquals(ApiKeys.newKey("acme"), ApiKeys.newKey("acme"));
  }

  @Test
  void newKey_manyKeys_allDistinct() {
    Set<String> keys = new HashSet<>();
    for (int i = 0; i < 1000; i++) {
      assertTrue(keys.add(ApiKeys.newKey("acme")));
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"acme", "a", "team-1", "t_2", "0abc"})
  void newKey_validTenant_routesBackToTenant(String tenant) {
    assertEquals(tenant, ApiKeys.tenantOf(ApiKeys.newKey(tenant)));
  }

  @Test
  void newKeyId_calledTwice_distinctAndShaped() {
    String a = ApiKeys.newKeyId();
    String b = ApiKeys.newKeyId();
    assertNotEquals(a, b);
    assertTrue(a.matches("key_[0-9a-f]{16}"), a);
  }

  // ---------------------------------------------------------------- tenantOf

  @ParameterizedTest(name = "[{index}] {0} -> {1}")
  @CsvSource(nullValues = "NULL", value = {
      "sk-sluice.acme.secret,             acme",
      "sk-sluice.acme-1_x.s,              acme-1_x",
      "sk-sluice.acme.sec.ret,            acme",
      "sk-sluice.0.s,                     0",
      // wrong prefix
      "sk-acme.secret,                    NULL",
      "SK-SLUICE.acme.secret,             NULL",
      "xsk-sluice.acme.secret,            NULL",
      "sk-proj-abcdef,                    NULL",
      // missing dot between tenant and secret
      "sk-sluice.acme,                    NULL",
      "sk-sluice.,                        NULL",
      // empty secret
      "sk-sluice.acme.,                   NULL",
      // empty or invalid tenant
      "sk-sluice..secret,                 NULL",
      "sk-sluice.Acme.secret,             NULL",
      "sk-sluice.ac me.secret,            NULL",
      "sk-sluice.-acme.secret,            NULL",
      "sk-sluice._acme.secret,            NULL",
      "sk-sluice.ac/me.secret,            NULL",
      "sk-sluice.acmé.secret,             NULL",
  })
  void tenantOf_key_extractsTenantOrNull(String key, String expected) {
    assertEquals(expected, ApiKeys.tenantOf(key));
  }

  @ParameterizedTest
  @NullAndEmptySource
  void tenantOf_nullOrEmpty_null(String key) {
    assertEquals(null, ApiKeys.tenantOf(key));
  }

  @Test
  void tenantOf_tenantOf63Chars_acceptedAnd64Refused() {
    String t63 = "a".repeat(63);
    String t64 = "a".repeat(64);
    assertEquals(t63, ApiKeys.tenantOf("sk-sluice." + t63 + ".s"));
    assertEquals(null, ApiKeys.tenantOf("sk-sluice." + t64 + ".s"));
  }

  // ---------------------------------------------------------------- hash

  @Test
  void hash_key_is64LowercaseHex() {
    assertTrue(HEX64.matcher(ApiKeys.hash(ApiKeys.newKey("acme"))).matches());
  }

  @Test
  void hash_sameKey_deterministic() {
    String key = ApiKeys.newKey("acme");
    assertEquals(ApiKeys.hash(key), ApiKeys.hash(key));
  }

  @Test
  void hash_differentKeys_differ() {
    assertNotEquals(ApiKeys.hash("sk-sluice.acme.a"), ApiKeys.hash("sk-sluice.acme.b"));
  }

  @Test
  void hash_knownInput_isSha256() {
    // SHA-256("abc"), FIPS 180-2 test vector.
    assertEquals("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", ApiKeys.hash("abc"));
  }

  @Test
  void hash_neverContainsKey() {
    String key = ApiKeys.newKey("acme");
    assertFalse(ApiKeys.hash(key).contains(key.substring(15)));
  }

  // ---------------------------------------------------------------- bearer

  @ParameterizedTest(name = "[{index}] ''{0}'' -> {1}")
  @CsvSource(nullValues = "NULL", ignoreLeadingAndTrailingWhitespace = false, value = {
      "Bearer sk-sluice.acme.x,sk-sluice.acme.x",
      "bearer tok,tok",
      "BEARER tok,tok",
      "BeArEr tok,tok",
      "Bearer   tok  ,tok",
      "Bearer t,t",
      "Bearer ,NULL",
      "Bearer     ,NULL",
      "Bearer,NULL",
      "Bearertok,NULL",
      "Basic x,NULL",
      "Basic dXNlcjpwYXNz,NULL",
      "tok,NULL",
      " Bearer tok,NULL",
  })
  void bearer_header_tokenOrNull(String header, String expected) {
    assertEquals(expected, ApiKeys.bearer(header));
  }

  @ParameterizedTest
  @NullAndEmptySource
  void bearer_missingOrEmpty_null(String header) {
    assertEquals(null, ApiKeys.bearer(header));
  }

  // ---------------------------------------------------------------- constantTimeEquals

  @ParameterizedTest(name = "[{index}] {0} == {1} -> {2}")
  @CsvSource(nullValues = "NULL", value = {
      "abc,    abc,    true",
      "'',     '',     true",
      "abc,    abd,    false",
      "abc,    abcd,   false",
      "abc,    ABC,    false",
      "é,      é,      true",
      "abc,    NULL,   false",
      "NULL,   abc,    false",
      "NULL,   NULL,   false",
  })
  void constantTimeEquals_pair_comparesContent(String a, String b, boolean expected) {
    assertEquals(expected, ApiKeys.constantTimeEquals(a, b));
  }

  @Test
  void constantTimeEquals_distinctInstances_comparesByValue() {
    String a = new String("secret-token");
    String b = new String("secret-token");
    assertTrue(ApiKeys.constantTimeEquals(a, b));
  }
}
