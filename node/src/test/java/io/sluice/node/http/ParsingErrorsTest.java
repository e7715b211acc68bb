package io.sluice.node.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.node.api.OpenAiError;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ParsingErrorsTest {
  @ParameterizedTest
  @CsvSource({
      "400, invalid_http_request", "413, request_too_large", "414, uri_too_long",
      "431, request_header_fields_too_large", "501, method_not_supported", "505, http_version_not_supported"})
  void envelope_parserStatus_keepsStatusWithItsCode(int status, String code) {
    OpenAiError e = ParsingErrors.envelope(status, "HTTP message contains more than the configured limit of 64 headers",
        2048, 8 << 20);
    assertEquals(status, e.status());
    assertEquals(code, e.code());
    assertEquals("invalid_request_error", e.type());
  }

  @Test
  void envelope_summaryQuotingAKey_masksIt() {
    OpenAiError e = ParsingErrors.envelope(400,
        "Illegal 'authorization' header: Invalid input ' ' (line 1, column 8): Bearer sk-sluice.acme.SECRETSECRET x", 2048, 1);
    assertFalse(e.message().contains("SECRETSECRET"), e.message());
  }

  @Test
  void envelope_summaryWithControlCharactersAndGreatLength_isCleanAndShort() {
    OpenAiError e = ParsingErrors.envelope(400, "bad\r\n\u0001" + "x".repeat(5000), 2048, 1);
    assertTrue(e.message().length() < 300, e.message());
    assertFalse(e.message().chars().anyMatch(c -> c < 0x20), e.message());
  }
}
