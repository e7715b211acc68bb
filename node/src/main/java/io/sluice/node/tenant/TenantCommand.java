package io.sluice.node.tenant;

import io.sluice.persistence.CborSerializable;
import io.sluice.persistence.TenantLimits;
import io.sluice.persistence.TenantState;
import java.util.List;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.pattern.StatusReply;

/**
 * What a tenant entity is asked to do. Admin commands reply with the tenant's state or a {@link
 * Rejection}; {@link Lookup} is how a node loads a tenant into its key directory.
 */
public sealed interface TenantCommand extends CborSerializable {

  /** Create the tenant. Rejected with ALREADY_EXISTS when it exists. */
  record Create(TenantLimits limits, List<String> models, ActorRef<StatusReply<TenantState>> replyTo)
      implements TenantCommand {}

  /** Read the tenant. Rejected with NOT_FOUND when it does not exist. */
  record Get(ActorRef<StatusReply<TenantState>> replyTo) implements TenantCommand {}

  /**
   * Change limits and/or models. {@code limits} is overlaid on the current limits (null fields
   * keep theirs); models change only when {@code setModels} is true (then null means all models).
   */
  record Update(TenantLimits limits, boolean setModels, List<String> models,
      ActorRef<StatusReply<TenantState>> replyTo) implements TenantCommand {}

  /** Disable the tenant: every key of it stops working. Idempotent. */
  record Disable(ActorRef<StatusReply<TenantState>> replyTo) implements TenantCommand {}

  /** Record a new key by its hash. Rejected when the tenant is missing or disabled. */
  record IssueKey(String keyId, String keyHash, ActorRef<StatusReply<TenantState>> replyTo)
      implements TenantCommand {}

  /** Revoke a key. Rejected with KEY_NOT_FOUND for an unknown key id; idempotent otherwise. */
  record RevokeKey(String keyId, ActorRef<StatusReply<TenantState>> replyTo) implements TenantCommand {}

  /** The tenant's state as it is, also when it does not exist (then {@link TenantState#EMPTY}). */
  record Lookup(ActorRef<TenantState> replyTo) implements TenantCommand {}

  /** Why a command was refused; the name travels as the {@link StatusReply} error message. */
  enum Rejection {
    NOT_FOUND,
    ALREADY_EXISTS,
    DISABLED,
    KEY_NOT_FOUND;

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
