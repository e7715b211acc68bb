package io.sluice.node.provider.anthropic;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.node.provider.ErrorClass;
import io.sluice.node.provider.UpstreamError;
import org.apache.pekko.util.ByteString;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class AnthropicErrorsTest {

  private static ByteString envelope(String type, String message) {
    return ByteString.fromString("{\"type\":\"error\",\"error\":{\"type\":\"" + type + "\",\"message\":\"" + message
        + "\"},\"request_id\":\"req_011CSHoEeqs5C35K2UUqR7Fy\"}");
  }

  @ParameterizedTest
  @CsvSource({
      "400, invalid_request_error, CLIENT",
      "401, authentication_error, AUTH",
      "403, permission_error, AUTH",
      "404, not_found_error, CLIENT",
      "408, timeout_error, TIMEOUT",
      "413, request_too_large, CLIENT",
      "429, rate_limit_error, RATE_LIMITED",
      "500, api_error, SERVER",
      "504, timeout_error, SERVER",
      "529, overloaded_error, SERVER",
      "529, api_error, SERVER",
      "500, overloaded_error, SERVER",
      "402, billing_error, AUTH"})
  void error_statusAndType_classified(int status, String type, ErrorClass expected) {
    UpstreamError e = AnthropicCodec.error(status, envelope(type, "something"));
    assertEquals(expected, e.errorClass());
    assertEquals(status, e.status());
    assertEquals(type, e.type());
    assertEquals("something", e.message());
    assertNull(e.param());
  }

  @Test
  void error_529_isRetryable() {
    assertTrue(AnthropicCodec.error(529, envelope("overloaded_error", "Overloaded")).errorClass().retryable());
  }

  @Test
  void error_spendCap429_isNotRetryableAndKeepsTheCode() {
    UpstreamError e = AnthropicCodec.error(429, ByteString.fromString("{\"type\":\"error\",\"error\":{\"type\":"
        + "\"rate_limit_error\",\"message\":\"You have reached your monthly spend limit.\",\"details\":{\"error_code\":"
        + "\"enforced_spend_limit_reached\"}}}"));
    assertEquals(ErrorClass.AUTH, e.errorClass());
    assertFalse(e.errorClass().retryable());
    assertEquals("enforced_spend_limit_reached", e.code());
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "You have reached your specified API usage limits. You will regain access on 2025-07-01 at 00:00 UTC.",
      "You have reached your specified workspace API usage limits. You will regain access on 2025-06-01 at 00:00 UTC."})
  void error_usageLimitWording_isNotRetryable(String message) {
    assertEquals(ErrorClass.AUTH, AnthropicCodec.error(400, envelope("invalid_request_error", message)).errorClass());
    assertEquals(ErrorClass.AUTH, AnthropicCodec.error(429, envelope("rate_limit_error", message)).errorClass());
  }

  @Test
  void error_plainRateLimit_staysRetryable() {
    UpstreamError e = AnthropicCodec.error(429, ByteString.fromString("{\"type\":\"error\",\"error\":{\"details\":null,"
        + "\"type\":\"rate_limit_error\",\"message\":\"Rate limited\"}}"));
    assertEquals(ErrorClass.RATE_LIMITED, e.errorClass());
    assertNull(e.code());
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "invalid x-api-key sk-ant-api03-AbCdEf123456_-xyz|invalid x-api-key sk-ant-***",
      "key sk-proj-abcdefghij1234 refused|key sk-*** refused",
      "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.abc.def was rejected|Authorization: Bearer *** was rejected",
      "api_key=ABCDEF123456789 bad|api_key=*** bad",
      "\"x-api-key\": \"sk-ant-admin01-QQQQQQQQQQ\"|\"x-api-key\": \"***\"",
      "prompt is too long: 210000 tokens > 200000 maximum|prompt is too long: 210000 tokens > 200000 maximum"})
  void error_secretsInMessage_redacted(String message, String expected) {
    ByteString body = ByteString.fromString("{\"type\":\"error\",\"error\":{\"type\":\"authentication_error\","
        + "\"message\":" + com.fasterxml.jackson.databind.node.TextNode.valueOf(message) + "}}");
    assertEquals(expected, AnthropicCodec.error(401, body).message());
  }

  @Test
  void error_secretInType_redacted() {
    UpstreamError e = AnthropicCodec.error(400, envelope("sk-ant-api03-leakedleaked", "m"));
    assertEquals("sk-ant-***", e.type());
  }

  @Test
  void error_longMessage_clipped() {
    UpstreamError e = AnthropicCodec.error(400, envelope("invalid_request_error", "x".repeat(5000)));
    assertTrue(e.message().length() <= AnthropicErrors.MAX_MESSAGE + 1, "length " + e.message().length());
  }

  @Test
  void error_notAnEnvelope_keepsTheBodyAsMessage() {
    UpstreamError e = AnthropicCodec.error(502, ByteString.fromString("<html>Bad gateway, Bearer abcdefghijk</html>"));
    assertEquals(ErrorClass.SERVER, e.errorClass());
    assertNull(e.type());
    assertEquals("<html>Bad gateway, Bearer ***</html>", e.message());
  }

  @Test
  void error_emptyBody_hasNoMessage() {
    UpstreamError e = AnthropicCodec.error(503, ByteString.emptyByteString());
    assertEquals(ErrorClass.SERVER, e.errorClass());
    assertNull(e.message());
  }
}
