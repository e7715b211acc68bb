package io.sluice.node.logging;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.PatternLayout;
import ch.qos.logback.classic.spi.LoggingEvent;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

class SecretMaskTest {
  private static final String SECRET = "Zq3xW9vK2mN8pL4rT6yU1oI5eA7sD0fG";

  @ParameterizedTest
  @ValueSource(strings = {
      "Illegal header: Illegal 'authorization' header: Invalid input ' ', expected EOI (line 1, column 8): Bearer %s x",
      "Authorization: Bearer %s",
      "authorization: bEaReR\t%s",
      "x-api-key: %s",
      "X-Api-Key=\"%s\"",
      "headers=[Host: a, Authorization: Basic %s, Accept: */*]",
      "key sk-sluice.acme.%s was used",
      "key 'sk-sluice.acme.%s'",
      "upstream sk-proj-%s said no",
      "sk-ant-api03-%s",
      "Bearer \u00e9\u00e8%s",
      "Bearer \u0001\u0002%s",
      "api_key=%s",
  })
  void mask_lineWithACredential_hidesTheSecret(String template) {
    String line = template.formatted(SECRET);
    String masked = SecretMask.mask(line);
    assertFalse(masked.contains(SECRET), masked);
    assertFalse(masked.contains(SECRET.substring(0, 12)), masked);
    assertTrue(masked.contains(SecretMask.MASK), masked);
  }

  @Test
  void mask_secretOnTheNextLine_keepsOtherLines() {
    String masked = SecretMask.mask("first line\nAuthorization: Bearer " + SECRET + "\nthird line");
    assertEquals("first line\nAuthorization [masked]\nthird line", masked);
  }

  @Test
  void mask_twoKeysInOneLine_masksBoth() {
    String masked = SecretMask.mask("a sk-sluice.t1." + SECRET + " b sk-sluice.t2." + SECRET + " c");
    assertEquals("a sk-[masked] b sk-[masked] c", masked);
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "tenant acme settled 3 requests", "GET /health/live 200", "risk-free task-list"})
  void mask_lineWithoutCredentials_returnedAsItIs(String line) {
    assertSame(line, SecretMask.mask(line));
  }

  @Test
  void maskingConverter_inAPattern_masksMessageAndStackTrace() {
    LoggerContext context = new LoggerContext();
    PatternLayout layout = new PatternLayout();
    layout.setContext(context);
    Map<String, String> rules = new HashMap<>();
    rules.put("mask", MaskingConverter.class.getName());
    context.putObject(ch.qos.logback.core.CoreConstants.PATTERN_RULE_REGISTRY, rules);
    layout.setPattern("%nopex%-5level - %mask(%msg%n%ex)");
    layout.start();
    LoggingEvent event = new LoggingEvent("x", context.getLogger("t"), Level.WARN,
        "bad header Authorization: Bearer {}", new IllegalStateException("key sk-sluice.acme." + SECRET),
        new Object[] {SECRET});
    String out = layout.doLayout(event);
    assertFalse(out.contains(SECRET), out);
    // The stack trace is printed once, inside %mask: logback appended none of its own.
    assertEquals(out.indexOf("IllegalStateException"), out.lastIndexOf("IllegalStateException"), out);
    assertTrue(out.contains("IllegalStateException"), out);
    assertFalse(out.contains("%"), out);
  }
}
