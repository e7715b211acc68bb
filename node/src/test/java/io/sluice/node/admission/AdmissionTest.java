package io.sluice.node.admission;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import io.sluice.node.OneNodeCluster;
import io.sluice.node.auth.TenantView;
import io.sluice.node.metrics.GatewayMetrics;
import io.sluice.node.routing.DeploymentStates;
import io.sluice.node.routing.HealthSettings;
import io.sluice.node.routing.ModelCatalog;
import io.sluice.node.routing.RoutingSettings;
import io.sluice.node.tenant.QuotaSettings;
import io.sluice.node.tenant.TenantChanged;
import io.sluice.node.tenant.TenantCommand;
import io.sluice.node.tenant.TenantEntity;
import io.sluice.node.tenant.Windows;
import io.sluice.persistence.NodeShare;
import io.sluice.persistence.Quantity;
import io.sluice.persistence.TenantLimits;
import io.sluice.persistence.TenantState;
import io.sluice.persistence.UsageCounters;
import io.sluice.persistence.WindowKind;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.pubsub.Topic;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.persistence.testkit.ProcessingSuccess;
import org.apache.pekko.persistence.testkit.WriteEvents;
import org.apache.pekko.persistence.testkit.javadsl.PersistenceTestKit;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Admission against real tenant entities: a one-node cluster with Cluster Sharding and the
 * in-memory journal, the settle timer running on its configured interval, and a clock the test
 * moves by hand for idleness.
 */
class AdmissionTest {
  private static final Duration ASK = Duration.ofSeconds(5);
  private static ActorTestKit testKit;
  private static QuotaSettings quota;
  private static MovableClock clock;
  private static Admission admission;
  private static GatewayMetrics metrics;
  /** Admission with a short ask timeout, for a node that gives up on the entity's answer. */
  private static Admission impatient;

  /** A clock the test moves by hand; the settle timer itself runs in real time. */
  static final class MovableClock implements InstantSource {
    private volatile Instant now = Instant.parse("2026-03-10T12:00:05Z");

    @Override
    public Instant instant() {
      return now;
    }

    void advance(Duration d) {
      now = now.plus(d);
    }
  }

  @BeforeAll
  static void startCluster() {
    testKit = OneNodeCluster.start("AdmissionTest");
    Config config = testKit.system().settings().config();
    quota = QuotaSettings.from(config);
    clock = new MovableClock();
    TenantEntity.init(testKit.system(), testKit.<Topic.Command<TenantChanged>>createTestProbe().ref(), clock, quota);
    metrics = new GatewayMetrics(DeploymentStates.create(ModelCatalog.from(config),
        RoutingSettings.from(config), HealthSettings.from(config), InstantSource.system(), System::nanoTime));
    admission = new Admission(testKit.system(), quota, ASK, clock, metrics);
    impatient = new Admission(testKit.system(), quota, Duration.ofMillis(300), clock, metrics);
  }

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
  }

  private static <T> T await(CompletionStage<T> stage) {
    return await(stage, Duration.ofSeconds(10));
  }

  private static <T> T await(CompletionStage<T> stage, Duration max) {
    try {
      return stage.toCompletableFuture().get(max.toMillis(), TimeUnit.MILLISECONDS);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private static TenantState ask(String tenant,
      Function<ActorRef<StatusReply<TenantState>>, TenantCommand> command) {
    return await(ClusterSharding.get(testKit.system()).entityRefFor(TenantEntity.ENTITY_KEY, tenant)
        .<StatusReply<TenantState>>ask(command::apply, ASK)).getValue();
  }

  /** A tenant with a limit of 1,000 requests per minute. */
  private static TenantState create(String tenant) {
    return ask(tenant, r -> new TenantCommand.Create(new TenantLimits(1_000L, null, null, null, null, null), null, r));
  }

  private static void request(TenantState state) {
    TenantView view = new TenantView(state.tenantId(), true, java.util.Map.of(), Set.of(), state, null);
    await(admission.admit(view, new Demand(10, 5, 0))).finish(new UsageCounters(1, 10, 5, 0));
  }

  private static void awaitAssert(Runnable assertion) {
    awaitAssert(Duration.ofSeconds(10), assertion);
  }

  private static void awaitAssert(Duration max, Runnable assertion) {
    testKit.<Void>createTestProbe().awaitAssert(max, () -> {
      assertion.run();
      return null;
    });
  }

  private static long settledRequests(String tenant) {
    TenantState s = ask(tenant, TenantCommand.Get::new);
    return s.nodes().values().stream().mapToLong(n -> n.used(WindowKind.DAY).requests()).sum();
  }

  @Test
  void rateLimitHeaders_requestsPerMinuteLimited_limitRemainingAndResetOfRequestsOnly() {
    TenantState state = create("headers");
    Ticket ticket = await(admission.admit(new TenantView(state.tenantId(), true, java.util.Map.of(), Set.of(), state, null),
        new Demand(10, 5, 0)));
    Map<String, String> headers = new TreeMap<>();
    ticket.rateLimitHeaders().forEach(h -> headers.put(h.name(), h.value()));
    ticket.finish(new UsageCounters(1, 10, 5, 0));

    assertEquals(Set.of("x-ratelimit-limit-requests", "x-ratelimit-remaining-requests", "x-ratelimit-reset-requests"),
        headers.keySet(), "no tokens headers without a tokens limit: " + headers);
    assertEquals("1000", headers.get("x-ratelimit-limit-requests"));
    assertEquals("999", headers.get("x-ratelimit-remaining-requests"), "the limit less this request");
    assertTrue(headers.get("x-ratelimit-reset-requests").matches("[0-9]+ms|[0-9]+s|[0-9]+m[0-9]+s"), headers.toString());
  }

  @Test
  void settleAll_idleTenantHoldingNothing_unlistedThenListedAgainByItsNextRequest() {
    String tenant = "admission-idle";
    TenantState state = create(tenant);

    request(state);
    assertTrue(admission.isListed(tenant));
    awaitAssert(() -> assertEquals(1, settledRequests(tenant)));

    // Idle past idle-return: the timer returns the tenant's lease, then takes it off its list.
    clock.advance(quota.idleReturn().plusSeconds(1));
    awaitAssert(() -> assertFalse(admission.isListed(tenant)));

    // The next request puts it back, and its usage is settled like the first.
    request(state);
    assertTrue(admission.isListed(tenant));
    awaitAssert(() -> assertEquals(2, settledRequests(tenant)));
  }

  @Test
  void settle_idleReturnLostWithTheEntitysWrite_leaseHeldAgainThenReturned() {
    String tenant = "admission-lost-return";
    TenantState state = create(tenant);
    request(state);
    awaitAssert(() -> assertEquals(1, settledRequests(tenant)));
    long granted = share(tenant).granted(Quantity.REQUESTS_PER_MINUTE);
    assertTrue(granted > 1, "the grant covers more than the one request: " + granted);

    // The journal fails the tenant's next write: the settlement that returns the idle lease is lost
    // with the entity's restart and never answered. The node's next settlement is answered, and
    // tells it that one was not applied: the node holds the lease again, and returns it once more.
    failNextWrite(tenant);
    clock.advance(quota.idleReturn().plusSeconds(1));
    awaitAssert(Duration.ofSeconds(25),
        () -> assertEquals(1, share(tenant).granted(Quantity.REQUESTS_PER_MINUTE), "all but the used request back"));
  }

  @Test
  void admit_leaseInUseWithinRollAheadOfItsWindowsEnd_nextWindowsLeaseHeldBeforeTheBoundary() {
    String tenant = "admission-roll-ahead";
    // Early in a minute: the first request's acquire is an ordinary one.
    clock.advance(Duration.ofMillis(60_000 - clock.instant().toEpochMilli() % 60_000 + 1_000));
    TenantState state = create(tenant);
    request(state);
    long minute = Windows.id(WindowKind.MINUTE, clock.instant());
    assertEquals(1, share(tenant).lastAcquireSeq());

    // Within roll-ahead of the minute's end: a request asks for the next minute's lease, dated at
    // the boundary, and the entity rolls the window then.
    long end = Windows.resetAt(WindowKind.MINUTE, minute).toEpochMilli();
    clock.advance(Duration.ofMillis(end - clock.instant().toEpochMilli() - quota.rollAhead().toMillis() / 2));
    request(state);
    awaitAssert(() -> assertEquals(minute + 1, admission.tenantAdmission(tenant)
        .leases.get(Quantity.REQUESTS_PER_MINUTE.ordinal()).window, "the next minute's lease is held"));
    TenantState rolled = ask(tenant, TenantCommand.Get::new);
    assertEquals(minute + 1, rolled.window(WindowKind.MINUTE));
    assertEquals(2, rolled.nodes().get(admission.node()).lastAcquireSeq());

    // Requests until and after the boundary spend it: none waits for the entity.
    request(state);
    clock.advance(Duration.ofMillis(quota.rollAhead().toMillis()));
    request(state);
    request(state);
    NodeShare share = share(tenant);
    assertEquals(2, share.lastAcquireSeq(), "no acquire at the boundary");
    assertTrue(share.granted(Quantity.REQUESTS_PER_MINUTE) <= 1_000, "the next minute's grant is within its limit");
    assertEquals(share.granted(Quantity.REQUESTS_PER_MINUTE) - 3, admission.tenantAdmission(tenant)
        .leases.get(Quantity.REQUESTS_PER_MINUTE.ordinal()).remaining.get(),
        "the request before the boundary and the two after it are counted in the next minute");
  }

  @Test
  void admit_acquireAnsweredAfterTheNodeGaveUp_askedAgainWithItsSeqAndGivenTheSameGrant() {
    String tenant = "admission-late-grant";
    TenantView view = lateGrant(tenant);

    // Past the deny cache the node asks again with the same seq and gets that grant, not a second.
    clock.advance(quota.denyCache().plusMillis(1));
    await(impatient.admit(view, new Demand(10, 5, 0))).finish(new UsageCounters(1, 10, 5, 0));
    NodeShare share = share(tenant);
    assertEquals(32, share.granted(Quantity.REQUESTS_PER_MINUTE));
    assertEquals(1, share.lastAcquireSeq());
    assertEquals(31, impatient.tenantAdmission(tenant).leases.get(Quantity.REQUESTS_PER_MINUTE.ordinal())
        .remaining.get(), "the node spends the grant it got late");
  }

  @Test
  void admit_repeatedAcquireUnansweredToo_nextAcquireHasANewSeq() {
    String tenant = "admission-late-grant-twice";
    TenantView view = lateGrant(tenant);

    // The repeat gets no answer either (here it waits behind a slow write; an entity of an older
    // version drops repeats). The node repeats only once, so it cannot be stuck on one seq.
    CountDownLatch release = holdNextWrite(tenant);
    CompletionStage<StatusReply<TenantState>> keyIssued = ClusterSharding.get(testKit.system())
        .entityRefFor(TenantEntity.ENTITY_KEY, tenant)
        .ask(r -> new TenantCommand.IssueKey("key_late", "hash-late", r), Duration.ofSeconds(20));
    try {
      clock.advance(quota.denyCache().plusMillis(1));
      expectStoreUnavailable(impatient.admit(view, new Demand(10, 5, 0)));
    } finally {
      release.countDown();
      PersistenceTestKit.create(testKit.system()).resetPolicy();
    }
    assertTrue(await(keyIssued).isSuccess());

    clock.advance(quota.denyCache().plusMillis(1));
    await(impatient.admit(view, new Demand(10, 5, 0))).finish(new UsageCounters(1, 10, 5, 0));
    NodeShare share = share(tenant);
    assertEquals(2, share.lastAcquireSeq(), "a new acquire, not the repeat again");
    assertEquals(64, share.granted(Quantity.REQUESTS_PER_MINUTE), "the late grant stays counted, the safe side");
  }

  /**
   * Creates the tenant and admits its first request through {@link #impatient} while the journal
   * holds the entity's write of the grant: the node gives up (503) before the grant is written
   * and answered, and the entity then counts the grant as the node's. Returns the tenant's view.
   */
  private static TenantView lateGrant(String tenant) {
    // At the start of a minute, so the grant and its repeats fall in one window of the shared clock.
    clock.advance(Duration.ofMillis(60_000 - clock.instant().toEpochMilli() % 60_000 + 1_000));
    TenantState state = create(tenant);
    TenantView view = new TenantView(tenant, true, java.util.Map.of(), Set.of(), state, null);
    CountDownLatch release = holdNextWrite(tenant);
    try {
      expectStoreUnavailable(impatient.admit(view, new Demand(10, 5, 0)));
    } finally {
      release.countDown();
      PersistenceTestKit.create(testKit.system()).resetPolicy();
    }
    awaitAssert(() -> assertEquals(32, share(tenant).granted(Quantity.REQUESTS_PER_MINUTE)));
    return view;
  }

  /** The journal holds the tenant entity's next write until the returned latch is counted down. */
  private static CountDownLatch holdNextWrite(String tenant) {
    String pid = PersistenceId.of(TenantEntity.ENTITY_KEY.name(), tenant).id();
    CountDownLatch release = new CountDownLatch(1);
    AtomicBoolean held = new AtomicBoolean();
    PersistenceTestKit.create(testKit.system()).withPolicy((persistenceId, op) -> {
      if (persistenceId.equals(pid) && op instanceof WriteEvents && held.compareAndSet(false, true)) {
        try {
          release.await(20, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      return ProcessingSuccess.getInstance();
    });
    return release;
  }

  private static void expectStoreUnavailable(CompletionStage<Ticket> admitted) {
    ExecutionException failed = assertThrows(ExecutionException.class,
        () -> admitted.toCompletableFuture().get(10, TimeUnit.SECONDS));
    assertInstanceOf(QuotaExceeded.class, failed.getCause());
  }

  private static NodeShare share(String tenant) {
    return ask(tenant, TenantCommand.Get::new).nodes().get(admission.node());
  }

  /** The journal fails the tenant entity's next write (the entity restarts, the command is lost). */
  private static void failNextWrite(String tenant) {
    PersistenceTestKit.create(testKit.system())
        .failNextPersisted(PersistenceId.of(TenantEntity.ENTITY_KEY.name(), tenant).id());
  }

  /** Creates the tenant and admits two requests, the first settled, the second not yet. */
  private static void oneSettledOneNot(String tenant) {
    TenantState state = create(tenant);
    request(state);
    awaitAssert(() -> assertEquals(1, settledRequests(tenant)));
    request(state);
  }

  @Test
  void returnAll_journalFailsTheSettlement_triedAgainUntilSettled() {
    String tenant = "admission-leaving-outage";
    oneSettledOneNot(tenant);

    // The node leaves while the journal fails the tenant's next write: the first settlement gets no
    // answer, and returnAll ends only once a later one has settled the second request.
    failNextWrite(tenant);
    await(admission.returnAll(clock.instant().plusSeconds(30)), Duration.ofSeconds(25));
    assertEquals(2, settledRequests(tenant), "settled when returnAll ended");
  }

  @Test
  void returnAll_pastItsDeadline_notTriedAgain() {
    String tenant = "admission-leaving-late";
    oneSettledOneNot(tenant);

    // With no time left for a second try, returnAll ends after the failed one; the usage stays
    // unsettled (the settle timer picks it up while the node still runs).
    failNextWrite(tenant);
    await(admission.returnAll(clock.instant().plusSeconds(1)));
    assertTrue(admission.tenantAdmission(tenant).unsettled.sum() > 0, "the failed settlement's usage is pending");
  }

  @Test
  void returnAll_settlementInFlight_waitsForItThenSettlesAndReturnsTheRest() {
    String tenant = "admission-leaving";
    TenantState state = create(tenant);
    request(state);
    TenantAdmission t = admission.tenantAdmission(tenant);
    awaitAssert(() -> assertEquals(1, settledRequests(tenant)));
    awaitAssert(() -> assertEquals(null, t.settlement.get()));

    // A settlement of the tenant is in flight (it stands for the timer's, whose reply is not back)
    // when a second request finishes and the node starts to leave.
    CompletableFuture<Void> inFlight = new CompletableFuture<>();
    assertTrue(t.settlement.compareAndSet(null, inFlight));
    request(state);
    CompletableFuture<Void> returned = admission.returnAll(clock.instant().plusSeconds(30)).toCompletableFuture();
    assertFalse(returned.isDone());

    // Its reply is handled: returnAll then settles the second request and returns the lease.
    t.settlement.set(null);
    inFlight.complete(null);
    await(returned);
    TenantState after = ask(tenant, TenantCommand.Get::new);
    NodeShare share = after.nodes().get(admission.node());
    assertEquals(2, share.used(WindowKind.MINUTE).requests());
    assertEquals(2, share.granted(Quantity.REQUESTS_PER_MINUTE));
  }
}
