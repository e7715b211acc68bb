package io.sluice.bench;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.sluice.node.ConfigLoader;
import io.sluice.node.admission.Admission;
import io.sluice.node.admission.Demand;
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
import io.sluice.persistence.TenantLimits;
import io.sluice.persistence.TenantState;
import io.sluice.persistence.UsageCounters;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.time.Duration;
import java.time.InstantSource;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.pubsub.Topic;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Lease spend: admitting a request against a tenant's RPM, TPM, tokens-per-day and spend limits
 * and finishing it with its actual usage, through the node's real {@link Admission}, against a real
 * sharded, event-sourced tenant entity (in-memory journal) on a one-node cluster. Almost every
 * call is served from the node's leases with a CAS per quantity; the rest wait for a fresh grant
 * (a round trip to the entity and a persisted event), and the average includes them, as do the
 * settlements that the settle timer sends meanwhile. {@code threads4} spends one tenant's leases
 * from 4 threads at once.
 *
 * <p>Run: {@code java -jar ops/bench-jmh/target/benchmarks.jar LeaseSpendBenchmark -f1 -wi 3 -i 5}
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@State(Scope.Benchmark)
public class LeaseSpendBenchmark {
  private static final Demand DEMAND = new Demand(231, 256, 173_850);
  private static final UsageCounters USED = new UsageCounters(1, 231, 16, 44_250);

  ActorSystem<Void> system;
  Admission admission;
  TenantView view;

  @Setup(Level.Trial)
  public void setup() throws Exception {
    Config config = ConfigFactory.parseString("""
        pekko.remote.artery.canonical.port = 0
        pekko.cluster.seed-nodes = []
        pekko.loglevel = WARNING
        pekko.coordinated-shutdown.exit-jvm = off
        pekko.persistence.journal.plugin = "pekko.persistence.journal.inmem"
        pekko.persistence.snapshot-store.plugin = "pekko.persistence.snapshot-store.local"
        """).withFallback(ConfigFactory.parseMap(java.util.Map.of("pekko.persistence.snapshot-store.local.dir",
            Files.createTempDirectory("sluice-jmh").toString())))
        .withFallback(ConfigLoader.load(null)).resolve();
    system = ActorSystem.create(Behaviors.empty(), "jmh", config);
    Cluster cluster = Cluster.get(system);
    cluster.manager().tell(Join.create(cluster.selfMember().address()));
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (cluster.selfMember().status() != MemberStatus.up()) {
      if (System.nanoTime() > until) {
        throw new IllegalStateException("the one-node cluster did not come up");
      }
      Thread.onSpinWait();
    }
    var changes = system.systemActorOf(Topic.create(TenantChanged.class, "tenant-changes"), "tenant-changes",
        Props.empty());
    QuotaSettings quota = QuotaSettings.from(config);
    TenantEntity.init(system, changes, InstantSource.system(), quota);
    TenantLimits limits = new TenantLimits(1_000_000_000_000L, 1_000_000_000_000_000L, 1_000_000_000_000_000L,
        new BigDecimal("1000000000"), null, null);
    TenantState state = ClusterSharding.get(system).entityRefFor(TenantEntity.ENTITY_KEY, "bench")
        .<TenantState>askWithStatus(replyTo -> new TenantCommand.Create(limits, List.of(), replyTo),
            Duration.ofSeconds(30))
        .toCompletableFuture().get(30, TimeUnit.SECONDS);
    view = TenantView.of("bench", state);
    ModelCatalog catalog = ModelCatalog.from(config);
    RoutingSettings routing = RoutingSettings.from(config);
    admission = new Admission(system, quota, Duration.ofSeconds(5), InstantSource.system(),
        new GatewayMetrics(DeploymentStates.create(catalog, routing, HealthSettings.from(config),
            InstantSource.system(), System::nanoTime)));
    admitAndFinish(); // the first grant
  }

  @TearDown(Level.Trial)
  public void tearDown() throws Exception {
    system.terminate();
    system.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  @Benchmark
  public boolean admitAndFinish() throws Exception {
    var ticket = admission.admit(view, DEMAND).toCompletableFuture().get(10, TimeUnit.SECONDS);
    ticket.finish(USED);
    return ticket.finished();
  }

  @Benchmark
  @Threads(4)
  public boolean threads4() throws Exception {
    return admitAndFinish();
  }
}
