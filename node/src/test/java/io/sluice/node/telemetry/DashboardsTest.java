package io.sluice.node.telemetry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.sluice.node.inference.Operation;
import io.sluice.node.inference.RequestObservation;
import io.sluice.node.metrics.GatewayMetrics;
import io.sluice.node.routing.DeploymentStates;
import io.sluice.node.routing.HealthSettings;
import io.sluice.node.routing.ModelCatalog;
import io.sluice.node.routing.RoutingSettings;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * ops/grafana/sluice.json and ops/prometheus/alerts.yml refer only to metrics a node exports
 * (read from a real scrape of {@link GatewayMetrics}) or to metrics listed as pending in
 * ops/prometheus/pending-metrics.txt; panels on pending metrics say so; and nothing listed as
 * pending is exported already.
 */
class DashboardsTest {
  private static final Path OPS = Path.of("..", "ops");
  /** PromQL words that are not metric names. */
  private static final Set<String> KEYWORDS = Set.of("by", "without", "on", "ignoring", "group_left", "group_right",
      "bool", "and", "or", "unless", "offset", "inf", "nan");
  /** Series Prometheus itself makes for every scrape target. */
  private static final Set<String> PROMETHEUS = Set.of("up", "scrape_duration_seconds", "scrape_samples_scraped");
  /** Micrometer registers the GC pause timer on the first GC notification, so a fresh registry may lack it. */
  private static final Set<String> AFTER_FIRST_GC = Set.of("jvm_gc_pause_seconds_sum", "jvm_gc_pause_seconds_count",
      "jvm_gc_pause_seconds_max");
  private static final Pattern IDENT = Pattern.compile("[a-zA-Z_:][a-zA-Z0-9_:]*");

  private static Set<String> exported;
  private static Set<String> pending;

  @BeforeAll
  static void scrape() throws IOException {
    Config config = ConfigFactory.load();
    ModelCatalog catalog = ModelCatalog.from(config);
    DeploymentStates states = DeploymentStates.create(catalog, RoutingSettings.from(config), HealthSettings.from(config),
        InstantSource.system(), System::nanoTime);
    GatewayMetrics metrics = new GatewayMetrics(states);
    // The per-tenant series and the histograms, rendered as the node renders them, after one request.
    Fixture f = Fixture.create();
    Observability o = new Observability(new UsageMetrics(metrics.registry(), Fixture.SETTINGS), null, null,
        metrics.registry(), f.nanos::get, InstantSource.system());
    metrics.expose(o.metrics()::render);
    String key = "sk-sluice.acme.secret";
    RequestObservation obs = o.start("openai", Operation.CHAT, "r1", f.nanos.get(), h -> null);
    obs.authenticated(Fixture.tenant("acme", key), key);
    obs.admitted(Fixture.MODEL, -1);
    obs.attemptStarted(Fixture.DEPLOYMENT);
    f.advanceMillis(1);
    obs.settled(new io.sluice.persistence.UsageCounters(1, 10, 5, 100L));
    obs.served(true, 10_000);
    obs.finished(200);
    // Every labelled series exists once something was counted in it.
    metrics.request(Operation.CHAT, 200);
    metrics.attempt(states.all().values().iterator().next().deployment(), "OK");
    metrics.acquire();
    metrics.settlement();
    exported = new TreeSet<>(AFTER_FIRST_GC);
    for (String line : metrics.scrape().split("\n")) {
      if (!line.isEmpty() && !line.startsWith("#")) {
        Matcher m = IDENT.matcher(line);
        assertTrue(m.lookingAt(), line);
        exported.add(m.group());
      }
    }
    pending = new TreeSet<>();
    for (String line : Files.readAllLines(OPS.resolve("prometheus/pending-metrics.txt"))) {
      String name = line.replaceAll("#.*", "").trim();
      if (!name.isEmpty()) {
        pending.add(name);
      }
    }
  }

  /** The metric names in a PromQL expression: identifiers that are not functions, labels, keywords or durations. */
  static Set<String> metricNames(String expr) {
    String s = expr
        .replaceAll("\"(?:[^\"\\\\]|\\\\.)*\"", "\"\"")                 // string literals
        .replaceAll("\\{[^}]*}", "")                                    // label matchers
        .replaceAll("\\[[^]]*]", "")                                    // ranges and subqueries
        .replaceAll("\\b(by|without|on|ignoring|group_left|group_right)\\s*\\([^)]*\\)", " ")  // label lists
        .replaceAll("\\$\\{?\\w+}?", " ");                              // Grafana variables
    Set<String> names = new TreeSet<>();
    Matcher m = IDENT.matcher(s);
    while (m.find()) {
      String id = m.group();
      int after = m.end();
      while (after < s.length() && Character.isWhitespace(s.charAt(after))) after++;
      boolean call = after < s.length() && s.charAt(after) == '(';
      boolean number = m.start() > 0 && Character.isDigit(s.charAt(m.start() - 1));
      if (!call && !number && !KEYWORDS.contains(id.toLowerCase())) {
        names.add(id);
      }
    }
    return names;
  }

  private record Query(String where, String expr, String description) {}

  private static List<Query> dashboardQueries() throws IOException {
    JsonNode dash = new ObjectMapper().readTree(OPS.resolve("grafana/sluice.json").toFile());
    List<Query> out = new ArrayList<>();
    for (JsonNode p : dash.get("panels")) {
      for (JsonNode t : p.path("targets")) {
        out.add(new Query("panel '" + p.get("title").asText() + "'", t.get("expr").asText(),
            p.path("description").asText("")));
      }
    }
    return out;
  }

  private static List<Query> ruleQueries() throws IOException {
    JsonNode rules = new ObjectMapper(new YAMLFactory()).readTree(OPS.resolve("prometheus/alerts.yml").toFile());
    List<Query> out = new ArrayList<>();
    for (JsonNode g : rules.get("groups")) {
      for (JsonNode r : g.get("rules")) {
        out.add(new Query("rule " + r.get("alert").asText(), r.get("expr").asText(), ""));
      }
    }
    return out;
  }

  @Test
  void metricNames_expression_findsOnlyMetrics() {
    assertEquals(Set.of("a_total", "b_bucket"), metricNames(
        "sum by (le, x) (rate(a_total{status=~\"5..\", y=\"by(z)\"}[5m])) / on(instance) group_left(q) "
            + "histogram_quantile(0.99, rate(b_bucket{instance=~\"$instance\"}[$__rate_interval])) > 1e-9 offset 5m"));
  }

  @Test
  void dashboard_everyQuery_usesExportedOrPendingMetrics() throws IOException {
    List<Query> queries = dashboardQueries();
    assertTrue(queries.size() >= 20, "the dashboard has its panels");
    List<String> unknown = new ArrayList<>();
    for (Query q : queries) {
      Set<String> names = metricNames(q.expr());
      assertFalse(names.isEmpty(), q.where() + " refers to no metric: " + q.expr());
      for (String n : names) {
        if (!exported.contains(n) && !pending.contains(n) && !PROMETHEUS.contains(n)) {
          unknown.add(q.where() + ": " + n);
        }
        if (pending.contains(n) && !q.description().contains("Pending")) {
          unknown.add(q.where() + " uses pending " + n + " but its description does not say Pending");
        }
      }
    }
    assertEquals(List.of(), unknown);
  }

  @Test
  void alerts_everyRule_usesExportedOrPendingMetricsAndIsComplete() throws IOException {
    List<Query> queries = ruleQueries();
    Set<String> alerts = new TreeSet<>();
    List<String> unknown = new ArrayList<>();
    for (Query q : queries) {
      alerts.add(q.where());
      for (String n : metricNames(q.expr())) {
        if (!exported.contains(n) && !pending.contains(n) && !PROMETHEUS.contains(n)) {
          unknown.add(q.where() + ": " + n);
        }
      }
    }
    assertEquals(List.of(), unknown);
    for (String required : List.of("SluiceHighErrorRate", "SluiceLatencyP99High", "SluiceDeploymentEjected",
        "SluiceJournalUnavailable", "SluiceTenantNearDailyBudget")) {
      assertTrue(alerts.contains("rule " + required), "missing alert " + required);
    }
  }

  @Test
  void pending_listedMetrics_areNotExportedYet() {
    Set<String> both = new TreeSet<>(pending);
    both.retainAll(exported);
    assertEquals(Set.of(), both, "exported now: remove these from ops/prometheus/pending-metrics.txt");
  }
}
