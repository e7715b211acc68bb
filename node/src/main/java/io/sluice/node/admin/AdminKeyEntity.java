package io.sluice.node.admin;

import io.sluice.persistence.AdminKeyEvent;
import io.sluice.persistence.AdminKeyState;
import java.time.Duration;
import java.time.InstantSource;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.pubsub.Topic;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.javadsl.CommandHandlerWithReply;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehaviorWithEnforcedReplies;
import org.apache.pekko.persistence.typed.javadsl.ReplyEffect;
import org.apache.pekko.persistence.typed.javadsl.RetentionCriteria;

/**
 * The single writer of the cluster's scoped admin keys: one sharded, event-sourced entity
 * ({@link #ENTITY_ID}), so an issued or revoked key survives any node's crash. Each change is
 * published to every node's {@link AdminKeyring}. Admin writes are rare; one entity is enough.
 */
public final class AdminKeyEntity
    extends EventSourcedBehaviorWithEnforcedReplies<AdminKeyCommand, AdminKeyEvent, AdminKeyState> {
  public static final EntityTypeKey<AdminKeyCommand> ENTITY_KEY =
      EntityTypeKey.create(AdminKeyCommand.class, "AdminKeys");
  /** The one entity's id. */
  public static final String ENTITY_ID = "admin-keys";
  /** The rejection of a revoke for an unknown key id. */
  public static final String KEY_NOT_FOUND = "ADMIN_KEY_NOT_FOUND";

  private final ActorRef<Topic.Command<AdminKeysChanged>> changes;
  private final InstantSource clock;

  private AdminKeyEntity(ActorRef<Topic.Command<AdminKeysChanged>> changes, InstantSource clock) {
    super(PersistenceId.of(ENTITY_KEY.name(), ENTITY_ID),
        SupervisorStrategy.restartWithBackoff(Duration.ofMillis(200), Duration.ofSeconds(5), 0.1));
    this.changes = changes;
    this.clock = clock;
  }

  /** Registers the entity type with Cluster Sharding on this node. */
  public static void init(ActorSystem<?> system, ActorRef<Topic.Command<AdminKeysChanged>> changes,
      InstantSource clock) {
    ClusterSharding.get(system).init(Entity.of(ENTITY_KEY, ctx -> create(changes, clock)));
  }

  public static Behavior<AdminKeyCommand> create(ActorRef<Topic.Command<AdminKeysChanged>> changes,
      InstantSource clock) {
    return new AdminKeyEntity(changes, clock);
  }

  @Override
  public AdminKeyState emptyState() {
    return AdminKeyState.EMPTY;
  }

  @Override
  public RetentionCriteria retentionCriteria() {
    return RetentionCriteria.snapshotEvery(100, 2);
  }

  @Override
  public CommandHandlerWithReply<AdminKeyCommand, AdminKeyEvent, AdminKeyState> commandHandler() {
    return this::handle;
  }

  private ReplyEffect<AdminKeyEvent, AdminKeyState> handle(AdminKeyState s, AdminKeyCommand command) {
    if (command instanceof AdminKeyCommand.Issue c) {
      return Effect().persist(new AdminKeyEvent.AdminKeyIssued(c.keyId(), c.keyHash(), c.role(), c.tenants(),
          clock.instant())).thenRun(this::publish).thenReply(c.replyTo(), StatusReply::success);
    }
    if (command instanceof AdminKeyCommand.Revoke c) {
      AdminKeyState.AdminKey k = s.keys().get(c.keyId());
      if (k == null) {
        return Effect().reply(c.replyTo(), StatusReply.error(KEY_NOT_FOUND));
      }
      if (!k.active()) {
        return Effect().reply(c.replyTo(), StatusReply.success(s));
      }
      return Effect().persist(new AdminKeyEvent.AdminKeyRevoked(c.keyId(), clock.instant()))
          .thenRun(this::publish).thenReply(c.replyTo(), StatusReply::success);
    }
    AdminKeyCommand.Get c = (AdminKeyCommand.Get) command;
    return Effect().reply(c.replyTo(), StatusReply.success(s));
  }

  private void publish(AdminKeyState s) {
    changes.tell(Topic.publish(new AdminKeysChanged(s)));
  }

  @Override
  public EventHandler<AdminKeyState, AdminKeyEvent> eventHandler() {
    return AdminKeyState::apply;
  }
}
