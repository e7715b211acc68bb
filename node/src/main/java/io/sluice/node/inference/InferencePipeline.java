package io.sluice.node.inference;

import io.sluice.node.auth.TenantView;
import io.sluice.node.metrics.GatewayMetrics;
import io.sluice.node.provider.ProviderAdapter;
import io.sluice.node.routing.CircuitGate;
import io.sluice.node.routing.DeploymentStates;
import io.sluice.node.routing.ModelCatalog;
import io.sluice.node.routing.RetryPolicy;
import io.sluice.node.routing.RoutePlanner;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import scala.concurrent.ExecutionContext;
import java.util.function.LongSupplier;
import org.apache.pekko.actor.Scheduler;
import org.apache.pekko.stream.Materializer;

/**
 * The request path below the surfaces, the same for every client protocol and every provider:
 * authenticate, admit (reserve the estimate from the node's leases), plan, attempt (limiter,
 * health, circuit, send, classify, retry or fall back), settle. It takes a scanned body and
 * returns a neutral {@link Outcome}, or fails with a {@link Refusal.Refused}; it knows no HTTP
 * surface and renders nothing.
 */
public final class InferencePipeline {
  private final Gate gate;
  private final Attempts attempts;
  private final TokenCount tokenCount;
  private final LongSupplier nanos;
  private final Map<String, ProviderAdapter> adapters;

  /** Everything the attempt loop works with; grouped so that the pipeline is built in one place. */
  public record Routing(Map<String, ProviderAdapter> adapters, Upstream upstream, RoutePlanner planner,
      RetryPolicy retries, DeploymentStates states, CircuitReports circuits, CircuitGate gate, Duration deadline) {

    /** Routing of a single-region node: only the tenant's own circuits gate its deployments. */
    public Routing(Map<String, ProviderAdapter> adapters, Upstream upstream, RoutePlanner planner,
        RetryPolicy retries, DeploymentStates states, CircuitReports circuits, Duration deadline) {
      this(adapters, upstream, planner, retries, states, circuits,
          new CircuitGate(null, java.util.List.of(), java.time.InstantSource.system()), deadline);
    }
  }

  /** The runtime the loop schedules on. */
  public record Runtime(Scheduler scheduler, ExecutionContext executor, Materializer materializer, LongSupplier nanos) {}

  public InferencePipeline(Gate gate, Routing routing, GatewayMetrics metrics, Runtime runtime) {
    this.gate = gate;
    this.nanos = runtime.nanos();
    this.adapters = routing.adapters();
    Answers answers = new Answers(runtime.materializer(), runtime.scheduler(), runtime.executor(), runtime.nanos(),
        routing.deadline());
    this.tokenCount = new TokenCount(gate, routing.adapters(), routing.upstream());
    this.attempts = new Attempts(routing.adapters(), routing.upstream(), routing.planner(), routing.retries(),
        routing.states(), routing.circuits(), routing.gate(), metrics, answers, runtime.scheduler(), runtime.executor(),
        runtime.materializer(), runtime.nanos());
  }

  /** The tenant of {@code key}, or a failure with 401's refusal. */
  public CompletionStage<TenantView> authenticate(String key) {
    return gate.authenticate(key);
  }

  /**
   * Serves one request of an authenticated tenant. Completes with the outcome, or fails with a
   * {@link Refusal.Refused}; any other failure is the gateway's own fault.
   *
   * @param startNanos when the request arrived ({@link System#nanoTime()}), for its overhead
   */
  public CompletionStage<Outcome> infer(TenantView view, Call call, Controls controls, long startNanos) {
    CompletionStage<Gate.Admitted> admitted;
    try {
      admitted = gate.admit(view, call.body(), controls);
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
    return admitted.thenCompose(a -> {
      call.observation().admitted(a.model(), call.body().maxTokens());
      return attempts.run(new Exchange(a, call, controls, startNanos));
    });
  }

  /**
   * The input tokens of {@code call}'s request, counted upstream where the model's provider can,
   * else estimated; fails with a refusal for an unknown or forbidden model. Spends no quota.
   */
  public CompletionStage<Long> countTokens(TenantView view, Call call) {
    try {
      return tokenCount.count(view, call);
    } catch (Refusal.Refused r) {
      return CompletableFuture.failedFuture(r);
    }
  }

  /** The models {@code view}'s tenant may use. */
  public List<ModelCatalog.Model> models(TenantView view) {
    return gate.models(view);
  }

  /** Whether {@code d}'s provider speaks {@code client} itself, so that such a body passes through to it. */
  public boolean speaks(io.sluice.node.routing.Deployment d, Protocol client) {
    ProviderAdapter adapter = adapters.get(d.provider());
    return adapter != null && adapter.passesThrough(d, client);
  }

  /** Now, on the pipeline's clock. */
  public long now() {
    return nanos.getAsLong();
  }
}
