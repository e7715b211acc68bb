package io.sluice.node.provider;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class ErrorClassTest {

  @ParameterizedTest(name = "HTTP {0} -> {1}")
  @CsvSource({
      "400, CLIENT", "402, CLIENT", "404, CLIENT", "409, CLIENT", "413, CLIENT", "422, CLIENT", "499, CLIENT",
      "401, AUTH", "403, AUTH",
      "408, TIMEOUT",
      "429, RATE_LIMITED",
      "500, SERVER", "502, SERVER", "503, SERVER", "504, SERVER", "529, SERVER", "599, SERVER",
      "100, SERVER", "301, SERVER", "304, SERVER", "600, SERVER", "0, SERVER", "-1, SERVER"})
  void classify_status_isClass(int status, ErrorClass expected) {
    assertEquals(expected, ErrorClass.classify(status));
  }

  @ParameterizedTest
  @ValueSource(ints = {200, 201, 204, 299})
  void classify_success_throws(int status) {
    assertThrows(IllegalArgumentException.class, () -> ErrorClass.classify(status));
  }

  @ParameterizedTest(name = "{0}: retryable={1} counts={2} tenant={3}")
  @CsvSource({
      "CLIENT,       false, false, false",
      "AUTH,         false, false, true",
      "RATE_LIMITED, true,  false, true",
      "SERVER,       true,  true,  false",
      "TIMEOUT,      true,  true,  false",
      "CONNECT,      true,  true,  false"})
  void properties_eachClass_matchTable(ErrorClass c, boolean retryable, boolean counts, boolean tenant) {
    assertEquals(retryable, c.retryable());
    assertEquals(counts, c.countsAgainstDeployment());
    assertEquals(tenant, c.tenantSpecific());
  }

  @Test
  void of_upstreamFailureKinds_mapOneToOne() {
    assertEquals(ErrorClass.CONNECT, ErrorClass.of(UpstreamFailure.Kind.CONNECT));
    assertEquals(ErrorClass.TIMEOUT, ErrorClass.of(UpstreamFailure.Kind.TIMEOUT));
  }
}
