package io.sluice.persistence;

import java.time.Instant;
import java.util.List;

/**
 * Everything that happened to the cluster's scoped admin keys, as stored in the journal of the one
 * {@code admin-keys} entity. These records are the stored contract: renaming or reshaping one needs
 * a Jackson migration and a new golden payload.
 */
public sealed interface AdminKeyEvent extends CborSerializable {

  /** When the command handler decided this event. */
  Instant at();

  /**
   * An admin key was issued with {@code role}; {@code tenants} is the list a tenant-admin may
   * manage (empty for the other roles). Only the key's SHA-256 hash is stored, never the key.
   */
  record AdminKeyIssued(String keyId, String keyHash, AdminRole role, List<String> tenants, Instant at)
      implements AdminKeyEvent {}

  /** An admin key was revoked; it authenticates nothing from then on. */
  record AdminKeyRevoked(String keyId, Instant at) implements AdminKeyEvent {}
}
