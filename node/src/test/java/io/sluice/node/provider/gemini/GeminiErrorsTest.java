package io.sluice.node.provider.gemini;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.node.provider.ErrorClass;
import io.sluice.node.provider.UpstreamError;
import org.apache.pekko.util.ByteString;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class GeminiErrorsTest {

  @ParameterizedTest(name = "{0} {1}")
  @CsvSource({
      "429, RESOURCE_EXHAUSTED,  , RATE_LIMITED, 429",
      "503, UNAVAILABLE,         , SERVER,       503",
      "500, INTERNAL,            , SERVER,       500",
      "504, DEADLINE_EXCEEDED,   , TIMEOUT,      504",
      "400, INVALID_ARGUMENT,    , CLIENT,       400",
      "400, FAILED_PRECONDITION, , CLIENT,       400",
      "404, NOT_FOUND,           , CLIENT,       404",
      "403, PERMISSION_DENIED,   , AUTH,         403",
      "401, UNAUTHENTICATED,     , AUTH,         401",
      "400, INVALID_ARGUMENT, API_KEY_INVALID, AUTH, 400",
      "200, RESOURCE_EXHAUSTED,  , RATE_LIMITED, 429",
      "502, ,                    , SERVER,       502"})
  void parse_envelope_classifiedByCanonicalStatus(int http, String status, String reason, ErrorClass expected,
      int shown) {
    String details = reason == null ? "" : ",\"details\":[{\"@type\":\"type.googleapis.com/google.rpc.ErrorInfo\","
        + "\"reason\":\"" + reason + "\",\"domain\":\"googleapis.com\"}]";
    String body = "{\"error\":{\"code\":" + http + ",\"message\":\"m\""
        + (status == null ? "" : ",\"status\":\"" + status + "\"") + details + "}}";
    UpstreamError e = GeminiErrors.parse(http, ByteString.fromString(body));
    assertEquals(expected, e.errorClass());
    assertEquals(shown, e.status());
    assertEquals("m", e.message());
    assertEquals(status, e.type());
    assertEquals(reason, e.code());
  }

  @Test
  void parse_arrayEnvelope_read() {
    UpstreamError e = GeminiErrors.parse(429, ByteString.fromString(
        "[{\"error\":{\"code\":429,\"message\":\"Quota exceeded\",\"status\":\"RESOURCE_EXHAUSTED\"}}]"));
    assertEquals(ErrorClass.RATE_LIMITED, e.errorClass());
    assertEquals("Quota exceeded", e.message());
  }

  @Test
  void parse_notAnEnvelope_classifiedByHttpStatusWithBodyAsMessage() {
    UpstreamError e = GeminiErrors.parse(502, ByteString.fromString("<html>Bad Gateway</html>"));
    assertEquals(ErrorClass.SERVER, e.errorClass());
    assertEquals("<html>Bad Gateway</html>", e.message());
  }

  @Test
  void parse_keysAndTokensInMessage_redacted() {
    String key = "AIzaSyA1b2C3d4E5f6G7h8I9j0KlMnOpQrStUvW";
    UpstreamError e = GeminiErrors.parse(400, ByteString.fromString("{\"error\":{\"code\":400,\"message\":"
        + "\"API key not valid: " + key + ". Token ya29.a0AfB_byC-xyz_123 and ?key=secretvalue99 and "
        + "Bearer abcdef123456\",\"status\":\"INVALID_ARGUMENT\"}}"));
    assertFalse(e.message().contains(key), e.message());
    assertFalse(e.message().contains("ya29.a0AfB"), e.message());
    assertFalse(e.message().contains("secretvalue99"), e.message());
    assertFalse(e.message().contains("abcdef123456"), e.message());
    assertTrue(e.message().startsWith("API key not valid: ***"), e.message());
  }

  @Test
  void parse_longMessage_clipped() {
    String longText = "x".repeat(2000);
    UpstreamError e = GeminiErrors.parse(400, ByteString.fromString(
        "{\"error\":{\"code\":400,\"message\":\"" + longText + "\",\"status\":\"INVALID_ARGUMENT\"}}"));
    assertEquals(GeminiErrors.MAX_MESSAGE + 1, e.message().length());
  }
}
