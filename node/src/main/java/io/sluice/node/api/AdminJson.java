package io.sluice.node.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import io.sluice.persistence.TenantLimits;
import io.sluice.persistence.TenantState;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;

/** The admin API's wire records (snake_case JSON) and the mapper that reads and writes them. */
public final class AdminJson {
  private AdminJson() {}

  /** Strict: an unknown field in an admin request is a 400, so a typo never silently does nothing. */
  public static final ObjectMapper MAPPER = new ObjectMapper()
      .registerModule(new JavaTimeModule())
      .configure(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS, false)
      .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, true)
      .configure(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES, true);

  /** Body of {@code POST /admin/v1/tenants}. */
  @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
  public record CreateTenant(String id, TenantLimits limits, List<String> models) {}

  /** A tenant as the admin API shows it. Key hashes are never shown. */
  @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
  @JsonInclude(JsonInclude.Include.ALWAYS)
  public record Tenant(String id, boolean enabled, TenantLimits limits, List<String> models,
      Instant createdAt, int activeKeys) {
    public static Tenant of(TenantState s) {
      int active = (int) s.keys().values().stream().filter(TenantState.KeyRecord::active).count();
      return new Tenant(s.tenantId(), s.enabled(), s.limits(), s.models(), s.createdAt(), active);
    }
  }

  /** The answer to issuing a key: the only time the key itself is ever shown. */
  @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
  public record IssuedKey(String id, String key, String tenantId, Instant createdAt) {}

  /** A key as listed: its id and times, never its hash. */
  @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record KeyInfo(String id, Instant createdAt, Instant revokedAt, boolean active) {}

  /** {@code GET .../keys}. */
  public record KeyList(String object, List<KeyInfo> data) {
    public static KeyList of(TenantState s) {
      return new KeyList("list", s.keys().values().stream()
          .sorted(Comparator.comparing(TenantState.KeyRecord::createdAt).thenComparing(TenantState.KeyRecord::keyId))
          .map(k -> new KeyInfo(k.keyId(), k.createdAt(), k.revokedAt(), k.active()))
          .toList());
    }
  }
}
