package io.sluice.node.health;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;

/**
 * Whether this node should get traffic: it is Up in the cluster and its journal answered a probe
 * recently. Load balancers and scripts wait on {@code /health/ready}.
 */
public final class Readiness {
  private final Cluster cluster;
  private final AtomicLong lastJournalSuccess;
  private final long freshNanos;

  public Readiness(ActorSystem<?> system, AtomicLong lastJournalSuccess, Duration interval, Duration timeout) {
    this.cluster = Cluster.get(system);
    this.lastJournalSuccess = lastJournalSuccess;
    this.freshNanos = interval.plus(timeout).toNanos();
  }

  public boolean clusterUp() {
    return cluster.selfMember().status() == MemberStatus.up();
  }

  public boolean journalAnswers() {
    long last = lastJournalSuccess.get();
    return last != 0 && System.nanoTime() - last <= freshNanos;
  }

  private volatile boolean shuttingDown;

  public boolean ready() {
    return !shuttingDown && clusterUp() && journalAnswers();
  }

  /** From now on the node reports not ready: it is leaving. */
  public void shuttingDown() {
    shuttingDown = true;
  }

  public boolean isShuttingDown() {
    return shuttingDown;
  }
}
