package io.sluice.node.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import io.sluice.node.routing.Deployment;
import io.sluice.node.routing.ModelCatalog;
import io.sluice.node.tenant.QuotaLedger;
import io.sluice.node.tenant.Windows;
import io.sluice.persistence.CircuitState;
import io.sluice.persistence.KeyLimits;
import io.sluice.persistence.NodeShare;
import io.sluice.persistence.ReplicatedTenantState;
import io.sluice.persistence.RightsPool;
import io.sluice.persistence.TenantLimits;
import io.sluice.persistence.TenantState;
import io.sluice.persistence.UsageCounters;
import io.sluice.persistence.WindowKind;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** The admin API's wire records (snake_case JSON) and the mapper that reads and writes them. */
public final class AdminJson {
  private AdminJson() {}

  /** Strict: an unknown field in an admin request is a 400, so a typo never silently does nothing. */
  public static final ObjectMapper MAPPER = new ObjectMapper()
      .registerModule(new JavaTimeModule())
      .configure(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS, false)
      .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, true)
      .configure(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES, true);

  /** Body of {@code POST /admin/v1/tenants}. */
  @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
  public record CreateTenant(String id, TenantLimits limits, List<String> models) {}

  /**
   * The body of {@code PATCH /admin/v1/tenants/{id}}, checked as strictly as POST's: only
   * {@code limits} (an object or null) and {@code models} (an array of strings, or null for all
   * models) may appear, and a value of any other type is refused rather than coerced.
   *
   * @param limits the limits to overlay, or null to leave them
   * @param setModels whether {@code models} was present (null then means all models)
   * @param models the new model list, or null for all models
   */
  public record TenantPatch(TenantLimits limits, boolean setModels, List<String> models) {

    /** Reads a PATCH body; throws {@link Invalid} with the field at fault. */
    public static TenantPatch read(byte[] body) throws Invalid, java.io.IOException {
      com.fasterxml.jackson.databind.JsonNode node = MAPPER.readTree(body);
      if (node == null || !node.isObject()) {
        throw new Invalid("The body must be a JSON object.", null);
      }
      for (var it = node.fieldNames(); it.hasNext(); ) {
        String f = it.next();
        if (!f.equals("limits") && !f.equals("models")) {
          throw new Invalid("Unknown field '" + f + "': only 'limits' and 'models' can change.", f);
        }
      }
      TenantLimits limits = null;
      com.fasterxml.jackson.databind.JsonNode l = node.get("limits");
      if (l != null && !l.isNull()) {
        if (!l.isObject()) {
          throw new Invalid("'limits' must be an object.", "limits");
        }
        limits = MAPPER.treeToValue(l, TenantLimits.class);
      }
      List<String> models = null;
      com.fasterxml.jackson.databind.JsonNode m = node.get("models");
      if (m != null && !m.isNull()) {
        if (!m.isArray()) {
          throw new Invalid("'models' must be an array of model names, or null for all models.", "models");
        }
        models = new ArrayList<>(m.size());
        for (com.fasterxml.jackson.databind.JsonNode e : m) {
          if (!e.isTextual()) {
            throw new Invalid("'models' must be an array of model names, or null for all models.", "models");
          }
          models.add(e.textValue());
        }
      }
      return new TenantPatch(limits, node.has("models"), models);
    }
  }

  /** An admin request body that parses as JSON but is refused with 400; names the field. */
  public static final class Invalid extends Exception {
    private final String param;

    public Invalid(String message, String param) {
      super(message, null, false, false);
      this.param = param;
    }

    public String param() {
      return param;
    }
  }

  /** A tenant as the admin API shows it. Key hashes are never shown. */
  @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
  @JsonInclude(JsonInclude.Include.ALWAYS)
  public record Tenant(String id, boolean enabled, TenantLimits limits, List<String> models,
      Instant createdAt, int activeKeys) {
    public static Tenant of(TenantState s) {
      int active = (int) s.keys().values().stream().filter(TenantState.KeyRecord::active).count();
      return new Tenant(s.tenantId(), s.enabled(), s.limits(), s.models(), s.createdAt(), active);
    }
  }

  /**
   * The answer to issuing a key: the only time the key itself is ever shown. A rotation's answer
   * also names the key it replaces ({@code rotated_from}) and when that key now expires.
   */
  @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record IssuedKey(String id, String key, String tenantId, Instant createdAt, Instant expiresAt,
      List<String> models, KeyLimits limits, String rotatedFrom, Instant rotatedFromExpiresAt) {
    public static IssuedKey of(String key, String tenantId, TenantState.KeyRecord k) {
      return new IssuedKey(k.keyId(), key, tenantId, k.createdAt(), k.expiresAt(), k.models(), k.limits(), null, null);
    }

    public IssuedKey rotatedFrom(TenantState.KeyRecord old) {
      return new IssuedKey(id, key, tenantId, createdAt, expiresAt, models, limits, old.keyId(), old.expiresAt());
    }
  }

  /**
   * Body of {@code POST .../keys} (all optional; an empty body is a key with none): when the key
   * expires (RFC 3339, in the future), the models it may use within the tenant's, and its own
   * per-minute limits within the tenant's.
   */
  @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
  public record IssueKey(Instant expiresAt, List<String> models, KeyLimits limits) {}

  /**
   * Body of {@code POST .../keys/{key_id}/rotate} (all optional): how long the old key keeps
   * working (bounded by {@code sluice.keys.max-rotation-overlap}), and when the new key expires.
   */
  @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
  public record RotateKey(Long overlapSeconds, Instant expiresAt) {}

  /** One recorded admin write: when, who (admin key id or "root"), from where, request id, what. */
  @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
  public record AuditEntry(Instant at, String actor, String address, String requestId, String action,
      String target) {}

  /** {@code GET /admin/v1/audit}. */
  public record AuditList(String object, String tenant, List<AuditEntry> data) {}

  /** {@code POST /admin/v1/admin-keys}: {@code role} is admin, read-only or tenant-admin (with {@code tenants}). */
  public record IssueAdminKey(String role, List<String> tenants) {}

  /** An admin key as listed: id, role, tenants and times, never its hash. */
  @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record AdminKeyInfo(String id, String role, List<String> tenants, Instant createdAt, Instant revokedAt,
      boolean active) {
    public static AdminKeyInfo of(io.sluice.persistence.AdminKeyState.AdminKey k) {
      return new AdminKeyInfo(k.keyId(), roleName(k.role()), k.tenants(), k.createdAt(), k.revokedAt(), k.active());
    }
  }

  /** The answer to issuing an admin key: the only time the key itself is shown. */
  @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
  public record IssuedAdminKey(String id, String key, String role, List<String> tenants, Instant createdAt) {}

  /** {@code GET /admin/v1/admin-keys}. */
  public record AdminKeyList(String object, List<AdminKeyInfo> data) {
    public static AdminKeyList of(io.sluice.persistence.AdminKeyState s) {
      return new AdminKeyList("list", s.keys().values().stream()
          .sorted(Comparator.comparing(io.sluice.persistence.AdminKeyState.AdminKey::createdAt)
              .thenComparing(io.sluice.persistence.AdminKeyState.AdminKey::keyId))
          .map(AdminKeyInfo::of).toList());
    }
  }

  /** An admin role's wire name: admin, read-only, tenant-admin. */
  public static String roleName(io.sluice.persistence.AdminRole role) {
    return role.name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
  }

  /** The role of a wire name, or null. */
  public static io.sluice.persistence.AdminRole role(String name) {
    for (io.sluice.persistence.AdminRole r : io.sluice.persistence.AdminRole.values()) {
      if (roleName(r).equals(name)) {
        return r;
      }
    }
    return null;
  }

  /**
   * A key as listed: its id, times, models and limits, never its hash. {@code active}: neither
   * revoked nor expired now.
   */
  @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record KeyInfo(String id, Instant createdAt, Instant revokedAt, Instant expiresAt, List<String> models,
      KeyLimits limits, boolean active) {
    public static KeyInfo of(TenantState.KeyRecord k, Instant now) {
      return new KeyInfo(k.keyId(), k.createdAt(), k.revokedAt(), k.expiresAt(), k.models(), k.limits(),
          k.usableAt(now));
    }
  }

  /** {@code GET .../keys}. */
  public record KeyList(String object, List<KeyInfo> data) {
    public static KeyList of(TenantState s, Instant now) {
      return new KeyList("list", s.keys().values().stream()
          .sorted(Comparator.comparing(TenantState.KeyRecord::createdAt).thenComparing(TenantState.KeyRecord::keyId))
          .map(k -> KeyInfo.of(k, now))
          .toList());
    }
  }

  /** One counter of a window: what was used (settled by nodes), and its limit (null = unlimited). */
  @JsonInclude(JsonInclude.Include.ALWAYS)
  public record Counter(Object used, Object limit) {}

  /** One window of usage, with its bounds. */
  @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
  public record Window(Instant start, Instant resetAt, Counter requests, Counter promptTokens,
      Counter completionTokens, Counter tokens, Counter costUsd) {}

  /**
   * {@code GET /admin/v1/tenants/{id}/usage}: the current minute, day and month. With several
   * regions {@code windows} and {@code concurrent_requests} are the global totals against the
   * tenant's limits, {@code region} is the region that answered and {@code regions} each region's
   * part with its escrow rights ({@link io.sluice.node.tenant.RegionalUsage}); a single-region node
   * leaves those two out.
   */
  @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
  public record Usage(String tenant, Map<String, Window> windows, Counter concurrentRequests,
      @JsonInclude(JsonInclude.Include.NON_NULL) String region,
      @JsonInclude(JsonInclude.Include.NON_NULL) Map<String, RegionPart> regions) {

    public Usage(String tenant, Map<String, Window> windows, Counter concurrentRequests) {
      this(tenant, windows, concurrentRequests, null, null);
    }

    public static Usage of(TenantState s, Instant now) {
      Map<WindowKind, UsageCounters> used = new EnumMap<>(WindowKind.class);
      for (WindowKind k : WindowKind.values()) {
        UsageCounters u = UsageCounters.ZERO;
        if (s.window(k) == Windows.id(k, now)) {
          for (NodeShare n : s.nodes().values()) {
            u = u.plus(n.used(k));
          }
        }
        used.put(k, u);
      }
      return new Usage(s.tenantId(), windows(s.limits(), used, now),
          new Counter(QuotaLedger.liveSlots(s, now), s.limits().maxConcurrentRequests()));
    }

    /** The multi-region usage of the tenant of {@code rs}: the global totals, and each region's part. */
    public static Usage of(ReplicatedTenantState rs, io.sluice.node.tenant.RegionSettings settings, Instant now) {
      io.sluice.node.tenant.RegionalUsage.View view = io.sluice.node.tenant.RegionalUsage.of(rs, settings, now);
      TenantLimits l = rs.tenant().limits();
      Map<String, RegionPart> regions = new LinkedHashMap<>();
      for (io.sluice.node.tenant.RegionalUsage.Part p : view.parts()) {
        regions.put(p.region(), RegionPart.of(p));
      }
      return new Usage(rs.tenant().tenantId(), windows(l, view.total(), now),
          new Counter(view.slots(), l.maxConcurrentRequests()), view.self(), regions);
    }

    private static Map<String, Window> windows(TenantLimits l, Map<WindowKind, UsageCounters> used, Instant now) {
      Map<String, Window> windows = new LinkedHashMap<>();
      for (WindowKind k : WindowKind.values()) {
        long id = Windows.id(k, now);
        UsageCounters u = used.get(k);
        Long tokenLimit = k == WindowKind.MINUTE ? l.tokensPerMinute() : k == WindowKind.DAY ? l.tokensPerDay() : null;
        BigDecimal spendLimit = k == WindowKind.DAY ? l.spendUsdPerDay() : k == WindowKind.MONTH ? l.spendUsdPerMonth() : null;
        windows.put(k.name().toLowerCase(), new Window(Windows.start(k, id), Windows.resetAt(k, id),
            new Counter(u.requests(), k == WindowKind.MINUTE ? l.requestsPerMinute() : null),
            new Counter(u.promptTokens(), null),
            new Counter(u.completionTokens(), null),
            new Counter(u.tokens(), tokenLimit),
            new Counter(usd(u.costNanos()), spendLimit)));
      }
      return windows;
    }
  }

  /** One counter of a region's part: what the region used, and its rights (null: no limit). */
  @JsonInclude(JsonInclude.Include.ALWAYS)
  public record Share(Object used, Object rights) {}

  /** A region's part of one window; prompt and completion tokens have no limit, so no rights. */
  @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
  public record RegionWindow(Share requests, Share promptTokens, Share completionTokens, Share tokens,
      Share costUsd) {}

  /** One region's part of a tenant's usage, with its escrow rights per window. */
  @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
  public record RegionPart(Map<String, RegionWindow> windows, Share concurrentRequests) {
    static RegionPart of(io.sluice.node.tenant.RegionalUsage.Part p) {
      Map<String, RegionWindow> windows = new LinkedHashMap<>();
      for (WindowKind k : WindowKind.values()) {
        UsageCounters u = p.used().get(k);
        RightsPool tokens = k == WindowKind.MINUTE ? RightsPool.TOKENS_PER_MINUTE
            : k == WindowKind.DAY ? RightsPool.TOKENS_PER_DAY : null;
        RightsPool spend = k == WindowKind.DAY ? RightsPool.SPEND_PER_DAY
            : k == WindowKind.MONTH ? RightsPool.SPEND_PER_MONTH : null;
        Long spendRights = spend == null ? null : p.rights().get(spend);
        windows.put(k.name().toLowerCase(), new RegionWindow(
            new Share(u.requests(), k == WindowKind.MINUTE ? p.rights().get(RightsPool.REQUESTS_PER_MINUTE) : null),
            new Share(u.promptTokens(), null),
            new Share(u.completionTokens(), null),
            new Share(u.tokens(), tokens == null ? null : p.rights().get(tokens)),
            new Share(usd(u.costNanos()), spendRights == null ? null : usd(spendRights))));
      }
      return new RegionPart(windows, new Share(p.slots(), p.rights().get(RightsPool.CONCURRENCY)));
    }
  }

  /** One tenant in {@code GET /admin/v1/tenants}: the tenant and its current usage against its limits. */
  @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
  @JsonInclude(JsonInclude.Include.ALWAYS)
  public record TenantSummary(String id, boolean enabled, TenantLimits limits, List<String> models,
      Instant createdAt, int activeKeys, Usage usage, List<String> circuitsOpen) {
    public static TenantSummary of(TenantState s, Instant now) {
      Tenant t = Tenant.of(s);
      List<String> open = s.circuits().entrySet().stream()
          .filter(e -> !e.getValue().status(now).equals("closed")).map(Map.Entry::getKey).sorted().toList();
      return new TenantSummary(t.id(), t.enabled(), t.limits(), t.models(), t.createdAt(), t.activeKeys(),
          Usage.of(s, now), open);
    }
  }

  /**
   * {@code GET /admin/v1/tenants}: a page of tenants in id order. {@code total} counts all that
   * match the search; the next page starts after {@code next_after}, null on the last page.
   */
  @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
  @JsonInclude(JsonInclude.Include.ALWAYS)
  public record TenantPage(String object, List<TenantSummary> data, int total, boolean hasMore, String nextAfter) {}

  /** Usage in one minute of {@code GET .../usage/history}. */
  @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
  public record MinuteUsage(Instant start, long requests, long promptTokens, long completionTokens, long tokens,
      String costUsd) {}

  /** {@code GET /admin/v1/tenants/{id}/usage/history}: usage per minute, oldest first, ending with the current minute. */
  public record UsageHistory(String tenant, List<MinuteUsage> data) {
    public static UsageHistory of(String tenant, long firstMinute, List<UsageCounters> minutes) {
      List<MinuteUsage> out = new ArrayList<>(minutes.size());
      for (int i = 0; i < minutes.size(); i++) {
        UsageCounters c = minutes.get(i);
        out.add(new MinuteUsage(Windows.start(WindowKind.MINUTE, firstMinute + i), c.requests(), c.promptTokens(),
            c.completionTokens(), c.tokens(), usd(c.costNanos())));
      }
      return new UsageHistory(tenant, out);
    }
  }

  private static String usd(long nanos) {
    return BigDecimal.valueOf(nanos).movePointLeft(9).setScale(9, RoundingMode.UNNECESSARY)
        .stripTrailingZeros().toPlainString();
  }

  /**
   * A tenant's circuit for one deployment, this region's; with several regions {@code regions}
   * holds the status of each other region's circuit for it that is not closed (a {@code shared}
   * deployment is skipped while one of those is open), and is absent otherwise.
   */
  @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record Circuit(String deployment, String model, String status, Instant openUntil, Integer lastStatus,
      String lastError, Map<String, String> regions) {
    public Circuit(String deployment, String model, String status, Instant openUntil, Integer lastStatus,
        String lastError) {
      this(deployment, model, status, openUntil, lastStatus, lastError, null);
    }
  }

  /** {@code GET /admin/v1/tenants/{id}/circuits}: every deployment the tenant may use. */
  public record Circuits(String object, List<Circuit> data) {
    public static Circuits of(TenantState s, ModelCatalog catalog, Instant now) {
      List<Circuit> out = new ArrayList<>();
      Set<String> seen = new LinkedHashSet<>();
      for (ModelCatalog.Model m : catalog.models().values()) {
        if (s.models() != null && !s.models().contains(m.name())) {
          continue;
        }
        for (Deployment d : m.deployments()) {
          if (!seen.add(d.name())) continue;
          CircuitState c = s.circuits().get(d.name());
          Map<String, String> regions = new java.util.TreeMap<>();
          String prefix = d.name() + CircuitState.REGION_SEPARATOR;
          s.circuits().forEach((key, other) -> {
            if (key.startsWith(prefix) && !other.status(now).equals("closed")) {
              regions.put(key.substring(prefix.length()), other.status(now));
            }
          });
          Map<String, String> others = regions.isEmpty() ? null : regions;
          out.add(c == null
              ? new Circuit(d.name(), m.name(), "closed", null, null, null, others)
              : new Circuit(d.name(), m.name(), c.status(now), c.openUntil(), c.lastStatus(), c.lastError(), others));
        }
      }
      return new Circuits("list", out);
    }
  }

  /** A deployment's health as this node sees it (node-local outlier ejection). */
  @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record DeploymentHealth(String name, String state, int consecutiveFailures, double failureRate,
      long requestsInWindow, Instant ejectedUntil, int ejections, int inFlight, int maxConcurrentRequests,
      double latencyMs) {}

  /** {@code GET /admin/v1/deployments}: every deployment's node-local health. */
  public record Deployments(String object, List<DeploymentHealth> data) {
    public static Deployments of(io.sluice.node.routing.DeploymentStates states) {
      List<DeploymentHealth> out = new ArrayList<>();
      states.all().forEach((name, st) -> {
        var h = st.health().snapshot();
        out.add(new DeploymentHealth(name, h.state().name().toLowerCase(), h.consecutiveFailures(), h.failureRate(),
            h.requestsInWindow(), h.ejectedUntil().orElse(null), h.ejections(), st.limiter().inFlight(),
            st.limiter().limit(), st.latency().rttNanos() / 1e6));
      });
      return new Deployments("list", out);
    }
  }
}
