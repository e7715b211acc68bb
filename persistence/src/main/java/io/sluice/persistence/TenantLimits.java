package io.sluice.persistence;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import java.math.BigDecimal;

/**
 * A tenant's quota limits. Every field is optional; {@code null} means unlimited.
 *
 * <p>The same record is the admin API's {@code limits} object (snake_case) and the stored form,
 * so what an operator sets is exactly what is persisted.
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record TenantLimits(
    Long requestsPerMinute,
    Long tokensPerMinute,
    Long tokensPerDay,
    BigDecimal spendUsdPerDay,
    BigDecimal spendUsdPerMonth,
    Long maxConcurrentRequests) implements CborSerializable {

  /** No limit at all. */
  public static final TenantLimits UNLIMITED = new TenantLimits(null, null, null, null, null, null);

  /**
   * Returns this record with every field that {@code patch} sets replaced; fields that {@code
   * patch} leaves null keep their value. Used by PATCH, which only changes what it names.
   */
  public TenantLimits overlay(TenantLimits patch) {
    if (patch == null) {
      return this;
    }
    return new TenantLimits(
        patch.requestsPerMinute != null ? patch.requestsPerMinute : requestsPerMinute,
        patch.tokensPerMinute != null ? patch.tokensPerMinute : tokensPerMinute,
        patch.tokensPerDay != null ? patch.tokensPerDay : tokensPerDay,
        patch.spendUsdPerDay != null ? patch.spendUsdPerDay : spendUsdPerDay,
        patch.spendUsdPerMonth != null ? patch.spendUsdPerMonth : spendUsdPerMonth,
        patch.maxConcurrentRequests != null ? patch.maxConcurrentRequests : maxConcurrentRequests);
  }

  /** The first field that holds a negative value, or null when all are valid. */
  public String firstInvalidField() {
    if (negative(requestsPerMinute)) return "requests_per_minute";
    if (negative(tokensPerMinute)) return "tokens_per_minute";
    if (negative(tokensPerDay)) return "tokens_per_day";
    if (spendUsdPerDay != null && spendUsdPerDay.signum() < 0) return "spend_usd_per_day";
    if (spendUsdPerMonth != null && spendUsdPerMonth.signum() < 0) return "spend_usd_per_month";
    if (negative(maxConcurrentRequests)) return "max_concurrent_requests";
    return null;
  }

  private static boolean negative(Long v) {
    return v != null && v < 0;
  }
}
