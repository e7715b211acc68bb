package io.sluice.persistence;

/**
 * What an admin key may do. The environment's root key (SLUICE_ADMIN_KEY) is above all of them
 * and alone may manage admin keys.
 */
public enum AdminRole {
  /** Everything but managing admin keys. */
  ADMIN,
  /** Every read (GET), no write. */
  READ_ONLY,
  /** Reads and writes of its listed tenants' keys and limits, and reads of their usage; nothing else. */
  TENANT_ADMIN
}
