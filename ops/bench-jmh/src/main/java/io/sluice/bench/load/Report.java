package io.sluice.bench.load;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Turns the raw measurements of {@code ops/bench} into its report: a table on stdout (the median
 * of each number over the rounds, with min–max), {@code results.json} and {@code latency.dat} (the
 * medians of latency against rate, for the chart).
 *
 * <p>The input is {@code raw.tsv}, one measurement a line: {@code round TAB target TAB metric TAB
 * value}. Derived numbers are computed per round before the median is taken: the latency a target
 * adds over DIRECT at the same rate and percentile ({@code added_*}, also for the streaming time to
 * first byte, {@code added_ttfb_*} and {@code added_ttfbseq_*}, and for the paced run's
 * percentiles, {@code added_paced_*}), and Sluice's throughput with
 * 10,000 tenants over its throughput with one ({@code spread_over_hot}, and {@code
 * spread_again_over_hot} for the spread run repeated at once, while the node holds the leases).
 *
 * <pre>
 * java -cp ops/bench-jmh/target/benchmarks.jar io.sluice.bench.load.Report --raw OUT/raw.tsv --out OUT \
 *   [--meta key=value ...]
 * </pre>
 */
public final class Report {
  static final List<String> TARGETS = List.of("DIRECT", "NGINX", "SLUICE");
  private static final Pattern LAT = Pattern.compile("lat_(\\d+)_(p50|p99|p999)_ms");
  /** Metrics of which the table also shows the difference to DIRECT's, per round ({@code added_<metric>}). */
  private static final Pattern DIFF = Pattern.compile(
      "(ttfb|ttfbseq)_(p50|p90|p99)_ms|paced_(p50|p99|p999|max|conn_worst_p99|conn_worst_max|probe_p99|probe_max)_ms");

  /** round -> target -> metric -> value. */
  final Map<Integer, Map<String, Map<String, Double>>> raw = new TreeMap<>();

  void add(int round, String target, String metric, double value) {
    raw.computeIfAbsent(round, r -> new LinkedHashMap<>())
        .computeIfAbsent(target, t -> new LinkedHashMap<>())
        .put(metric, value);
  }

  static Report read(Path tsv) throws IOException {
    Report r = new Report();
    for (String line : Files.readAllLines(tsv, StandardCharsets.UTF_8)) {
      if (line.isBlank() || line.startsWith("#")) {
        continue;
      }
      String[] f = line.split("\t");
      if (f.length != 4) {
        continue;
      }
      try {
        r.add(Integer.parseInt(f[0]), f[1], f[2], Double.parseDouble(f[3]));
      } catch (NumberFormatException skipped) {
        // a value that did not parse (a failed run) is left out
      }
    }
    return r;
  }

  /** Adds the per-round derived numbers. */
  void derive() {
    for (Map<String, Map<String, Double>> round : raw.values()) {
      Map<String, Double> direct = round.getOrDefault("DIRECT", Map.of());
      for (String t : List.of("NGINX", "SLUICE")) {
        Map<String, Double> m = round.get(t);
        if (m == null) {
          continue;
        }
        for (Map.Entry<String, Double> e : new ArrayList<>(m.entrySet())) {
          Matcher lat = LAT.matcher(e.getKey());
          if (lat.matches() && direct.containsKey(e.getKey())) {
            m.put("added_" + lat.group(1) + "_" + lat.group(2) + "_ms", e.getValue() - direct.get(e.getKey()));
          }
          if (DIFF.matcher(e.getKey()).matches() && direct.containsKey(e.getKey())) {
            m.put("added_" + e.getKey(), e.getValue() - direct.get(e.getKey()));
          }
        }
      }
      Map<String, Double> s = round.get("SLUICE");
      if (s != null && s.getOrDefault("json_rps", 0.0) > 0) {
        for (String spread : List.of("spread", "spread_again")) {
          if (s.containsKey(spread + "_rps")) {
            s.put(spread + "_over_hot", s.get(spread + "_rps") / s.get("json_rps"));
          }
        }
      }
    }
  }

  /** Every value of a target's metric over the rounds, in round order. */
  List<Double> values(String target, String metric) {
    List<Double> v = new ArrayList<>();
    for (Map<String, Map<String, Double>> round : raw.values()) {
      Double x = round.getOrDefault(target, Map.of()).get(metric);
      if (x != null) {
        v.add(x);
      }
    }
    return v;
  }

  static double median(List<Double> v) {
    double[] a = v.stream().mapToDouble(Double::doubleValue).sorted().toArray();
    if (a.length == 0) {
      return Double.NaN;
    }
    return a.length % 2 == 1 ? a[a.length / 2] : (a[a.length / 2 - 1] + a[a.length / 2]) / 2;
  }

  TreeSet<Integer> rates() {
    TreeSet<Integer> rates = new TreeSet<>();
    for (Map<String, Map<String, Double>> round : raw.values()) {
      for (Map<String, Double> m : round.values()) {
        for (String k : m.keySet()) {
          Matcher lat = LAT.matcher(k);
          if (lat.matches()) {
            rates.add(Integer.parseInt(lat.group(1)));
          }
        }
      }
    }
    return rates;
  }

  /** The rows of the table: metric, label, digits. */
  List<String[]> rows() {
    List<String[]> rows = new ArrayList<>();
    String paced = "paced @" + pacedRate() + "/s";
    rows.add(new String[] {"paced_p50_ms", paced + " p50 (ms)", "3"});
    rows.add(new String[] {"paced_p99_ms", paced + " p99 (ms)", "3"});
    rows.add(new String[] {"paced_p999_ms", paced + " p99.9 (ms)", "3"});
    rows.add(new String[] {"paced_max_ms", paced + " max (ms)", "3"});
    rows.add(new String[] {"paced_conn_worst_p99_ms", "  worst connection's p99 (ms)", "3"});
    rows.add(new String[] {"paced_conn_worst_max_ms", "  worst connection's max (ms)", "3"});
    rows.add(new String[] {"paced_conns_max_over_50ms", "  connections with a request over 50 ms", "0"});
    rows.add(new String[] {"paced_probe_p99_ms", "  sequential probe beside it, p99 (ms)", "3"});
    rows.add(new String[] {"paced_probe_max_ms", "  sequential probe beside it, max (ms)", "3"});
    rows.add(new String[] {"paced_achieved_rps", "  achieved rate", "0"});
    rows.add(new String[] {"paced_errors", "  errors+timeouts", "0"});
    rows.add(new String[] {"paced_gw_cpu_pct", "  gateway CPU (% of one core)", "1"});
    rows.add(new String[] {"paced_gw_cpu_us_per_req", "  gateway CPU per request (us)", "1"});
    for (String p : List.of("p50", "p99", "p999", "max")) {
      rows.add(new String[] {"added_paced_" + p + "_ms", "added over DIRECT, " + paced + " " + label(p) + " (ms)", "3"});
    }
    rows.add(new String[] {"added_paced_conn_worst_p99_ms", "  added, worst connection's p99 (ms)", "3"});
    rows.add(new String[] {"added_paced_probe_p99_ms", "  added, probe p99 (ms)", "3"});
    rows.add(new String[] {"json_rps", "max throughput, JSON (req/s)", "0"});
    rows.add(new String[] {"stream_rps", "max throughput, SSE stream (req/s)", "0"});
    rows.add(new String[] {"json_errors", "  errors in the JSON run", "0"});
    rows.add(new String[] {"stream_errors", "  errors in the stream run", "0"});
    for (int rate : rates()) {
      for (String p : List.of("p50", "p99", "p999")) {
        rows.add(new String[] {"lat_" + rate + "_" + p + "_ms",
            "latency @" + rate + "/s " + label(p) + " (ms)", "3"});
      }
      rows.add(new String[] {"lat_" + rate + "_achieved_rps", "  achieved rate @" + rate + "/s", "0"});
      rows.add(new String[] {"lat_" + rate + "_errors", "  errors+timeouts @" + rate + "/s", "0"});
    }
    for (int rate : rates()) {
      for (String p : List.of("p50", "p99", "p999")) {
        rows.add(new String[] {"added_" + rate + "_" + p + "_ms",
            "added over DIRECT @" + rate + "/s " + label(p) + " (ms)", "3"});
      }
    }
    for (String p : List.of("p50", "p90", "p99")) {
      rows.add(new String[] {"ttfb_" + p + "_ms", "stream time to first byte " + p + " (ms)", "3"});
    }
    for (String p : List.of("p50", "p90", "p99")) {
      rows.add(new String[] {"added_ttfb_" + p + "_ms", "  added over DIRECT, TTFB " + p + " (ms)", "3"});
    }
    rows.add(new String[] {"ttfb_rate", "  streamed requests/s of the TTFB run", "0"});
    rows.add(new String[] {"ttfb_errors", "  errors+timeouts in the TTFB run", "0"});
    for (String p : List.of("p50", "p90", "p99")) {
      rows.add(new String[] {"ttfbseq_" + p + "_ms", "stream TTFB, sequential curl " + p + " (ms)", "3"});
    }
    for (String p : List.of("p50", "p99")) {
      rows.add(new String[] {"added_ttfbseq_" + p + "_ms", "  added over DIRECT, sequential TTFB " + p + " (ms)", "3"});
    }
    rows.add(new String[] {"ttfbseq_n", "  streamed requests of the sequential run", "0"});
    for (int rate : rates()) {
      for (String p : List.of("p50", "p90", "p99")) {
        rows.add(new String[] {"ovh_" + rate + "_" + p + "_ms",
            "x-sluice-overhead-ms @" + rate + "/s " + p, "3"});
      }
    }
    for (String p : List.of("p50", "p90", "p99")) {
      rows.add(new String[] {"ovh_wrk_" + p + "_ms", "x-sluice-overhead-ms @max load " + p + " (wrk)", "3"});
    }
    rows.add(new String[] {"ovh_wrk_rps", "  req/s of that run (Lua response hook on)", "0"});
    rows.add(new String[] {"gw_rss_mb", "gateway RSS at max load, peak (MB)", "1"});
    rows.add(new String[] {"gw_cpu_us_per_req_json", "gateway CPU per request, JSON (us)", "1"});
    rows.add(new String[] {"gw_cpu_us_per_req_stream", "gateway CPU per request, stream (us)", "1"});
    rows.add(new String[] {"spread_rps", "max throughput, spread over tenants (req/s)", "0"});
    rows.add(new String[] {"spread_tenants", "  tenants (one key each) in that run", "0"});
    rows.add(new String[] {"spread_over_hot", "  spread / 1 hot tenant", "3"});
    rows.add(new String[] {"spread_errors", "  errors in that run", "0"});
    rows.add(new String[] {"gw_cpu_us_per_req_spread", "  gateway CPU per request in that run (us)", "1"});
    rows.add(new String[] {"spread_again_rps", "  the same run again at once, leases held (req/s)", "0"});
    rows.add(new String[] {"spread_again_over_hot", "  that run / 1 hot tenant", "3"});
    rows.add(new String[] {"spread_again_errors", "  errors in that run", "0"});
    rows.add(new String[] {"gw_cpu_us_per_req_spread_again", "  gateway CPU per request in that run (us)", "1"});
    return rows;
  }

  /** The paced run's rate, as recorded ({@code paced_rate}); "?" when no run recorded it. */
  String pacedRate() {
    for (String t : TARGETS) {
      List<Double> v = values(t, "paced_rate");
      if (!v.isEmpty()) {
        return fmt(v.get(0), 0);
      }
    }
    return "?";
  }

  private static String label(String p) {
    return p.equals("p999") ? "p99.9" : p;
  }

  String cell(String target, String metric, int digits) {
    List<Double> v = values(target, metric);
    if (v.isEmpty()) {
      return "-";
    }
    double min = v.stream().mapToDouble(Double::doubleValue).min().orElseThrow();
    double max = v.stream().mapToDouble(Double::doubleValue).max().orElseThrow();
    String med = fmt(median(v), digits);
    return v.size() == 1 ? med : med + " (" + fmt(min, digits) + "–" + fmt(max, digits) + ")";
  }

  static String fmt(double v, int digits) {
    return String.format(Locale.ROOT, "%." + digits + "f", v);
  }

  void printTable(PrintStream out, String title) {
    List<String[]> rows = rows();
    int labelWidth = rows.stream().mapToInt(r -> r[1].length()).max().orElse(10);
    List<String[]> lines = new ArrayList<>();
    int[] width = new int[TARGETS.size()];
    for (int i = 0; i < TARGETS.size(); i++) {
      width[i] = TARGETS.get(i).length();
    }
    for (String[] row : rows) {
      String[] cells = new String[TARGETS.size()];
      boolean any = false;
      for (int i = 0; i < TARGETS.size(); i++) {
        cells[i] = cell(TARGETS.get(i), row[0], Integer.parseInt(row[2]));
        any |= !cells[i].equals("-");
        width[i] = Math.max(width[i], cells[i].length());
      }
      if (any) {
        String[] line = new String[TARGETS.size() + 1];
        line[0] = row[1];
        System.arraycopy(cells, 0, line, 1, cells.length);
        lines.add(line);
      }
    }
    out.println(title);
    StringBuilder head = new StringBuilder(pad("", labelWidth));
    for (int i = 0; i < TARGETS.size(); i++) {
      head.append("  ").append(pad(TARGETS.get(i), width[i]));
    }
    out.println(head.toString().stripTrailing());
    out.println("-".repeat(head.length()));
    for (String[] line : lines) {
      StringBuilder sb = new StringBuilder(pad(line[0], labelWidth));
      for (int i = 0; i < TARGETS.size(); i++) {
        sb.append("  ").append(pad(line[i + 1], width[i]));
      }
      out.println(sb.toString().stripTrailing());
    }
  }

  private static String pad(String s, int w) {
    return s + " ".repeat(Math.max(0, w - s.length()));
  }

  String json(Map<String, String> meta) {
    StringBuilder sb = new StringBuilder("{\n  \"meta\": {");
    boolean first = true;
    for (Map.Entry<String, String> e : meta.entrySet()) {
      sb.append(first ? "\n" : ",\n").append("    ").append(str(e.getKey())).append(": ").append(str(e.getValue()));
      first = false;
    }
    sb.append("\n  },\n  \"rounds\": ").append(raw.size()).append(",\n  \"summary\": {");
    first = true;
    for (String t : TARGETS) {
      TreeSet<String> metrics = new TreeSet<>();
      for (Map<String, Map<String, Double>> round : raw.values()) {
        metrics.addAll(round.getOrDefault(t, Map.of()).keySet());
      }
      if (metrics.isEmpty()) {
        continue;
      }
      sb.append(first ? "\n" : ",\n").append("    ").append(str(t)).append(": {");
      first = false;
      boolean firstMetric = true;
      for (String m : metrics) {
        List<Double> v = values(t, m);
        sb.append(firstMetric ? "\n" : ",\n").append("      ").append(str(m)).append(": {\"median\": ")
            .append(num(median(v))).append(", \"min\": ").append(num(v.stream().mapToDouble(x -> x).min().orElse(Double.NaN)))
            .append(", \"max\": ").append(num(v.stream().mapToDouble(x -> x).max().orElse(Double.NaN)))
            .append(", \"values\": [");
        for (int i = 0; i < v.size(); i++) {
          sb.append(i == 0 ? "" : ", ").append(num(v.get(i)));
        }
        sb.append("]}");
        firstMetric = false;
      }
      sb.append("\n    }");
    }
    sb.append("\n  }\n}\n");
    return sb.toString();
  }

  /** Rate, then for each target its median p50, p99 and p99.9 in ms (NaN where missing). */
  String latencyData() {
    StringBuilder sb = new StringBuilder("# rate");
    for (String t : TARGETS) {
      sb.append(' ').append(t).append("_p50 ").append(t).append("_p99 ").append(t).append("_p999");
    }
    sb.append('\n');
    for (int rate : rates()) {
      sb.append(rate);
      for (String t : TARGETS) {
        for (String p : List.of("p50", "p99", "p999")) {
          double m = median(values(t, "lat_" + rate + "_" + p + "_ms"));
          sb.append(' ').append(Double.isNaN(m) ? "NaN" : fmt(m, 4));
        }
      }
      sb.append('\n');
    }
    return sb.toString();
  }

  private static String num(double v) {
    return Double.isNaN(v) || Double.isInfinite(v) ? "null" : fmt(v, 4);
  }

  private static String str(String s) {
    StringBuilder sb = new StringBuilder("\"");
    for (char c : s.toCharArray()) {
      switch (c) {
        case '"' -> sb.append("\\\"");
        case '\\' -> sb.append("\\\\");
        case '\n' -> sb.append("\\n");
        default -> {
          if (c < 0x20) {
            sb.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
          } else {
            sb.append(c);
          }
        }
      }
    }
    return sb.append('"').toString();
  }

  public static void main(String[] args) throws IOException {
    Path rawFile = null;
    Path out = null;
    Map<String, String> meta = new LinkedHashMap<>();
    for (int i = 0; i + 1 < args.length; i += 2) {
      switch (args[i]) {
        case "--raw" -> rawFile = Path.of(args[i + 1]);
        case "--out" -> out = Path.of(args[i + 1]);
        case "--meta" -> {
          String kv = args[i + 1];
          int eq = kv.indexOf('=');
          if (eq > 0) {
            meta.put(kv.substring(0, eq), kv.substring(eq + 1));
          }
        }
        default -> throw new IllegalArgumentException("unknown flag " + args[i] + " in " + Arrays.toString(args));
      }
    }
    if (rawFile == null || out == null) {
      System.err.println("usage: Report --raw raw.tsv --out DIR [--meta key=value ...]");
      System.exit(2);
    }
    Report r = read(rawFile);
    r.derive();
    String title = "Sluice benchmark: " + r.raw.size() + " round(s)"
        + (meta.containsKey("duration_s") ? ", " + meta.get("duration_s") + " s per point" : "")
        + (meta.containsKey("paced_duration_s") ? " (paced: " + meta.get("paced_duration_s") + " s)" : "")
        + "; median (min–max) over rounds";
    r.printTable(System.out, title);
    Files.writeString(out.resolve("results.json"), r.json(meta), StandardCharsets.UTF_8);
    Files.writeString(out.resolve("latency.dat"), r.latencyData(), StandardCharsets.UTF_8);
  }
}
