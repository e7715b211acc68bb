package io.sluice.node.provider.bedrock;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.node.provider.ErrorClass;
import io.sluice.node.provider.UpstreamError;
import java.util.Optional;
import org.apache.pekko.util.ByteString;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class BedrockErrorsTest {

  @ParameterizedTest(name = "[{index}] {1} {0}")
  @CsvSource({
      "429, ThrottlingException, RATE_LIMITED",
      "400, ServiceQuotaExceededException, RATE_LIMITED",
      "400, ValidationException, CLIENT",
      "404, ResourceNotFoundException, CLIENT",
      "424, ModelErrorException, CLIENT",
      "403, AccessDeniedException, AUTH",
      "403, UnrecognizedClientException, AUTH",
      "403, InvalidSignatureException, AUTH",
      "403, SignatureDoesNotMatch, AUTH",
      "403, ExpiredTokenException, AUTH",
      "408, ModelTimeoutException, TIMEOUT",
      "503, ServiceUnavailableException, SERVER",
      "500, InternalServerException, SERVER",
      "429, ModelNotReadyException, SERVER",
      "400, SomethingNewException, CLIENT",
      "503, SomethingNewException, SERVER",
  })
  void parse_errorTypeHeader_decidesTheClass(int status, String type, ErrorClass expected) {
    UpstreamError e = BedrockErrors.parse(status,
        name -> name.equalsIgnoreCase("x-amzn-ErrorType") ? Optional.of(type + ":http://internal.amazon.com/coral/com.amazon.bedrock/")
            : Optional.empty(), ByteString.fromString("{\"message\":\"went wrong\"}"));
    assertEquals(expected, e.errorClass());
    assertEquals(type, e.type());
    assertEquals("went wrong", e.message());
    assertEquals(status, e.status());
  }

  @Test
  void parse_typeOnlyInBody_readFromDunderType() {
    UpstreamError e = BedrockErrors.parse(400, name -> Optional.empty(),
        ByteString.fromString("{\"__type\":\"com.amazon.coral.validate#ValidationException\",\"Message\":\"bad\"}"));
    assertEquals("ValidationException", e.type());
    assertEquals(ErrorClass.CLIENT, e.errorClass());
    assertEquals("bad", e.message());
  }

  @Test
  void parse_modelNotReadyUnder429_retryableButNotTheTenantsCircuit() {
    UpstreamError e = BedrockErrors.parse(429, name -> Optional.of("ModelNotReadyException"), ByteString.emptyByteString());
    assertTrue(e.errorClass().retryable());
    assertFalse(e.errorClass().tenantSpecific());
  }

  @Test
  void parse_noName_statusDecides() {
    assertEquals(ErrorClass.RATE_LIMITED, BedrockErrors.parse(429, n -> Optional.empty(), ByteString.fromString("<html>")).errorClass());
    assertEquals("<html>", BedrockErrors.parse(502, n -> Optional.empty(), ByteString.fromString("<html>")).message());
  }

  @ParameterizedTest(name = "[{index}] {0}")
  @CsvSource(delimiter = '|', value = {
      "The security token included in the request is invalid: AKIAIOSFODNN7EXAMPLE | AKIAIOSFODNN7EXAMPLE",
      "Credential=ASIAIOSFODNN7EXAMPLE/20261207/us-east-1/bedrock/aws4_request | ASIAIOSFODNN7EXAMPLE",
      "Bearer ABSKQmVkcm9ja0FQSUtleS1hYmNkZWZnaGlqa2xtbm9w was refused | ABSKQmVkcm9ja0FQSUtleS1hYmNkZWZnaGlqa2xtbm9w",
      "key bedrock-api-key-YmVkcm9jay5hbWF6b25hd3MuY29t expired | bedrock-api-key-YmVkcm9jay5hbWF6b25hd3MuY29t",
      "secret=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY leaked | wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
  })
  void parse_secretsInTheMessage_redacted(String message, String secret) {
    UpstreamError e = BedrockErrors.parse(403, n -> Optional.of("UnrecognizedClientException"),
        ByteString.fromString("{\"message\":\"" + message + "\"}"));
    assertFalse(e.message().contains(secret), e.message());
    assertTrue(e.message().contains("***"), e.message());
  }
}
