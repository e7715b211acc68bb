package io.sluice.node.tenant;

import io.sluice.persistence.CborSerializable;
import io.sluice.persistence.TenantState;

/**
 * Published to every node after a tenant's state changed (key issued or revoked, limits, models,
 * disabled), so that node-local caches follow within milliseconds instead of waiting for a TTL.
 */
public record TenantChanged(String tenantId, TenantState state) implements CborSerializable {}
