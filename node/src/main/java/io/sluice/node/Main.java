package io.sluice.node;

import io.sluice.node.inference.TokenCounter;
import com.typesafe.config.Config;
import io.sluice.node.admission.Admission;
import io.sluice.node.admission.TokenEstimator;
import io.sluice.node.auth.KeyDirectory;
import io.sluice.node.auth.KeySettings;
import io.sluice.node.auth.TenantView;
import io.sluice.node.health.ClusterInfo;
import io.sluice.node.health.RegionInfo;
import io.sluice.node.health.JournalProbe;
import io.sluice.node.health.Readiness;
import io.sluice.node.console.ConsoleRoutes;
import io.sluice.node.admin.AdminKeyCommand;
import io.sluice.node.admin.AdminKeyEntity;
import io.sluice.node.admin.AdminKeyring;
import io.sluice.node.admin.AdminKeysChanged;
import io.sluice.node.auth.AuthThrottle;
import io.sluice.node.tenant.AuditLog;
import io.sluice.persistence.AdminKeyState;
import io.sluice.node.auth.AuthThrottleSettings;
import io.sluice.node.console.ConsoleSettings;
import io.sluice.node.http.AdminRoutes;
import io.sluice.node.tenant.TenantIndex;
import io.sluice.node.tenant.TenantIndexSettings;
import io.sluice.node.http.HealthRoutes;
import io.sluice.node.http.HttpServer;
import io.sluice.node.http.TlsSettings;
import io.sluice.node.inference.CircuitReports;
import io.sluice.node.inference.Gate;
import io.sluice.node.inference.InferencePipeline;
import io.sluice.node.surface.HttpFront;
import io.sluice.node.telemetry.Observability;
import io.sluice.node.telemetry.TelemetrySettings;
import io.sluice.node.surface.openai.OpenAiSurface;
import io.sluice.node.surface.anthropic.AnthropicSurface;
import io.sluice.node.surface.responses.ResponsesSurface;
import io.sluice.node.provider.anthropic.AnthropicAdapter;
import io.sluice.node.provider.azure.AzureAdapter;
import io.sluice.node.provider.bedrock.BedrockAdapter;
import io.sluice.node.provider.azure.EntraTokens;
import io.sluice.node.surface.openai.RequestScan;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import io.sluice.node.provider.ProviderAdapter;
import io.sluice.node.provider.UpstreamClient;
import io.sluice.node.provider.openai.OpenAiAdapter;
import io.sluice.node.routing.Deployment;
import java.util.List;
import io.sluice.node.routing.ModelCatalog;
import io.sluice.node.metrics.GatewayMetrics;
import io.sluice.node.routing.Backoff;
import io.sluice.node.routing.CircuitGate;
import io.sluice.node.routing.DeploymentStates;
import io.sluice.node.routing.HealthSettings;
import io.sluice.node.routing.LeastLoaded;
import io.sluice.node.routing.RetryPolicy;
import io.sluice.node.routing.RegionFirst;
import io.sluice.node.routing.RoutePlanner;
import io.sluice.node.routing.RoutingSettings;
import io.sluice.node.routing.RoutingStrategy;
import io.sluice.node.routing.WeightedRandom;
import java.util.random.RandomGenerator;
import io.sluice.node.tenant.TenantChanged;
import io.sluice.node.tenant.TenantCommand;
import io.sluice.node.tenant.QuotaSettings;
import io.sluice.node.tenant.RegionSettings;
import io.sluice.node.tenant.ReplicatedTenantEntity;
import io.sluice.node.tenant.ReplicationLag;
import io.sluice.node.tenant.TenantEntity;
import io.sluice.persistence.TenantState;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.pekko.Done;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.pubsub.Topic;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.pattern.Patterns;
import org.apache.pekko.persistence.jdbc.testkit.javadsl.SchemaUtils;
import org.apache.pekko.stream.Materializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts a Sluice node: {@code java -jar sluice.jar [--config FILE]}. {@link #main} only parses
 * arguments and creates the actor system; {@link #init} wires everything, so tests can start a
 * node inside their own actor system.
 */
public final class Main {
  // Pekko's CompletionStages run their callbacks on the JDK common pool, which on a machine with
  // two or fewer CPUs is a new thread per task (measured: two thread starts per request, several
  // times lower throughput). A parallelism of at least 2 keeps it a real pool. This must run before
  // anything touches ForkJoinPool, and logging does (Logback's start-up initialises it): so it is
  // the first static initialiser, ahead of LOG.
  static {
    if (System.getProperty("java.util.concurrent.ForkJoinPool.common.parallelism") == null) {
      System.setProperty("java.util.concurrent.ForkJoinPool.common.parallelism",
          Integer.toString(Math.max(2, Runtime.getRuntime().availableProcessors() - 1)));
    }
  }

  private static final Logger LOG = LoggerFactory.getLogger(Main.class);

  private Main() {}

  public static void main(String[] args) {
    Path configFile = null;
    for (int i = 0; i < args.length; i++) {
      if (args[i].equals("--config") && i + 1 < args.length) {
        configFile = Path.of(args[++i]);
      } else {
        System.err.println("usage: java -jar sluice.jar [--config FILE]");
        System.exit(args[i].equals("--help") ? 0 : 2);
      }
    }
    Config config;
    try {
      config = ConfigLoader.load(configFile);
    } catch (RuntimeException e) {
      System.err.println("sluice: bad configuration: " + e.getMessage());
      System.exit(2);
      return;
    }
    JvmFlags.untunedWarning(java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments(),
        Runtime.getRuntime().maxMemory()).ifPresent(LOG::warn);
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "sluice", config);
    try {
      init(system, NodeSettings.from(config)).toCompletableFuture().get(60, TimeUnit.SECONDS);
    } catch (Exception e) {
      LOG.error("sluice: node failed to start: {}", e.toString());
      system.terminate();
      System.exit(1);
    }
  }

  /** Wires a node into {@code system}: journal, cluster, sharding, caches, HTTP. */
  public static java.util.concurrent.CompletionStage<ServerBinding> init(ActorSystem<?> system, NodeSettings settings) {
    Config config = system.settings().config();
    ModelCatalog catalog = ModelCatalog.from(config);
    List<Deployment> allDeployments = catalog.models().values().stream().flatMap(m -> m.deployments().stream()).toList();
    EntraTokens entra = EntraTokens.start(allDeployments);
    system.getWhenTerminated().thenRun(entra::close);
    Map<String, ProviderAdapter> adapters = Map.of("openai", new OpenAiAdapter(), "anthropic", new AnthropicAdapter(),
        "azure", new AzureAdapter(entra), "gemini", io.sluice.node.provider.gemini.GeminiAdapter.create(allDeployments),
        "bedrock", new BedrockAdapter());
    for (ModelCatalog.Model m : catalog.models().values()) {
      for (Deployment d : m.deployments()) {
        if (!adapters.containsKey(d.provider())) {
          throw new IllegalArgumentException("deployment " + d.name() + " names unknown provider '" + d.provider() + "'");
        }
      }
    }

    if (config.getString("pekko.persistence.journal.plugin").equals("jdbc-journal")
        && config.getBoolean("sluice.persistence.create-embedded-schema")) {
      SchemaUtils.createIfNotExists(system).toCompletableFuture().join();
    }

    Cluster cluster = Cluster.get(system);
    if (config.getStringList("pekko.cluster.seed-nodes").isEmpty()) {
      cluster.manager().tell(Join.create(cluster.selfMember().address()));
    }

    ActorRef<Topic.Command<TenantChanged>> changes =
        system.systemActorOf(Topic.create(TenantChanged.class, "tenant-changes"), "tenant-changes", Props.empty());
    QuotaSettings quota = QuotaSettings.from(config);
    RegionSettings regions = RegionSettings.from(config);
    ReplicationLag regionLag = new ReplicationLag();
    if (regions.multiRegion()) {
      ReplicatedTenantEntity.init(system, changes, InstantSource.system(), quota, regions, regionLag,
          config.getString("sluice.regions.query-plugin"));
    } else {
      TenantEntity.init(system, changes, InstantSource.system(), quota);
    }
    ClusterSharding sharding = ClusterSharding.get(system);
    // Scoped admin keys: one entity, its changes pushed to every node's keyring.
    ActorRef<Topic.Command<AdminKeysChanged>> adminKeyChanges = system.systemActorOf(
        Topic.create(AdminKeysChanged.class, "admin-key-changes"), "admin-key-changes", Props.empty());
    AdminKeyEntity.init(system, adminKeyChanges, InstantSource.system());
    AdminKeyring adminKeyring = new AdminKeyring(
        () -> sharding.entityRefFor(AdminKeyEntity.ENTITY_KEY, AdminKeyEntity.ENTITY_ID)
            .<AdminKeyState>askWithStatus(AdminKeyCommand.Get::new, settings.askTimeout()),
        settings.keyCacheTtl(), System::nanoTime);
    adminKeyChanges.tell(Topic.subscribe(system.systemActorOf(Behaviors.receive(AdminKeysChanged.class)
        .onMessage(AdminKeysChanged.class, c -> {
          adminKeyring.onChanged(c.state());
          return Behaviors.same();
        }).build(), "admin-keyring", Props.empty())));

    KeyDirectory directory = new KeyDirectory(
        tenantId -> sharding.entityRefFor(TenantEntity.ENTITY_KEY, tenantId)
            .<TenantState>ask(TenantCommand.Lookup::new, settings.askTimeout()),
        settings.keyCacheTtl(), settings.keyCacheMaxTenants(), settings.unknownKeyRecheck());
    RoutingSettings routing = RoutingSettings.from(config);
    DeploymentStates states = DeploymentStates.create(catalog, routing, HealthSettings.from(config),
        InstantSource.system(), System::nanoTime);
    RandomGenerator random = ThreadLocalRandom.current();
    // Within each priority, this region's deployments first (a single-region node has no preference).
    RoutePlanner planner = new RoutePlanner(catalog, routing, Map.of(
        RoutingStrategy.WEIGHTED, new RegionFirst(regions.self(), new WeightedRandom(random)),
        RoutingStrategy.LATENCY, new RegionFirst(regions.self(), new LeastLoaded(random, states::cost))));
    RetryPolicy retries = new RetryPolicy(routing, new Backoff(routing.backoff(), random));
    TelemetrySettings telemetry = TelemetrySettings.from(config);
    GatewayMetrics metrics = new GatewayMetrics(states, telemetry.journalBuckets());
    Admission admission = new Admission(system, quota, settings.askTimeout(), InstantSource.system(), metrics,
        KeySettings.from(config));
    ActorRef<TenantChanged> subscriber = system.systemActorOf(
        Behaviors.receive(TenantChanged.class)
            .onMessage(TenantChanged.class, c -> {
              directory.onChanged(c.tenantId(), c.state());
              admission.onChanged(TenantView.of(c.tenantId(), c.state()));
              return Behaviors.same();
            }).build(),
        "tenant-directory", Props.empty());
    changes.tell(Topic.subscribe(subscriber));

    AtomicLong journalOk = new AtomicLong();
    String nodeId = cluster.selfMember().address().hostPort().replaceAll("[^A-Za-z0-9.@:_-]", "_");
    system.systemActorOf(JournalProbe.create(nodeId, settings.probeInterval(), journalOk), "journal-probe", Props.empty());
    Readiness readiness = new Readiness(system, journalOk, settings.probeInterval(), settings.probeTimeout());

    // A clean shutdown: first report not ready and give load balancers a moment to notice; the
    // HTTP server then stops accepting and drains in-flight requests and streams; then the node
    // hands its unused quota back and settles all usage; only then does it leave the cluster
    // (which hands its shards off).
    CoordinatedShutdown shutdown = CoordinatedShutdown.get(system);
    shutdown.addTask(CoordinatedShutdown.PhaseBeforeServiceUnbind(), "report-unready", () -> {
      readiness.shuttingDown();
      return Patterns.after(settings.unreadyDelay(), system, () -> CompletableFuture.completedFuture(Done.getInstance()));
    });
    Duration settleWithin = Duration.ofMillis(shutdown.timeout(CoordinatedShutdown.PhaseServiceStop()).toMillis());
    shutdown.addTask(CoordinatedShutdown.PhaseServiceStop(), "settle-leases",
        () -> admission.returnAll(InstantSource.system().instant().plus(settleWithin)).thenApply(v -> Done.getInstance()));


    Materializer materializer = Materializer.matFromSystem(system);
    InferencePipeline pipeline = new InferencePipeline(
        new Gate(directory, catalog, admission, quota, InstantSource.system()),
        new InferencePipeline.Routing(adapters, new UpstreamClient(system), planner, retries, states,
            new CircuitReports(sharding),
            new CircuitGate(regions.self(), regions.regions(), InstantSource.system()), routing.deadline()),
        metrics,
        new InferencePipeline.Runtime(system.classicSystem().scheduler(), system.executionContext(), materializer,
            System::nanoTime));
    Observability observability = Observability.create(telemetry, metrics.registry(),
        System::nanoTime, InstantSource.system());
    metrics.expose(observability.metrics()::render);
    // Last: the drained requests' spans and access-log lines are written before the system stops.
    shutdown.addTask(CoordinatedShutdown.PhaseBeforeActorSystemTerminate(), "flush-telemetry", () -> {
      observability.close();
      return CompletableFuture.completedFuture(Done.getInstance());
    });
    if (observability.tracing()) {
      LOG.info("Traces are exported over OTLP as the OTEL_* variables say");
    }
    AuthThrottle authThrottle = new AuthThrottle(AuthThrottleSettings.from(config), System::nanoTime);
    HttpFront front = new HttpFront(settings, routing, pipeline, metrics, materializer, observability, authThrottle);
    TokenEstimator estimator = new TokenEstimator(quota.tokenCacheEntries());
    // One counter per request: each caps its request's exact counting at max-exact-prompt-chars.
    Supplier<TokenCounter> tokens = () -> estimator.forRequest("o200k", settings.maxExactPromptChars());
    OpenAiSurface openai = new OpenAiSurface(front, pipeline, tokens);
    AnthropicSurface anthropic = new AnthropicSurface(front, pipeline, tokens);
    ResponsesSurface responses = new ResponsesSurface(front, tokens);
    TenantIndexSettings listing = TenantIndexSettings.from(config);
    AdminRoutes admin = new AdminRoutes(settings, sharding, directory, catalog, states,
        new ClusterInfo(system, settings.askTimeout()), new RegionInfo(regions, regionLag), materializer,
        TenantIndex.fromJournal(system, listing), listing, authThrottle, metrics, adminKeyring,
        AuditLog.fromJournal(system, listing, regions), KeySettings.from(config));
    ConsoleRoutes console = new ConsoleRoutes(ConsoleSettings.from(config));
    TlsSettings tls = TlsSettings.from(config);
    return HttpServer.bind(system, settings, tls, settings.drainTimeout(), request -> {
          CompletionStage<HttpResponse> answer = openai.direct(request);
          answer = answer != null ? answer : responses.direct(request);
          return answer != null ? answer : anthropic.direct(request);
        },
            new HealthRoutes(readiness, metrics).route(), openai.route(), admin.route(), console.route())
        .thenApply(binding -> {
          LOG.info("Sluice node listening on {}://{}:{} ({})", tls.enabled() ? "https" : "http", settings.httpHost(),
              binding.localAddress().getPort(), settings);
          return binding;
        });
  }
}
