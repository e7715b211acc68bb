package io.sluice.node.inference;

import io.sluice.node.admission.Admission;
import io.sluice.node.admission.Demand;
import io.sluice.node.admission.Pricing;
import io.sluice.node.admission.Ticket;
import io.sluice.node.auth.ApiKeys;
import io.sluice.node.auth.KeyDirectory;
import io.sluice.node.auth.TenantView;
import io.sluice.node.routing.ModelCatalog;
import io.sluice.node.tenant.QuotaSettings;
import java.time.InstantSource;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * The pipeline's first two steps: who is asking (authenticate), and whether they may have it
 * (the model exists and is allowed, then admission reserves the estimated usage from the node's
 * leases). The cheap checks come first, so a refused request costs no tokenizer time.
 */
public final class Gate {
  private final KeyDirectory directory;
  private final ModelCatalog catalog;
  private final Admission admission;
  private final QuotaSettings quota;
  private final Map<String, Pricing> pricing = new HashMap<>();
  private final InstantSource clock;

  public Gate(KeyDirectory directory, ModelCatalog catalog, Admission admission, QuotaSettings quota) {
    this(directory, catalog, admission, quota, InstantSource.system());
  }

  /** @param clock the time a key's expiry is checked against, on every request */
  public Gate(KeyDirectory directory, ModelCatalog catalog, Admission admission, QuotaSettings quota,
      InstantSource clock) {
    this.clock = clock;
    this.directory = directory;
    this.catalog = catalog;
    this.admission = admission;
    this.quota = quota;
    catalog.models().values().forEach(m -> pricing.put(m.name(), Pricing.of(m)));
  }

  /** An admitted request: its tenant, model and price, and the reservation that settles it. */
  public record Admitted(TenantView view, ModelCatalog.Model model, Pricing price, Ticket ticket) {}

  /**
   * The tenant whose key {@code key} is, narrowed to that key's models and limits ({@link
   * TenantView#as}), or a failure with {@link Refusal#unauthenticated()} for an unknown, revoked
   * or expired key. Expiry is checked here against the clock on every request, from the expiry
   * the cached view carries, so an expired key is refused on every node at its expiry without
   * any message.
   */
  public CompletionStage<TenantView> authenticate(String key) {
    String tenantId = ApiKeys.tenantOf(key);
    if (tenantId == null) {
      return CompletableFuture.failedFuture(Refusal.unauthenticated().toException());
    }
    String hash = ApiKeys.hash(key);
    return directory.tenant(tenantId).thenCompose(view -> {
      TenantView.KeyGrant grant = view.grant(hash, clock.millis());
      if (grant != null) {
        return CompletableFuture.completedFuture(view.as(grant));
      }
      // Issued on another node a moment ago, its push not here yet? Ask the entity once.
      return view.knows(hash) ? refused() : directory.recheck(tenantId).thenCompose(fresh -> {
        TenantView.KeyGrant again = fresh.grant(hash, clock.millis());
        return again == null ? refused() : CompletableFuture.completedFuture(fresh.as(again));
      });
    });
  }

  private static CompletableFuture<TenantView> refused() {
    return CompletableFuture.failedFuture(Refusal.unauthenticated().toException());
  }

  /**
   * Checks the model, then reserves the request's estimate: prompt tokens counted now, plus the
   * client's {@code max_tokens} or the configured default for a chat, with its cost.
   */
  public CompletionStage<Admitted> admit(TenantView view, ClientBody body, Controls controls) {
    ModelCatalog.Model model;
    try {
      model = model(view, body);
    } catch (Refusal.Refused r) {
      return CompletableFuture.failedFuture(r);
    }
    if (controls.pinned() != null && model.deployments().stream().noneMatch(d -> d.name().equals(controls.pinned()))) {
      return CompletableFuture.failedFuture(Refusal.invalid("'x-sluice-deployment' names no deployment of '"
          + model.name() + "'.", "x-sluice-deployment").toException());
    }
    Pricing price = pricing.get(model.name());
    long prompt = body.promptTokens();
    long completion = body.operation() != Operation.EMBEDDINGS
        ? (body.maxTokens() >= 0 ? body.maxTokens() : quota.defaultCompletionEstimate()) : 0;
    Demand demand = new Demand(prompt, completion, price.costNanos(prompt, completion));
    return admission.admit(view, demand).thenApply(ticket -> new Admitted(view, model, price, ticket));
  }

  /**
   * The model {@code body} names, when it exists and {@code view}'s tenant and key may use it;
   * else a 404 or 403 (a model outside the key's list is refused as one outside the tenant's).
   */
  public ModelCatalog.Model model(TenantView view, ClientBody body) {
    ModelCatalog.Model model = catalog.get(body.model());
    if (model == null) {
      throw Refusal.modelNotFound(body.model()).toException();
    }
    if (!view.allows(model.name())) {
      throw Refusal.modelNotAllowed(model.name()).toException();
    }
    return model;
  }

  /** The models {@code view}'s tenant and key may use, in catalog order. */
  public List<ModelCatalog.Model> models(TenantView view) {
    return catalog.models().values().stream().filter(m -> view.allows(m.name())).toList();
  }
}
