package io.sluice.node.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TlsSettingsTest {
  private static Config with(String hocon) {
    return ConfigFactory.parseString(hocon).withFallback(ConfigFactory.parseResources("sluice/http.conf")).resolve();
  }

  @Test
  void from_defaults_tlsOffAndNoPlainListener() {
    TlsSettings s = TlsSettings.from(with(""));
    assertFalse(s.enabled());
    assertTrue(s.plainLoopbackPort().isEmpty());
    assertEquals(java.util.List.of("TLSv1.3", "TLSv1.2"), s.protocols());
  }

  @Test
  void from_enabledWithoutFiles_refused() {
    assertThrows(IllegalArgumentException.class, () -> TlsSettings.from(with("sluice.http.tls.enabled = on")));
  }

  @Test
  void from_pemAndKeystoreBoth_refused() {
    assertThrows(IllegalArgumentException.class, () -> TlsSettings.from(with(
        "sluice.http.tls { enabled = on, cert = a.crt, key = a.key, keystore = a.p12 }")));
  }

  @Test
  void from_certWithoutKey_refused() {
    assertThrows(IllegalArgumentException.class, () -> TlsSettings.from(with(
        "sluice.http.tls { enabled = on, cert = a.crt }")));
  }

  @Test
  void from_clientAuthWithoutCa_refused() {
    assertThrows(IllegalArgumentException.class, () -> TlsSettings.from(with(
        "sluice.http.tls { enabled = on, keystore = a.p12, client-auth = need }")));
  }

  @Test
  void from_keystoreAndPlainPort_read() {
    TlsSettings s = TlsSettings.from(with(
        "sluice.http.tls { enabled = on, keystore = a.p12, keystore-password = pw }\nsluice.http.plain-loopback-port = 8081"));
    assertEquals(Path.of("a.p12"), s.keystore().orElseThrow());
    assertEquals(8081, s.plainLoopbackPort().getAsInt());
    assertFalse(s.toString().contains("pw"), "the password must not be printed");
  }

  @Test
  void privateKey_pkcs1_refusedWithTheConversionCommand(@TempDir Path dir) throws Exception {
    Path key = dir.resolve("k.pem");
    Files.writeString(key, "-----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY-----\n");
    GeneralSecurityException e = assertThrows(GeneralSecurityException.class, () -> ServerTls.privateKey(key));
    assertTrue(e.getMessage().contains("openssl pkcs8 -topk8"), e.getMessage());
  }

  @Test
  void privateKey_noPem_refused(@TempDir Path dir) throws Exception {
    Path key = dir.resolve("k.pem");
    Files.writeString(key, "not a key");
    assertThrows(GeneralSecurityException.class, () -> ServerTls.privateKey(key));
  }
}
