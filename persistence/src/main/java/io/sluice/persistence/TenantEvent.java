package io.sluice.persistence;

import java.time.Instant;
import java.util.List;

/**
 * Everything that happened to a tenant, as stored in the journal. These records are the stored
 * contract: renaming or reshaping one needs a Jackson migration and a new golden payload.
 *
 * <p>Events are rare compared to requests (no event per request). Each carries the time the
 * command handler stamped on it, so event handlers stay pure.
 */
public sealed interface TenantEvent extends CborSerializable {

  /** When the command handler decided this event. */
  Instant at();

  /** The tenant was created with its limits and allowed models ({@code null} models = all). */
  record TenantCreated(String tenantId, TenantLimits limits, List<String> models, Instant at)
      implements TenantEvent {}

  /** The tenant's limits were replaced by {@code limits}. */
  record LimitsChanged(TenantLimits limits, Instant at) implements TenantEvent {}

  /** The tenant's allowed models were replaced ({@code null} = all models). */
  record ModelsChanged(List<String> models, Instant at) implements TenantEvent {}

  /** The tenant was disabled: all its keys stop working. */
  record TenantDisabled(Instant at) implements TenantEvent {}

  /** A key was issued. Only the key's SHA-256 hash is stored, never the key. */
  record KeyIssued(String keyId, String keyHash, Instant at) implements TenantEvent {}

  /** A key was revoked. */
  record KeyRevoked(String keyId, Instant at) implements TenantEvent {}
}
