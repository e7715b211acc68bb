package io.sluice.node.telemetry;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.sluice.node.inference.Operation;
import io.sluice.node.inference.Refusal;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * The request metrics of {@code /metrics}: latency histograms through Micrometer, and the
 * per-tenant usage series (tokens, cost, requests by status and refusal reason, per model), which
 * it renders itself at scrape time because their label set must stay bounded: the {@code
 * topTenants} tenants with the most tokens get their own series and every other tenant is summed
 * into {@code tenant="_other"}. Micrometer cannot choose its series per scrape.
 *
 * <p>Recording a request costs a few hash look-ups and {@link LongAdder} increments, no lock. A
 * tenant's counters live as long as the node (tenants are bounded by the tenant store; models by
 * the catalog, and a name the catalog does not know is never a label). The top-N set is chosen
 * anew at each scrape, so when a tenant enters or leaves it, its series appears or disappears and
 * {@code _other} moves by its total: the sum over all tenants of a series stays monotonic.
 */
public final class UsageMetrics {
  static final String OTHER = "_other";
  static final String UNAUTHENTICATED = "_unauthenticated";
  static final String NO_MODEL = "_none";
  private static final Refusal.Kind[] KINDS = Refusal.Kind.values();

  private final MeterRegistry registry;
  private final int topTenants;
  private final Duration[] latencyBuckets;
  private final ConcurrentHashMap<String, TenantUsage> tenants = new ConcurrentHashMap<>();
  private final TenantUsage unauthenticated = new TenantUsage(UNAUTHENTICATED);
  private final EnumMap<Operation, Timer> durations = new EnumMap<>(Operation.class);
  private final EnumMap<Operation, Timer> firstTokens = new EnumMap<>(Operation.class);
  private final EnumMap<Operation, Timer> overheads = new EnumMap<>(Operation.class);
  private final ConcurrentHashMap<String, Timer> attempts = new ConcurrentHashMap<>();

  public UsageMetrics(MeterRegistry registry, TelemetrySettings settings) {
    this.registry = registry;
    this.topTenants = settings.topTenants();
    this.latencyBuckets = settings.latencyBuckets().toArray(Duration[]::new);
    Duration[] overheadBuckets = settings.overheadBuckets().toArray(Duration[]::new);
    for (Operation op : Operation.values()) {
      String operation = op.name().toLowerCase();
      durations.put(op, Timer.builder("sluice.request.duration")
          .description("Client requests from arrival until the response (a stream's last byte) was done")
          .tag("operation", operation).serviceLevelObjectives(latencyBuckets).register(registry));
      firstTokens.put(op, Timer.builder("sluice.time.to.first.token")
          .description("Streamed requests from arrival until their first chunk went to the client")
          .tag("operation", operation).serviceLevelObjectives(latencyBuckets).register(registry));
      overheads.put(op, Timer.builder("sluice.gateway.overhead")
          .description("Time spent in the gateway per request, not waiting for upstreams")
          .tag("operation", operation).serviceLevelObjectives(overheadBuckets).register(registry));
    }
  }

  /** Counts one finished request. */
  public void record(RequestRecord r) {
    durations.get(r.operation()).record(r.durationNanos(), TimeUnit.NANOSECONDS);
    if (r.streamed() && r.firstByteNanos() >= 0) {
      firstTokens.get(r.operation()).record(r.firstByteNanos(), TimeUnit.NANOSECONDS);
    }
    overheads.get(r.operation()).record(Math.max(0, r.overheadNanos()), TimeUnit.NANOSECONDS);
    TenantUsage t = r.tenant() == null ? unauthenticated : tenant(r.tenant());
    ModelUsage m = t.model(r.model() == null ? NO_MODEL : r.model());
    m.input.add(r.inputTokens());
    m.output.add(r.outputTokens());
    m.costNanos.add(r.costNanos());
    m.requests(r.status(), r.refusal()).increment();
    t.tokens.add(r.inputTokens() + r.outputTokens());
  }

  /** Records how long one upstream attempt to {@code deployment} took. */
  public void attempt(String deployment, long nanos) {
    Timer timer = attempts.get(deployment);
    if (timer == null) {
      timer = attempts.computeIfAbsent(deployment, d -> Timer.builder("sluice.upstream.attempt.duration")
          .description("Upstream attempts from sending until the answer was read or failed (a stream's end)")
          .tag("deployment", d).serviceLevelObjectives(latencyBuckets).register(registry));
    }
    timer.record(nanos, TimeUnit.NANOSECONDS);
  }

  /** Tenants with their own counters (all of them; the exposition shows at most {@code topTenants}). */
  int trackedTenants() {
    return tenants.size();
  }

  private TenantUsage tenant(String id) {
    TenantUsage t = tenants.get(id);
    return t != null ? t : tenants.computeIfAbsent(id, TenantUsage::new);
  }

  /** Appends the per-tenant series in the Prometheus text format. */
  public void render(StringBuilder out) {
    List<TenantUsage> shown = top();
    TenantUsage other = new TenantUsage(OTHER);
    java.util.Set<TenantUsage> top = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
    top.addAll(shown);
    for (TenantUsage t : tenants.values()) {
      if (!top.contains(t)) {
        other.addAll(t);
      }
    }
    shown = new ArrayList<>(shown);
    shown.sort(Comparator.comparing(t -> t.id));
    shown.add(other);
    shown.add(unauthenticated);

    out.append("# HELP sluice_tenant_tokens_total Tokens charged, by tenant (the top tenants by tokens; the rest as _other), model and direction\n");
    out.append("# TYPE sluice_tenant_tokens_total counter\n");
    for (TenantUsage t : shown) {
      for (Map.Entry<String, ModelUsage> e : t.sorted()) {
        series(out, "sluice_tenant_tokens_total", t.id, e.getKey()).append(",direction=\"input\"} ")
            .append(e.getValue().input.sum()).append('\n');
        series(out, "sluice_tenant_tokens_total", t.id, e.getKey()).append(",direction=\"output\"} ")
            .append(e.getValue().output.sum()).append('\n');
      }
    }
    out.append("# HELP sluice_tenant_cost_usd_total Cost charged in USD, by tenant (top tenants; the rest as _other) and model\n");
    out.append("# TYPE sluice_tenant_cost_usd_total counter\n");
    for (TenantUsage t : shown) {
      for (Map.Entry<String, ModelUsage> e : t.sorted()) {
        series(out, "sluice_tenant_cost_usd_total", t.id, e.getKey()).append("} ")
            .append(e.getValue().costNanos.sum() / 1e9).append('\n');
      }
    }
    out.append("# HELP sluice_tenant_requests_total Client requests, by tenant (top tenants; the rest as _other), model, status and refusal reason\n");
    out.append("# TYPE sluice_tenant_requests_total counter\n");
    for (TenantUsage t : shown) {
      for (Map.Entry<String, ModelUsage> e : t.sorted()) {
        for (Map.Entry<Integer, LongAdder> req : new TreeMap<>(e.getValue().requests).entrySet()) {
          int key = req.getKey();
          int kind = key % 16;
          series(out, "sluice_tenant_requests_total", t.id, e.getKey()).append(",status=\"").append(key / 16)
              .append("\",reason=\"").append(kind == 0 ? "none" : KINDS[kind - 1].name().toLowerCase())
              .append("\"} ").append(req.getValue().sum()).append('\n');
        }
      }
    }
    out.append("# HELP sluice_tenants_tracked Tenants with usage counters on this node (at most top-tenants are shown)\n");
    out.append("# TYPE sluice_tenants_tracked gauge\n");
    out.append("sluice_tenants_tracked ").append(tenants.size()).append('\n');
  }

  /** The {@code topTenants} tenants with the most tokens (then the most requests), by a bounded heap. */
  private List<TenantUsage> top() {
    if (topTenants == 0) {
      return List.of();
    }
    record Ranked(TenantUsage t, long tokens, long requests) {}
    Comparator<Ranked> order = Comparator.comparingLong(Ranked::tokens).thenComparingLong(Ranked::requests)
        .thenComparing(r -> r.t.id, Comparator.reverseOrder());
    PriorityQueue<Ranked> heap = new PriorityQueue<>(topTenants + 1, order);
    for (TenantUsage t : tenants.values()) {
      heap.add(new Ranked(t, t.tokens.sum(), t.requests()));
      if (heap.size() > topTenants) {
        heap.poll();
      }
    }
    List<TenantUsage> out = new ArrayList<>(heap.size());
    heap.forEach(r -> out.add(r.t));
    return out;
  }

  private static StringBuilder series(StringBuilder out, String name, String tenant, String model) {
    out.append(name).append("{tenant=\"");
    escape(out, tenant).append("\",model=\"");
    return escape(out, model).append('"');
  }

  private static StringBuilder escape(StringBuilder out, String value) {
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      switch (c) {
        case '\\' -> out.append("\\\\");
        case '"' -> out.append("\\\"");
        case '\n' -> out.append("\\n");
        default -> out.append(c);
      }
    }
    return out;
  }

  /** One tenant's counters, per model. */
  private static final class TenantUsage {
    final String id;
    final ConcurrentHashMap<String, ModelUsage> models = new ConcurrentHashMap<>(4);
    final LongAdder tokens = new LongAdder();

    TenantUsage(String id) {
      this.id = id;
    }

    ModelUsage model(String name) {
      ModelUsage m = models.get(name);
      return m != null ? m : models.computeIfAbsent(name, n -> new ModelUsage());
    }

    long requests() {
      long n = 0;
      for (ModelUsage m : models.values()) {
        for (LongAdder a : m.requests.values()) {
          n += a.sum();
        }
      }
      return n;
    }

    List<Map.Entry<String, ModelUsage>> sorted() {
      return new TreeMap<>(models).entrySet().stream().toList();
    }

    /** Adds {@code t}'s counts into this one (the _other aggregate, built per scrape). */
    void addAll(TenantUsage t) {
      tokens.add(t.tokens.sum());
      t.models.forEach((name, m) -> {
        ModelUsage into = model(name);
        into.input.add(m.input.sum());
        into.output.add(m.output.sum());
        into.costNanos.add(m.costNanos.sum());
        m.requests.forEach((k, v) -> into.requests.computeIfAbsent(k, x -> new LongAdder()).add(v.sum()));
      });
    }
  }

  /** A tenant's counters for one model. */
  private static final class ModelUsage {
    final LongAdder input = new LongAdder();
    final LongAdder output = new LongAdder();
    final LongAdder costNanos = new LongAdder();
    /** By status * 16 + (refusal kind's ordinal + 1, or 0 when served). */
    final ConcurrentHashMap<Integer, LongAdder> requests = new ConcurrentHashMap<>(4);

    LongAdder requests(int status, Refusal.Kind refusal) {
      Integer key = status * 16 + (refusal == null ? 0 : refusal.ordinal() + 1);
      LongAdder a = requests.get(key);
      return a != null ? a : requests.computeIfAbsent(key, k -> new LongAdder());
    }
  }
}
