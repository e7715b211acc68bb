package io.sluice.node.http;

import static org.apache.pekko.http.javadsl.server.Directives.complete;
import static org.apache.pekko.http.javadsl.server.Directives.completeWithFuture;
import static org.apache.pekko.http.javadsl.server.Directives.concat;
import static org.apache.pekko.http.javadsl.server.Directives.delete;
import static org.apache.pekko.http.javadsl.server.Directives.extractRequest;
import static org.apache.pekko.http.javadsl.server.Directives.get;
import static org.apache.pekko.http.javadsl.server.Directives.patch;
import static org.apache.pekko.http.javadsl.server.Directives.path;
import static org.apache.pekko.http.javadsl.server.Directives.pathEnd;
import static org.apache.pekko.http.javadsl.server.Directives.pathPrefix;
import static org.apache.pekko.http.javadsl.server.Directives.post;
import static org.apache.pekko.http.javadsl.server.PathMatchers.segment;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import io.sluice.node.NodeSettings;
import io.sluice.node.api.AdminJson;
import io.sluice.node.api.OpenAiError;
import io.sluice.node.auth.ApiKeys;
import io.sluice.node.auth.KeyDirectory;
import io.sluice.node.routing.DeploymentStates;
import io.sluice.node.routing.ModelCatalog;
import io.sluice.node.tenant.TenantCommand;
import io.sluice.node.tenant.TenantCommand.Rejection;
import io.sluice.node.tenant.TenantEntity;
import io.sluice.node.tenant.TenantIndex;
import io.sluice.node.tenant.TenantIndexSettings;
import io.sluice.node.tenant.Windows;
import io.sluice.persistence.WindowKind;
import java.time.Instant;
import io.sluice.persistence.TenantLimits;
import io.sluice.persistence.TenantState;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.stream.Materializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The admin API under {@code /admin/v1}, authenticated with the node's admin key: tenants
 * (list, create, get, patch, disable), their keys (issue, list, revoke), usage and its history. Each call is a command to
 * the tenant's entity; its answer is applied to this node's key directory at once, and the
 * entity pushes it to all other nodes.
 */
public final class AdminRoutes {
  private static final Logger LOG = LoggerFactory.getLogger(AdminRoutes.class);

  private final NodeSettings settings;
  private final ClusterSharding sharding;
  private final KeyDirectory directory;
  private final ModelCatalog catalog;
  private final DeploymentStates states;
  private final io.sluice.node.health.ClusterInfo clusterInfo;
  private final io.sluice.node.health.RegionInfo regionInfo;
  private final Materializer materializer;
  private final TenantIndex index;
  private final TenantIndexSettings listing;

  public AdminRoutes(NodeSettings settings, ClusterSharding sharding, KeyDirectory directory,
      ModelCatalog catalog, DeploymentStates states, io.sluice.node.health.ClusterInfo clusterInfo,
      io.sluice.node.health.RegionInfo regionInfo, Materializer materializer, TenantIndex index,
      TenantIndexSettings listing) {
    this.settings = settings;
    this.sharding = sharding;
    this.directory = directory;
    this.catalog = catalog;
    this.states = states;
    this.clusterInfo = clusterInfo;
    this.regionInfo = regionInfo;
    this.materializer = materializer;
    this.index = index;
    this.listing = listing;
  }

  public Route route() {
    return pathPrefix(segment("admin").slash("v1"), () -> extractRequest(request -> {
      if (!authorized(request)) {
        request.discardEntityBytes(materializer);
        return complete(Responses.error(new OpenAiError(401,
            settings.adminKey() == null
                ? "The admin API is disabled: start the node with SLUICE_ADMIN_KEY set."
                : "Incorrect or missing admin key.",
            "invalid_request_error", null, "invalid_admin_key")));
      }
      return concat(path("deployments", () -> get(() -> complete(json(200, AdminJson.Deployments.of(states))))),
          path("cluster", () -> get(() -> completeWithFuture(clusterInfo.view()
              .thenApply(v -> json(200, v)).exceptionally(this::failure)))),
          path("regions", () -> get(() -> complete(json(200, regionInfo.view())))),
          pathPrefix("tenants", () -> concat(
          pathEnd(() -> concat(
              post(() -> withBody(request, this::createTenant)),
              get(() -> completeWithFuture(listTenants(request).exceptionally(this::failure))))),
          pathPrefix(segment(), id -> concat(
              pathEnd(() -> concat(
                  get(() -> answer(id, 200, TenantCommand.Get::new, AdminJson.Tenant::of)),
                  patch(() -> withBody(request, body -> patchTenant(id, body))),
                  delete(() -> answer(id, 200, TenantCommand.Disable::new, AdminJson.Tenant::of)))),
              path("usage", () -> get(() -> answer(id, 200, TenantCommand.Get::new,
                  st -> AdminJson.Usage.of(st, java.time.Instant.now())))),
              path(segment("usage").slash("history"), () -> get(() -> completeWithFuture(history(id)))),
              path("circuits", () -> get(() -> answer(id, 200, TenantCommand.Get::new,
                  st -> AdminJson.Circuits.of(st, catalog, java.time.Instant.now())))),
              pathPrefix("keys", () -> concat(
                  pathEnd(() -> concat(
                      post(() -> completeWithFuture(issueKey(id))),
                      get(() -> answer(id, 200, TenantCommand.Get::new, AdminJson.KeyList::of)))),
                  path(segment(), keyId -> delete(() -> answer(id, 200,
                      r -> new TenantCommand.RevokeKey(keyId, r),
                      s -> new AdminJson.KeyInfo(keyId, s.keys().get(keyId).createdAt(),
                          s.keys().get(keyId).revokedAt(), false)))))))))));
    }));
  }

  private boolean authorized(HttpRequest request) {
    String token = ApiKeys.bearer(request.getHeader("Authorization").map(HttpHeader::value).orElse(null));
    return settings.adminKey() != null && ApiKeys.constantTimeEquals(token, settings.adminKey());
  }

  private Route withBody(HttpRequest request, Function<byte[], CompletionStage<HttpResponse>> handler) {
    return completeWithFuture(request.entity()
        .toStrict(settings.askTimeout().toMillis(), settings.maxRequestBodyBytes(), materializer)
        .thenCompose(strict -> handler.apply(strict.getData().toArray()))
        .exceptionally(this::failure));
  }

  private CompletionStage<HttpResponse> createTenant(byte[] body) {
    AdminJson.CreateTenant create;
    try {
      create = AdminJson.MAPPER.readValue(body, AdminJson.CreateTenant.class);
    } catch (IOException e) {
      return done(badJson(e));
    }
    if (create == null || create.id() == null || !ApiKeys.TENANT_ID.matcher(create.id()).matches()) {
      return done(OpenAiError.invalidRequest(
          "'id' is required: 1-63 characters of a-z, 0-9, '-' and '_', starting with a letter or digit.", "id"));
    }
    OpenAiError invalid = validate(create.limits(), create.models());
    if (invalid != null) {
      return done(invalid);
    }
    return ask(create.id(), r -> new TenantCommand.Create(create.limits(), create.models(), r))
        .thenApply(s -> {
          index.added(s.tenantId());
          return json(201, AdminJson.Tenant.of(s));
        });
  }

  /** {@code GET /admin/v1/tenants?search=&after=&limit=}: a page of tenants with their usage. */
  private CompletionStage<HttpResponse> listTenants(HttpRequest request) {
    var query = request.getUri().query();
    String search = query.get("search").orElse(null);
    String after = query.get("after").filter(a -> !a.isEmpty()).orElse(null);
    int limit;
    try {
      limit = query.get("limit").map(Integer::parseInt).orElse(listing.defaultPage());
    } catch (NumberFormatException e) {
      limit = -1;
    }
    if (limit < 1 || limit > listing.maxPage()) {
      return done(OpenAiError.invalidRequest("'limit' must be a whole number from 1 to " + listing.maxPage() + ".",
          "limit"));
    }
    Instant now = Instant.now();
    return index.page(search, after, limit).thenCompose(page -> {
      List<CompletableFuture<TenantState>> states = new ArrayList<>(page.ids().size());
      for (String id : page.ids()) {
        // A tenant that cannot be read now is left out of this page rather than failing it.
        states.add(ask(id, TenantCommand.Get::new).toCompletableFuture()
            .exceptionally(e -> TenantState.EMPTY));
      }
      return CompletableFuture.allOf(states.toArray(new CompletableFuture<?>[0])).thenApply(v -> {
        List<AdminJson.TenantSummary> data = new ArrayList<>(states.size());
        for (CompletableFuture<TenantState> st : states) {
          TenantState s = st.join();
          if (s.exists()) {
            data.add(AdminJson.TenantSummary.of(s, now));
          }
        }
        String next = page.hasMore() ? page.ids().get(page.ids().size() - 1) : null;
        return json(200, new AdminJson.TenantPage("list", data, page.total(), page.hasMore(), next));
      });
    });
  }

  /** {@code GET /admin/v1/tenants/{id}/usage/history}: usage per minute up to the current minute. */
  private CompletionStage<HttpResponse> history(String id) {
    if (!ApiKeys.TENANT_ID.matcher(id).matches()) {
      return done(OpenAiError.notFound("No such tenant."));
    }
    long minute = Windows.id(WindowKind.MINUTE, Instant.now());
    return sharding.entityRefFor(TenantEntity.ENTITY_KEY, id)
        .<TenantCommand.HistoryReply>askWithStatus(r -> new TenantCommand.GetHistory(minute, r), settings.askTimeout())
        .thenApply(h -> json(200, AdminJson.UsageHistory.of(id, h.firstMinute(), h.minutes())))
        .exceptionally(this::failure);
  }

  private CompletionStage<HttpResponse> patchTenant(String id, byte[] body) {
    AdminJson.TenantPatch patch;
    try {
      patch = AdminJson.TenantPatch.read(body);
    } catch (AdminJson.Invalid e) {
      return done(OpenAiError.invalidRequest(e.getMessage(), e.param()));
    } catch (IOException e) {
      return done(badJson(e));
    }
    OpenAiError invalid = validate(patch.limits(), patch.models());
    if (invalid != null) {
      return done(invalid);
    }
    return ask(id, r -> new TenantCommand.Update(patch.limits(), patch.setModels(), patch.models(), r))
        .thenApply(s -> json(200, AdminJson.Tenant.of(s)));
  }

  private CompletionStage<HttpResponse> issueKey(String id) {
    String key = ApiKeys.newKey(id);
    String keyId = ApiKeys.newKeyId();
    return ask(id, r -> new TenantCommand.IssueKey(keyId, ApiKeys.hash(key), r))
        .thenApply(s -> json(201, new AdminJson.IssuedKey(keyId, key, id, s.keys().get(keyId).createdAt())))
        .exceptionally(this::failure);
  }

  private OpenAiError validate(TenantLimits limits, List<String> models) {
    String bad = limits == null ? null : limits.firstInvalidField();
    if (bad != null) {
      return OpenAiError.invalidRequest("'limits." + bad + "' must not be negative.", "limits." + bad);
    }
    if (models != null) {
      for (String m : models) {
        if (m == null || catalog.get(m) == null) {
          return OpenAiError.invalidRequest("Unknown model '" + m + "' in 'models'.", "models");
        }
      }
    }
    return null;
  }

  private <T> Route answer(String id, int status, Function<ActorRef<StatusReply<TenantState>>, TenantCommand> command,
      Function<TenantState, T> view) {
    return completeWithFuture(ask(id, command).thenApply(s -> json(status, view.apply(s))).exceptionally(this::failure));
  }

  /** Asks the tenant's entity; applies the resulting state to this node's directory at once. */
  private CompletionStage<TenantState> ask(String id, Function<ActorRef<StatusReply<TenantState>>, TenantCommand> command) {
    if (!ApiKeys.TENANT_ID.matcher(id).matches()) {
      return CompletableFuture.failedFuture(new StatusReply.ErrorMessage(Rejection.NOT_FOUND.name()));
    }
    CompletionStage<TenantState> reply = sharding.entityRefFor(TenantEntity.ENTITY_KEY, id)
        .askWithStatus(command::apply, settings.askTimeout());
    return reply.thenApply(s -> {
      directory.onChanged(id, s);
      return s;
    });
  }

  private HttpResponse failure(Throwable t) {
    Throwable cause = Responses.unwrap(t);
    if (cause instanceof StatusReply.ErrorMessage e) {
      Rejection rejection = Rejection.of(e.getMessage());
      if (rejection != null) {
        return Responses.error(switch (rejection) {
          case NOT_FOUND -> OpenAiError.notFound("No such tenant.");
          case ALREADY_EXISTS -> new OpenAiError(409, "The tenant already exists.", "invalid_request_error", "id", "tenant_exists");
          case DISABLED -> new OpenAiError(409, "The tenant is disabled.", "invalid_request_error", null, "tenant_disabled");
          case KEY_NOT_FOUND -> OpenAiError.notFound("No such key.");
        });
      }
    }
    if (Responses.tooLarge(cause)) {
      return Responses.error(OpenAiError.tooLarge(settings.maxRequestBodyBytes()));
    }
    if (cause instanceof io.sluice.node.inference.Refusal.Refused r) {
      // a body's framing, refused as on the inference path
      return Responses.error(new OpenAiError(r.refusal().status(), r.refusal().message(), "invalid_request_error",
          r.refusal().param(), r.refusal().code()));
    }
    OpenAiError framing = Responses.framingError(cause);
    if (framing != null) {
      return Responses.error(framing);
    }
    if (cause instanceof java.util.concurrent.TimeoutException) {
      return Responses.error(new OpenAiError(503, "The tenant store did not answer in time; retry shortly.",
          "server_error", null, "tenant_store_unavailable"));
    }
    LOG.error("admin request failed: {}", cause.toString());
    return Responses.error(OpenAiError.internal());
  }

  private static OpenAiError badJson(IOException e) {
    if (e instanceof UnrecognizedPropertyException u) {
      return OpenAiError.invalidRequest("Unknown field '" + u.getPropertyName() + "'.", u.getPropertyName());
    }
    String detail = e instanceof JsonProcessingException j ? j.getOriginalMessage() : "not valid JSON";
    return OpenAiError.invalidRequest("The body is not valid: " + clip(detail), null);
  }

  private static String clip(String s) {
    return s == null ? "" : s.length() > 200 ? s.substring(0, 200) : s;
  }

  private static CompletionStage<HttpResponse> done(OpenAiError error) {
    return CompletableFuture.completedFuture(Responses.error(error));
  }

  private static HttpResponse json(int status, Object value) {
    try {
      return Responses.json(status, AdminJson.MAPPER.writeValueAsBytes(value));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("admin JSON could not be written", e);
    }
  }
}
