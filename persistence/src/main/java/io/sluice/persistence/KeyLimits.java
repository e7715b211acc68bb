package io.sluice.persistence;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;

/**
 * One key's own rate limits, inside its tenant's: the per-minute fields of {@link TenantLimits},
 * with the same names, so a key's {@code limits} object reads like a tenant's. {@code null} means
 * no limit of the key's own (the tenant's still applies). A key's limits never loosen the
 * tenant's: a request must pass both.
 *
 * <p>The same record is the admin API's key {@code limits} object (snake_case) and the stored form.
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record KeyLimits(Long requestsPerMinute, Long tokensPerMinute) implements CborSerializable {

  /** Whether the record limits anything. */
  public boolean limited() {
    return requestsPerMinute != null || tokensPerMinute != null;
  }

  /** The first field that holds a negative value, or null when all are valid. */
  public String firstInvalidField() {
    if (requestsPerMinute != null && requestsPerMinute < 0) return "requests_per_minute";
    if (tokensPerMinute != null && tokensPerMinute < 0) return "tokens_per_minute";
    return null;
  }
}
