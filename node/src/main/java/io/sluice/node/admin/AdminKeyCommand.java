package io.sluice.node.admin;

import io.sluice.persistence.AdminKeyState;
import io.sluice.persistence.AdminRole;
import io.sluice.persistence.CborSerializable;
import java.util.List;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.pattern.StatusReply;

/** What the {@link AdminKeyEntity} is asked: issue, revoke, or read the admin keys. */
public sealed interface AdminKeyCommand extends CborSerializable {

  /** Issue a key; {@code keyHash} is the SHA-256 of the key, the only form stored. */
  record Issue(String keyId, String keyHash, AdminRole role, List<String> tenants,
      ActorRef<StatusReply<AdminKeyState>> replyTo) implements AdminKeyCommand {}

  /** Revoke a key; fails with {@code KEY_NOT_FOUND} for an id never issued. */
  record Revoke(String keyId, ActorRef<StatusReply<AdminKeyState>> replyTo) implements AdminKeyCommand {}

  /** Read all admin keys. */
  record Get(ActorRef<StatusReply<AdminKeyState>> replyTo) implements AdminKeyCommand {}
}
