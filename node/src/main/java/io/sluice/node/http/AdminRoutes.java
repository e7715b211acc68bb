package io.sluice.node.http;

import static org.apache.pekko.http.javadsl.server.Directives.complete;
import static org.apache.pekko.http.javadsl.server.Directives.completeWithFuture;
import static org.apache.pekko.http.javadsl.server.Directives.concat;
import static org.apache.pekko.http.javadsl.server.Directives.delete;
import static org.apache.pekko.http.javadsl.server.Directives.extractRequest;
import static org.apache.pekko.http.javadsl.server.Directives.get;
import static org.apache.pekko.http.javadsl.server.Directives.onSuccess;
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
import io.sluice.node.admin.AdminKeyCommand;
import io.sluice.node.admin.AdminKeyEntity;
import io.sluice.node.admin.AdminKeyring;
import io.sluice.node.admin.AdminScope;
import io.sluice.node.admin.AdminScope.Action;
import io.sluice.node.api.OpenAiError;
import io.sluice.persistence.AdminKeyState;
import io.sluice.persistence.AdminRole;
import io.sluice.node.auth.ApiKeys;
import io.sluice.node.auth.AuthThrottle;
import io.sluice.node.metrics.GatewayMetrics;
import io.sluice.node.auth.KeyDirectory;
import io.sluice.node.auth.KeySettings;
import io.sluice.node.routing.DeploymentStates;
import io.sluice.node.routing.ModelCatalog;
import io.sluice.node.tenant.AuditLog;
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
 * The admin API under {@code /admin/v1}, authenticated with the node's root admin key or a scoped
 * admin key (each route checked against the caller's {@link AdminScope}): admin keys (root only), tenants
 * (list, create, get, patch, disable), their keys (issue, list, rotate, revoke), usage and its history. Each call is a command to
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
  private final AuthThrottle throttle;
  private final GatewayMetrics metrics;
  private final AdminKeyring keyring;
  private final AuditLog audit;
  private final KeySettings keySettings;

  public AdminRoutes(NodeSettings settings, ClusterSharding sharding, KeyDirectory directory,
      ModelCatalog catalog, DeploymentStates states, io.sluice.node.health.ClusterInfo clusterInfo,
      io.sluice.node.health.RegionInfo regionInfo, Materializer materializer, TenantIndex index,
      TenantIndexSettings listing) {
    this(settings, sharding, directory, catalog, states, clusterInfo, regionInfo, materializer, index, listing,
        AuthThrottle.disabled(), null, null, null, KeySettings.from(com.typesafe.config.ConfigFactory.load()));
  }

  /**
   * @param throttle refuses addresses that failed authentication too often (shared with the
   *     inference surfaces: a guess at either costs the same budget)
   * @param metrics counts failed and throttled authentications; null counts nothing
   * @param keyring this node's cache of scoped admin keys; null: only the root key authenticates
   * @param audit the tenants' audit trails for GET /admin/v1/audit; null: that route answers 404
   * @param keySettings the bounds of a key rotation's overlap
   */
  public AdminRoutes(NodeSettings settings, ClusterSharding sharding, KeyDirectory directory,
      ModelCatalog catalog, DeploymentStates states, io.sluice.node.health.ClusterInfo clusterInfo,
      io.sluice.node.health.RegionInfo regionInfo, Materializer materializer, TenantIndex index,
      TenantIndexSettings listing, AuthThrottle throttle, GatewayMetrics metrics, AdminKeyring keyring,
      AuditLog audit, KeySettings keySettings) {
    this.keySettings = keySettings;
    this.audit = audit;
    this.keyring = keyring;
    this.throttle = throttle;
    this.metrics = metrics;
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
      java.net.InetAddress from = AuthThrottle.clientAddress(request);
      long wait = throttle.retryAfterSeconds(from);
      if (wait > 0) {
        // before the key is compared: a throttled address learns nothing and costs next to nothing
        request.discardEntityBytes(materializer);
        if (metrics != null) {
          metrics.authThrottled();
        }
        return complete(Responses.error(new OpenAiError(429, "Too many failed authentications from this address;"
            + " retry after " + wait + " s.", "rate_limit_error", null, "auth_rate_limited"))
            .addHeader(org.apache.pekko.http.javadsl.model.headers.RawHeader.create("Retry-After",
                Long.toString(wait))));
      }
      String token = ApiKeys.bearer(request.getHeader("Authorization").map(HttpHeader::value).orElse(null));
      if (settings.adminKey() != null && ApiKeys.constantTimeEquals(token, settings.adminKey())) {
        return routes(request, AdminScope.ROOT);
      }
      CompletionStage<AdminScope> caller = settings.adminKey() == null || token == null || keyring == null
          || !token.startsWith(ApiKeys.ADMIN_PREFIX)
          ? CompletableFuture.completedFuture(null)
          : keyring.find(ApiKeys.hash(token)).thenApply(k -> k == null ? null : AdminScope.of(k));
      return onSuccess(caller.handle((scope, e) -> {
        if (e != null) {
          request.discardEntityBytes(materializer);
          return complete(Responses.error(new OpenAiError(503, "The admin key store did not answer; retry shortly.",
              "server_error", null, "admin_key_store_unavailable")));
        }
        if (scope == null) {
          throttle.failed(from);
          if (metrics != null) {
            metrics.authRejected();
          }
          request.discardEntityBytes(materializer);
          return complete(Responses.error(new OpenAiError(401,
              settings.adminKey() == null
                  ? "The admin API is disabled: start the node with SLUICE_ADMIN_KEY set."
                  : "Incorrect or missing admin key.",
              "invalid_request_error", null, "invalid_admin_key")));
        }
        return routes(request, scope);
      }), route -> route);
    }));
  }

  /** The admin routes, each checked against {@code scope} before it does anything. */
  private Route routes(HttpRequest request, AdminScope scope) {
    java.net.InetAddress from = AuthThrottle.clientAddress(request);
    TenantCommand.Audit who = new TenantCommand.Audit(scope.id(), from == null ? null : from.getHostAddress(),
        requestId(request));
    return concat(
        path("audit", () -> get(() -> auditRoute(request, scope))),
        pathPrefix("admin-keys", () -> allow(request, scope, Action.MANAGE_ADMIN_KEYS, null, () -> concat(
            pathEnd(() -> concat(
                post(() -> withBody(request, this::issueAdminKey)),
                get(() -> completeWithFuture(askKeys(AdminKeyCommand.Get::new)
                    .thenApply(s -> json(200, AdminJson.AdminKeyList.of(s))).exceptionally(this::failure))))),
            path(segment(), keyId -> delete(() -> completeWithFuture(askKeys(r -> new AdminKeyCommand.Revoke(keyId, r))
                .thenApply(s -> json(200, AdminJson.AdminKeyInfo.of(s.keys().get(keyId))))
                .exceptionally(this::failure))))))),
        path("deployments", () -> get(() -> allow(request, scope, Action.READ_CLUSTER, null,
            () -> complete(json(200, AdminJson.Deployments.of(states)))))),
        path("cluster", () -> get(() -> allow(request, scope, Action.READ_CLUSTER, null,
            () -> completeWithFuture(clusterInfo.view().thenApply(v -> json(200, v)).exceptionally(this::failure))))),
        path("regions", () -> get(() -> allow(request, scope, Action.READ_CLUSTER, null,
            () -> complete(json(200, regionInfo.view()))))),
        pathPrefix("tenants", () -> concat(
            pathEnd(() -> concat(
                post(() -> allow(request, scope, Action.CREATE_TENANT, null,
                    () -> withBody(request, body -> createTenant(who, body)))),
                get(() -> allow(request, scope, Action.LIST_TENANTS, null,
                    () -> completeWithFuture(listTenants(request).exceptionally(this::failure)))))),
            pathPrefix(segment(), id -> concat(
                pathEnd(() -> concat(
                    get(() -> allow(request, scope, Action.READ_TENANT, id,
                        () -> answer(id, 200, TenantCommand.Get::new, AdminJson.Tenant::of))),
                    patch(() -> allow(request, scope, Action.PATCH_LIMITS, id,
                        () -> withBody(request, body -> patchTenant(scope, who, id, body)))),
                    delete(() -> allow(request, scope, Action.DISABLE_TENANT, id,
                        () -> answer(id, 200, r -> new TenantCommand.Disable(r, who), AdminJson.Tenant::of))))),
                path("usage", () -> get(() -> allow(request, scope, Action.READ_USAGE, id,
                    () -> regionInfo != null && regionInfo.settings().multiRegion() ? usageAcrossRegions(id)
                        : answer(id, 200, TenantCommand.Get::new, st -> AdminJson.Usage.of(st, Instant.now()))))),
                path(segment("usage").slash("history"), () -> get(() -> allow(request, scope, Action.READ_USAGE, id,
                    () -> completeWithFuture(history(id))))),
                path("circuits", () -> get(() -> allow(request, scope, Action.READ_CIRCUITS, id,
                    () -> answer(id, 200, TenantCommand.Get::new,
                        st -> AdminJson.Circuits.of(st, catalog, Instant.now()))))),
                pathPrefix("keys", () -> concat(
                    pathEnd(() -> concat(
                        post(() -> allow(request, scope, Action.ISSUE_KEY, id,
                            () -> withBody(request, body -> issueKey(id, who, body)))),
                        get(() -> allow(request, scope, Action.LIST_KEYS, id,
                            () -> answer(id, 200, TenantCommand.Get::new, s -> AdminJson.KeyList.of(s, Instant.now())))))),
                    path(segment().slash("rotate"), keyId -> post(() -> allow(request, scope, Action.ISSUE_KEY, id,
                        () -> withBody(request, body -> rotateKey(id, keyId, who, body))))),
                    path(segment(), keyId -> delete(() -> allow(request, scope, Action.REVOKE_KEY, id,
                        () -> answer(id, 200, r -> new TenantCommand.RevokeKey(keyId, r, who),
                            s -> AdminJson.KeyInfo.of(s.keys().get(keyId), Instant.now()))))))))))));
  }

  /** {@code GET /admin/v1/audit?tenant=&since=&limit=}: the tenant's recorded admin writes, oldest first. */
  private Route auditRoute(HttpRequest request, AdminScope scope) {
    var query = request.getUri().query();
    String tenant = query.get("tenant").orElse(null);
    if (tenant == null || !ApiKeys.TENANT_ID.matcher(tenant).matches()) {
      return complete(Responses.error(OpenAiError.invalidRequest("'tenant' is required: a tenant id.", "tenant")));
    }
    Instant since;
    int limit;
    try {
      since = query.get("since").map(Instant::parse).orElse(Instant.EPOCH);
      limit = query.get("limit").map(Integer::parseInt).orElse(listing.maxPage());
    } catch (RuntimeException e) {
      return complete(Responses.error(OpenAiError.invalidRequest(
          "'since' must be an ISO-8601 instant and 'limit' a whole number.", "since")));
    }
    if (limit < 1 || limit > 10 * listing.maxPage()) {
      return complete(Responses.error(OpenAiError.invalidRequest("'limit' is out of range.", "limit")));
    }
    if (audit == null) {
      return complete(Responses.error(OpenAiError.notFound("Unknown path.")));
    }
    int max = limit;
    return allow(request, scope, Action.READ_AUDIT, tenant, () -> completeWithFuture(audit.since(tenant, since, max)
        .thenApply(list -> json(200, new AdminJson.AuditList("list", tenant, list.stream()
            .map(a -> new AdminJson.AuditEntry(a.at(), a.actor(), a.address(), a.requestId(), a.action(), a.target()))
            .toList())))
        .exceptionally(this::failure)));
  }

  private static String requestId(HttpRequest request) {
    String id = request.getHeader("x-sluice-request-id").map(HttpHeader::value).orElse(null);
    if (id != null && id.matches("[A-Za-z0-9._:-]{1,128}")) {
      return id;
    }
    byte[] random = new byte[12];
    java.util.concurrent.ThreadLocalRandom.current().nextBytes(random);
    return "req_" + java.util.HexFormat.of().formatHex(random);
  }

  /** {@code inner} if {@code scope} allows {@code action} on {@code tenantId}, else 403. */
  private Route allow(HttpRequest request, AdminScope scope, Action action, String tenantId,
      java.util.function.Supplier<Route> inner) {
    if (scope.allows(action, tenantId)) {
      return inner.get();
    }
    request.discardEntityBytes(materializer);
    return complete(forbidden());
  }

  private static HttpResponse forbidden() {
    return Responses.error(new OpenAiError(403, "This admin key may not do this.", "permission_error", null,
        "admin_key_scope"));
  }

  /** {@code POST /admin/v1/admin-keys}: root issues a scoped admin key. */
  private CompletionStage<HttpResponse> issueAdminKey(byte[] body) {
    AdminJson.IssueAdminKey issue;
    try {
      issue = AdminJson.MAPPER.readValue(body, AdminJson.IssueAdminKey.class);
    } catch (IOException e) {
      return done(badJson(e));
    }
    AdminRole role = issue == null ? null : AdminJson.role(issue.role());
    if (role == null) {
      return done(OpenAiError.invalidRequest("'role' must be one of admin, read-only, tenant-admin.", "role"));
    }
    List<String> tenants = issue.tenants() == null ? List.of() : issue.tenants();
    if (role == AdminRole.TENANT_ADMIN ? tenants.isEmpty() : !tenants.isEmpty()) {
      return done(OpenAiError.invalidRequest("'tenants' is required for a tenant-admin and allowed for no other role.",
          "tenants"));
    }
    for (String t : tenants) {
      if (t == null || !ApiKeys.TENANT_ID.matcher(t).matches()) {
        return done(OpenAiError.invalidRequest("'tenants' holds an invalid tenant id.", "tenants"));
      }
    }
    String key = ApiKeys.newAdminKey();
    String keyId = ApiKeys.newAdminKeyId();
    return askKeys(r -> new AdminKeyCommand.Issue(keyId, ApiKeys.hash(key), role, List.copyOf(tenants), r))
        .thenApply(s -> json(201, new AdminJson.IssuedAdminKey(keyId, key, AdminJson.roleName(role),
            s.keys().get(keyId).tenants(), s.keys().get(keyId).createdAt())));
  }

  /** Asks the admin-keys entity; applies the resulting state to this node's keyring at once. */
  private CompletionStage<AdminKeyState> askKeys(
      Function<ActorRef<StatusReply<AdminKeyState>>, AdminKeyCommand> command) {
    if (keyring == null) {
      return CompletableFuture.failedFuture(new IllegalStateException("admin keys are not configured on this node"));
    }
    CompletionStage<AdminKeyState> reply = sharding.entityRefFor(AdminKeyEntity.ENTITY_KEY, AdminKeyEntity.ENTITY_ID)
        .askWithStatus(command::apply, settings.askTimeout());
    return reply.thenApply(s -> {
      keyring.onChanged(s);
      return s;
    });
  }

  private Route withBody(HttpRequest request, Function<byte[], CompletionStage<HttpResponse>> handler) {
    return completeWithFuture(request.entity()
        .toStrict(settings.askTimeout().toMillis(), settings.maxRequestBodyBytes(), materializer)
        .thenCompose(strict -> handler.apply(strict.getData().toArray()))
        .exceptionally(this::failure));
  }

  private CompletionStage<HttpResponse> createTenant(TenantCommand.Audit who, byte[] body) {
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
    return ask(create.id(), r -> new TenantCommand.Create(create.limits(), create.models(), r, who))
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

  private CompletionStage<HttpResponse> patchTenant(AdminScope scope, TenantCommand.Audit who, String id,
      byte[] body) {
    AdminJson.TenantPatch patch;
    try {
      patch = AdminJson.TenantPatch.read(body);
    } catch (AdminJson.Invalid e) {
      return done(OpenAiError.invalidRequest(e.getMessage(), e.param()));
    } catch (IOException e) {
      return done(badJson(e));
    }
    if (patch.setModels() && !scope.allows(Action.PATCH_MODELS, id)) {
      return CompletableFuture.completedFuture(forbidden());
    }
    OpenAiError invalid = validate(patch.limits(), patch.models());
    if (invalid != null) {
      return done(invalid);
    }
    return ask(id, r -> new TenantCommand.Update(patch.limits(), patch.setModels(), patch.models(), r, who))
        .thenApply(s -> json(200, AdminJson.Tenant.of(s)));
  }

  /** {@code POST .../keys}: a new key, with an optional expiry, model list and limits of its own. */
  private CompletionStage<HttpResponse> issueKey(String id, TenantCommand.Audit who, byte[] body) {
    AdminJson.IssueKey issue;
    try {
      issue = body.length == 0 ? null : AdminJson.MAPPER.readValue(body, AdminJson.IssueKey.class);
    } catch (IOException e) {
      return done(badJson(e));
    }
    TenantCommand.KeySpec spec = issue == null ? TenantCommand.KeySpec.NONE
        : new TenantCommand.KeySpec(issue.expiresAt(), issue.models(), issue.limits());
    OpenAiError invalid = validate(spec.limits(), spec.models(), spec.expiresAt());
    if (invalid != null) {
      return done(invalid);
    }
    String key = ApiKeys.newKey(id);
    String keyId = ApiKeys.newKeyId();
    return ask(id, r -> new TenantCommand.IssueKey(keyId, ApiKeys.hash(key), spec, r, who))
        .thenApply(s -> json(201, AdminJson.IssuedKey.of(key, id, s.keys().get(keyId))));
  }

  /**
   * {@code POST .../keys/{key_id}/rotate}: a new key with the old one's models and limits; the old
   * key keeps working for {@code overlap_seconds} (default and bound from {@code sluice.keys}).
   */
  private CompletionStage<HttpResponse> rotateKey(String id, String oldKeyId, TenantCommand.Audit who, byte[] body) {
    AdminJson.RotateKey rotate;
    try {
      rotate = body.length == 0 ? null : AdminJson.MAPPER.readValue(body, AdminJson.RotateKey.class);
    } catch (IOException e) {
      return done(badJson(e));
    }
    long overlapMillis = rotate == null || rotate.overlapSeconds() == null ? keySettings.defaultOverlap().toMillis()
        : rotate.overlapSeconds() * 1000;
    long max = keySettings.maxOverlap().toSeconds();
    if (rotate != null && rotate.overlapSeconds() != null
        && (rotate.overlapSeconds() < 0 || rotate.overlapSeconds() > max)) {
      return done(OpenAiError.invalidRequest("'overlap_seconds' must be from 0 to " + max + ".", "overlap_seconds"));
    }
    Instant expiresAt = rotate == null ? null : rotate.expiresAt();
    OpenAiError invalid = validate(null, null, expiresAt);
    if (invalid != null) {
      return done(invalid);
    }
    String key = ApiKeys.newKey(id);
    String keyId = ApiKeys.newKeyId();
    return ask(id, r -> new TenantCommand.RotateKey(oldKeyId, keyId, ApiKeys.hash(key), expiresAt, overlapMillis, r,
        who))
        .thenApply(s -> json(201, AdminJson.IssuedKey.of(key, id, s.keys().get(keyId))
            .rotatedFrom(s.keys().get(oldKeyId))));
  }

  private OpenAiError validate(io.sluice.persistence.KeyLimits limits, List<String> models, Instant expiresAt) {
    String bad = limits == null ? null : limits.firstInvalidField();
    if (bad != null) {
      return OpenAiError.invalidRequest("'limits." + bad + "' must not be negative.", "limits." + bad);
    }
    if (expiresAt != null && !expiresAt.isAfter(Instant.now())) {
      return OpenAiError.invalidRequest("'expires_at' must be in the future.", "expires_at");
    }
    return validate((TenantLimits) null, models);
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

  /**
   * {@code GET .../usage} with several regions: this region's replica answers with what it knows
   * of every region (no other region is asked, so the answer is local and each other region's
   * part is behind by the replication lag).
   */
  private Route usageAcrossRegions(String id) {
    if (!ApiKeys.TENANT_ID.matcher(id).matches()) {
      return complete(failure(new StatusReply.ErrorMessage(Rejection.NOT_FOUND.name())));
    }
    CompletionStage<io.sluice.persistence.ReplicatedTenantState> reply = sharding
        .entityRefFor(TenantEntity.ENTITY_KEY, id)
        .askWithStatus(TenantCommand.GetReplica::new, settings.askTimeout());
    return completeWithFuture(reply
        .thenApply(rs -> json(200, AdminJson.Usage.of(rs, regionInfo.settings(), Instant.now())))
        .exceptionally(this::failure));
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
          case KEY_INACTIVE -> new OpenAiError(409, "The key is revoked or expired.", "invalid_request_error", null,
              "key_inactive");
        });
      }
      if (AdminKeyEntity.KEY_NOT_FOUND.equals(e.getMessage())) {
        return Responses.error(OpenAiError.notFound("No such admin key."));
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
