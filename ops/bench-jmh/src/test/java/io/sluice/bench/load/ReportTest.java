package io.sluice.bench.load;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ReportTest {

  @Test
  void median_oddAndEvenCounts_middleValue() {
    assertEquals(2.0, Report.median(List.of(3.0, 1.0, 2.0)));
    assertEquals(2.5, Report.median(List.of(4.0, 1.0, 2.0, 3.0)));
    assertTrue(Double.isNaN(Report.median(List.of())));
  }

  @Test
  void derive_perRound_addedLatencyAndSpreadRatio() {
    Report r = new Report();
    for (int round = 1; round <= 3; round++) {
      r.add(round, "DIRECT", "lat_1000_p50_ms", 0.2);
      r.add(round, "SLUICE", "lat_1000_p50_ms", 0.2 + round);
      r.add(round, "SLUICE", "json_rps", 1000);
      r.add(round, "SLUICE", "spread_rps", 900 + round);
      r.add(round, "SLUICE", "spread_again_rps", 950 + round);
    }
    r.derive();
    assertEquals(List.of(1.0, 2.0, 3.0), r.values("SLUICE", "added_1000_p50_ms").stream()
        .map(v -> Math.round(v * 1000) / 1000.0).toList());
    assertEquals(0.902, Report.median(r.values("SLUICE", "spread_over_hot")), 1e-9);
    assertEquals(0.952, Report.median(r.values("SLUICE", "spread_again_over_hot")), 1e-9);
  }

  @Test
  void derive_ttfbOfEachTarget_addedOverDirectPerPercentile() {
    Report r = new Report();
    r.add(1, "DIRECT", "ttfb_p50_ms", 0.1);
    r.add(1, "NGINX", "ttfb_p50_ms", 0.25);
    r.add(1, "SLUICE", "ttfb_p50_ms", 0.5);
    r.add(1, "SLUICE", "ttfb_p99_ms", 3.0);
    r.derive();
    assertEquals(0.15, r.values("NGINX", "added_ttfb_p50_ms").get(0), 1e-9);
    assertEquals(0.4, r.values("SLUICE", "added_ttfb_p50_ms").get(0), 1e-9);
    // No DIRECT number for p99, so nothing to add it to.
    assertTrue(r.values("SLUICE", "added_ttfb_p99_ms").isEmpty());
  }

  @Test
  void printTable_medianWithRange_andMissingTargetsAsDash() {
    Report r = new Report();
    r.add(1, "DIRECT", "json_rps", 100);
    r.add(2, "DIRECT", "json_rps", 300);
    r.add(3, "DIRECT", "json_rps", 200);
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    r.printTable(new PrintStream(bytes, true, StandardCharsets.UTF_8), "title");
    String table = bytes.toString(StandardCharsets.UTF_8);
    assertTrue(table.contains("200 (100–300)"), table);
    assertTrue(table.contains(" -"), table);
  }

  @Test
  void json_summaryHasMedianMinMaxAndValues() {
    Report r = new Report();
    r.add(1, "SLUICE", "gw_rss_mb", 250);
    r.add(2, "SLUICE", "gw_rss_mb", 270);
    String json = r.json(Map.of("note", "say \"hi\""));
    assertTrue(json.contains("\"gw_rss_mb\": {\"median\": 260.0000, \"min\": 250.0000, \"max\": 270.0000,"
        + " \"values\": [250.0000, 270.0000]}"), json);
    assertTrue(json.contains("\"note\": \"say \\\"hi\\\"\""), json);
  }

  @Test
  void latencyData_oneRowPerRate_nanWhereMissing() {
    Report r = new Report();
    r.add(1, "DIRECT", "lat_500_p50_ms", 0.1);
    r.add(1, "DIRECT", "lat_5000_p50_ms", 0.2);
    String[] lines = r.latencyData().split("\n");
    assertEquals(3, lines.length);
    assertTrue(lines[1].startsWith("500 0.1000 NaN NaN NaN"), lines[1]);
    assertTrue(lines[2].startsWith("5000 0.2000"), lines[2]);
  }

  @Test
  void derive_pacedPercentilesAndSequentialTtfb_addedOverDirect() {
    Report r = new Report();
    r.add(1, "DIRECT", "paced_rate", 1000);
    r.add(1, "DIRECT", "paced_p99_ms", 0.5);
    r.add(1, "DIRECT", "paced_conn_worst_p99_ms", 0.8);
    r.add(1, "DIRECT", "ttfbseq_p50_ms", 0.2);
    r.add(1, "SLUICE", "paced_p99_ms", 3.5);
    r.add(1, "SLUICE", "paced_conn_worst_p99_ms", 20.8);
    r.add(1, "SLUICE", "ttfbseq_p50_ms", 0.45);
    r.add(1, "SLUICE", "paced_conns_max_over_50ms", 3);
    r.derive();
    assertEquals(3.0, r.values("SLUICE", "added_paced_p99_ms").get(0), 1e-9);
    assertEquals(20.0, r.values("SLUICE", "added_paced_conn_worst_p99_ms").get(0), 1e-9);
    assertEquals(0.25, r.values("SLUICE", "added_ttfbseq_p50_ms").get(0), 1e-9);
    // A count is not a latency: no difference is taken.
    assertTrue(r.values("SLUICE", "added_paced_conns_max_over_50ms").isEmpty());
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    r.printTable(new PrintStream(bytes, true, StandardCharsets.UTF_8), "title");
    assertTrue(bytes.toString(StandardCharsets.UTF_8).contains("paced @1000/s p99 (ms)"), bytes.toString(StandardCharsets.UTF_8));
  }
}
