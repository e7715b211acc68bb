package io.sluice.node.tenant;

import io.sluice.persistence.CborSerializable;
import io.sluice.persistence.KeyLimits;
import io.sluice.persistence.Quantity;
import io.sluice.persistence.TenantLimits;
import io.sluice.persistence.TenantState;
import io.sluice.persistence.UsageCounters;
import io.sluice.persistence.WindowKind;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.pattern.StatusReply;

/**
 * What a tenant entity is asked to do. Admin commands reply with the tenant's state or a {@link
 * Rejection}; {@link Lookup} is how a node loads a tenant into its key directory.
 */
public sealed interface TenantCommand extends CborSerializable {

  /** Create the tenant. Rejected with ALREADY_EXISTS when it exists. */
  record Create(TenantLimits limits, List<String> models, ActorRef<StatusReply<TenantState>> replyTo, Audit audit)
      implements TenantCommand {
    public Create(TenantLimits limits, List<String> models, ActorRef<StatusReply<TenantState>> replyTo) {
      this(limits, models, replyTo, null);
    }
  }

  /** Who asked for an admin write, recorded with it (null: not recorded, e.g. an internal call). */
  record Audit(String actor, String address, String requestId) implements CborSerializable {}

  /** Read the tenant. Rejected with NOT_FOUND when it does not exist. */
  record Get(ActorRef<StatusReply<TenantState>> replyTo) implements TenantCommand {}

  /**
   * Change limits and/or models. {@code limits} is overlaid on the current limits (null fields
   * keep theirs); models change only when {@code setModels} is true (then null means all models).
   */
  record Update(TenantLimits limits, boolean setModels, List<String> models,
      ActorRef<StatusReply<TenantState>> replyTo, Audit audit) implements TenantCommand {
    public Update(TenantLimits limits, boolean setModels, List<String> models,
        ActorRef<StatusReply<TenantState>> replyTo) {
      this(limits, setModels, models, replyTo, null);
    }
  }

  /** Disable the tenant: every key of it stops working. Idempotent. */
  record Disable(ActorRef<StatusReply<TenantState>> replyTo, Audit audit) implements TenantCommand {
    public Disable(ActorRef<StatusReply<TenantState>> replyTo) {
      this(replyTo, null);
    }
  }

  /** Record a new key by its hash, with its lifecycle fields. Rejected when the tenant is missing or disabled. */
  record IssueKey(String keyId, String keyHash, KeySpec spec, ActorRef<StatusReply<TenantState>> replyTo,
      Audit audit) implements TenantCommand {
    public IssueKey {
      spec = spec == null ? KeySpec.NONE : spec;
    }

    public IssueKey(String keyId, String keyHash, ActorRef<StatusReply<TenantState>> replyTo, Audit audit) {
      this(keyId, keyHash, KeySpec.NONE, replyTo, audit);
    }

    public IssueKey(String keyId, String keyHash, ActorRef<StatusReply<TenantState>> replyTo) {
      this(keyId, keyHash, KeySpec.NONE, replyTo, null);
    }
  }

  /**
   * What a key allows beyond being the tenant's: when it expires (null: never), the models it may
   * use within the tenant's (null: all of them) and its own limits within the tenant's (null: none).
   */
  record KeySpec(Instant expiresAt, List<String> models, KeyLimits limits) implements CborSerializable {
    public static final KeySpec NONE = new KeySpec(null, null, null);
  }

  /**
   * Rotate a key: issue {@code newKeyId} (with {@code newKeyHash}, the old key's models and
   * limits, and {@code newExpiresAt}, null for never), and make the old key expire {@code
   * overlapMillis} from now unless it expires sooner. Rejected with KEY_NOT_FOUND for an unknown
   * key id, KEY_INACTIVE for a revoked or expired one, DISABLED for a disabled tenant.
   */
  record RotateKey(String keyId, String newKeyId, String newKeyHash, Instant newExpiresAt, long overlapMillis,
      ActorRef<StatusReply<TenantState>> replyTo, Audit audit) implements TenantCommand {}

  /** Revoke a key. Rejected with KEY_NOT_FOUND for an unknown key id; idempotent otherwise. */
  record RevokeKey(String keyId, ActorRef<StatusReply<TenantState>> replyTo, Audit audit) implements TenantCommand {
    public RevokeKey(String keyId, ActorRef<StatusReply<TenantState>> replyTo) {
      this(keyId, replyTo, null);
    }
  }

  /**
   * Read the tenant's usage per minute for the last hour or so ({@link UsageHistory}), ending
   * with the minute {@code lastMinute} (a minute window id). Rejected with NOT_FOUND when the
   * tenant does not exist.
   */
  record GetHistory(long lastMinute, ActorRef<StatusReply<HistoryReply>> replyTo) implements TenantCommand {}

  /** The answer to {@link GetHistory}: usage per minute from minute id {@code firstMinute} on, oldest first. */
  record HistoryReply(long firstMinute, List<UsageCounters> minutes) implements CborSerializable {}

  /**
   * Read a region's whole replica of the tenant, with what it knows of the other regions' usage
   * and rights (for the multi-region usage view). Answered by {@link ReplicatedTenantEntity} only;
   * rejected with NOT_FOUND when the tenant does not exist.
   */
  record GetReplica(ActorRef<StatusReply<io.sluice.persistence.ReplicatedTenantState>> replyTo)
      implements TenantCommand {}

  /** The tenant's state as it is, also when it does not exist (then {@link TenantState#EMPTY}). */
  record Lookup(ActorRef<TenantState> replyTo) implements TenantCommand {}

  /**
   * A node asks for quota: {@code needed} is what a waiting request must have, {@code wanted} what
   * the node would like to hold. {@code seq} grows per node and {@code deadline} is when the node
   * stops waiting: a late or older acquire is dropped unanswered, so it is never applied twice or
   * after the node gave up on it. A repeat of the last applied one (the node got no answer) is
   * answered again with the first answer, so a grant the node never saw is not stranded.
   */
  record Acquire(String node, long seq, Instant deadline, Instant nodeNow, Map<Quantity, Long> needed,
      Map<Quantity, Long> wanted, long slotsNeeded, long slotsWanted, ActorRef<LeaseReply> replyTo)
      implements TenantCommand {}

  /**
   * A node settles: its cumulative usage in the given windows, quota and slots it returns, and a
   * renewal of its lease. Same {@code seq}/{@code deadline} rules as {@link Acquire}; usage is
   * cumulative, so settling again is harmless.
   */
  record Settle(String node, long seq, Instant deadline, Map<WindowKind, Long> windows,
      Map<WindowKind, UsageCounters> used, Map<Quantity, Long> returned, long slotsReturned,
      ActorRef<SettleReply> replyTo) implements TenantCommand {}

  /**
   * A node saw a deployment answer this tenant's traffic: a tenant-specific failure (401, 403,
   * 429) counts towards opening the tenant's circuit; a success closes a half-open one.
   */
  record ReportUpstream(String deployment, int status, String error, long retryAfterMillis, boolean success)
      implements TenantCommand {}

  /**
   * A replicated entity saw another region's request for rights and answers it when it can
   * ({@link Escrow#answers}). Sent by the entity to itself; never by a node.
   */
  record AnswerWants() implements TenantCommand {}

  /**
   * A replicated entity read the tenant's single-region journal ({@code Tenant|<id>}) and imports
   * what it found, or nothing when {@code legacy} does not exist or could not be read (then null).
   * Sent by the entity to itself; never by a node.
   */
  record LegacyLoaded(TenantState legacy) implements TenantCommand {}

  /** The answer to {@link Acquire}. */
  record LeaseReply(boolean tenantActive, Map<Quantity, Long> granted, Map<WindowKind, Long> windows,
      long slots, Instant expiresAt, Map<Quantity, Instant> exhausted, boolean slotsExhausted,
      Map<Quantity, Long> othersCommitted, long revision) implements CborSerializable {}

  /**
   * The answer to {@link Settle}: whether it was applied, until when the lease now lives, and the
   * node's last applied settlement before this one. A settlement that got no answer and whose seq
   * is above {@code priorSeq} was never applied and never will be (its seq is now too old, or its
   * deadline passed), so the node takes back what it returned. Null in an answer from a node of
   * an older version, which does not say: then nothing is taken back.
   */
  record SettleReply(boolean applied, Instant expiresAt, Long priorSeq) implements CborSerializable {}

  /** Why a command was refused; the name travels as the {@link StatusReply} error message. */
  enum Rejection {
    NOT_FOUND,
    ALREADY_EXISTS,
    DISABLED,
    KEY_NOT_FOUND,
    KEY_INACTIVE;

    /** The rejection named by a StatusReply error message, or null for any other message. */
    public static Rejection of(String message) {
      for (Rejection r : values()) {
        if (r.name().equals(message)) {
          return r;
        }
      }
      return null;
    }
  }
}
