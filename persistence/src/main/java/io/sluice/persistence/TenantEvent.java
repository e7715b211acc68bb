package io.sluice.persistence;

import java.time.Instant;
import java.util.List;
import java.util.Map;

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

  /**
   * The limits that {@code limits} sets (its non-null fields) were set to those values; the
   * others kept theirs. Written by the replicated entity, where each limit is its own
   * last-writer-wins register, so that two regions changing different limits at once keep both.
   */
  record LimitsPatched(TenantLimits limits, Instant at) implements TenantEvent {}

  /** The tenant's allowed models were replaced ({@code null} = all models). */
  record ModelsChanged(List<String> models, Instant at) implements TenantEvent {}

  /** The tenant was disabled: all its keys stop working. */
  record TenantDisabled(Instant at) implements TenantEvent {}

  /**
   * A key was issued. Only the key's SHA-256 hash is stored, never the key. {@code expiresAt}
   * (null: never) is when the key stops working, {@code models} (null: all the tenant's) the
   * models it may use within the tenant's, {@code limits} (null: none) its own rate limits within
   * the tenant's. Payloads written before these three existed read back with them null.
   */
  record KeyIssued(String keyId, String keyHash, Instant at, Instant expiresAt, List<String> models,
      KeyLimits limits) implements TenantEvent {
    public KeyIssued {
      models = models == null ? null : List.copyOf(models);
    }

    /** A key without expiry, model list or limits of its own. */
    public KeyIssued(String keyId, String keyHash, Instant at) {
      this(keyId, keyHash, at, null, null, null);
    }
  }

  /**
   * A key's expiry was brought forward to {@code expiresAt} (a rotation's overlap ends then). An
   * expiry only ever moves earlier: a key keeps the earliest expiry it was given, so replicas
   * that see several such events in any order agree, and a rotation never extends a key's life.
   */
  record KeyExpirySet(String keyId, Instant expiresAt, Instant at) implements TenantEvent {}

  /**
   * An admin write to this tenant: who ({@code actor}: an admin key id, or "root"), from where
   * (the client address), under which request id, and what ({@code action}, e.g. "key.issue",
   * with {@code target} such as the key id, or null). Persisted with the write's own events, so
   * the trail is as durable as the change. It changes no state.
   */
  record AdminActionRecorded(String action, String target, String actor, String address, String requestId,
      Instant at) implements TenantEvent {}

  /** A key was revoked. */
  record KeyRevoked(String keyId, Instant at) implements TenantEvent {}

  /**
   * The entity granted a node more of some quantities (and concurrency slots) in the given
   * windows. One event per grant, never per request: a node spends a grant locally.
   */
  record LeaseGranted(String node, long seq, Map<Quantity, Long> amounts, Map<WindowKind, Long> windows,
      long slots, Instant expiresAt, Instant at) implements TenantEvent {}

  /**
   * A node reported its cumulative usage in the given windows, returned unused quota and slots,
   * and extended its lease. One event per settlement batch.
   */
  record UsageSettled(String node, long seq, Map<WindowKind, Long> windows, Map<WindowKind, UsageCounters> used,
      Map<Quantity, Long> returned, long slotsReturned, Instant expiresAt, Instant at) implements TenantEvent {}

  /** A window of {@code kind} began; usage and grants of the one before no longer count. */
  record WindowRolled(WindowKind kind, long windowId, Instant at) implements TenantEvent {}

  /** The tenant's circuit for a deployment opened after tenant-specific upstream errors. */
  record CircuitOpened(String deployment, int status, String error, Instant openUntil, Instant at)
      implements TenantEvent {}

  /** The tenant's circuit for a deployment closed after a successful probe. */
  record CircuitClosed(String deployment, Instant at) implements TenantEvent {}

  /**
   * Region {@code region} is short in a pool and window and asks the other regions for {@code
   * amount} more rights. {@code seq} grows per region, pool and window; a donor answers each seq
   * at most once. Written only by the asking region, and rate-limited there.
   */
  record RightsWanted(RightsPool pool, long windowId, String region, long seq, long amount, Instant at)
      implements TenantEvent {}

  /**
   * Region {@code from} gave {@code amount} of its rights in a pool and window to region {@code
   * to}; {@code total} is all it ever gave {@code to} there, including this, so replicas merge by
   * maximum and a repeated, reordered or lost delivery is harmless. {@code answeredSeq} is the
   * highest want of {@code to} that this answers. Written only by {@code from}, which applies it
   * to its own rights at once; {@code to} gains the rights only when it sees the event.
   */
  record RightsTransferred(RightsPool pool, long windowId, String from, String to, long amount, long total,
      long answeredSeq, Instant at) implements TenantEvent {}

  /**
   * A region's replica took over a tenant from the single-region journal (persistence id {@code
   * Tenant|<id>}): its settings, its keys (revoked ones with their revocation) and what was
   * committed against each limit in the windows it was in. Every region imports for itself, from
   * the same legacy events, so the settings and keys agree; each counts the imported usage in its
   * own windows, which errs towards admitting less until those windows end.
   */
  record TenantImported(String tenantId, boolean enabled, TenantLimits limits, List<String> models,
      List<TenantState.KeyRecord> keys, Instant createdAt, Map<WindowKind, Long> windows,
      Map<Quantity, Long> committed, Instant at) implements TenantEvent {}
}
