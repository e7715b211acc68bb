package io.sluice.node.tenant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.sluice.persistence.TenantEvent.UsageSettled;
import io.sluice.persistence.UsageCounters;
import io.sluice.persistence.WindowKind;
import java.time.Instant;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class UsageHistoryTest {
  private static final long MINUTE = 29_500_000L;
  private static final long MONTH = 24_314L;
  private static final Instant AT = Instant.ofEpochSecond(MINUTE * 60 + 30);

  /** A node's cumulative report: its minute and month windows and counters. */
  private static UsageSettled report(String node, long minute, UsageCounters inMinute, UsageCounters inMonth) {
    Map<WindowKind, Long> windows = new EnumMap<>(WindowKind.class);
    windows.put(WindowKind.MINUTE, minute);
    windows.put(WindowKind.MONTH, MONTH);
    Map<WindowKind, UsageCounters> used = new EnumMap<>(WindowKind.class);
    used.put(WindowKind.MINUTE, inMinute);
    used.put(WindowKind.MONTH, inMonth);
    return new UsageSettled(node, 1, windows, used, Map.of(), 0, AT.plusSeconds(30), AT);
  }

  private static UsageCounters c(long requests) {
    return new UsageCounters(requests, requests * 10, requests * 20, requests * 1000);
  }

  @Test
  void record_repeatedCumulativeReports_countOnlyTheGrowth() {
    UsageHistory h = new UsageHistory(60);
    h.record(report("a", MINUTE, c(2), c(2)));
    h.record(report("a", MINUTE, c(5), c(5)));
    h.record(report("a", MINUTE, c(5), c(5)));
    assertEquals(c(5), h.at(MINUTE));
  }

  @Test
  void record_twoNodes_sumTheirUsage() {
    UsageHistory h = new UsageHistory(60);
    h.record(report("a", MINUTE, c(2), c(2)));
    h.record(report("b", MINUTE, c(3), c(3)));
    assertEquals(c(5), h.at(MINUTE));
  }

  @Test
  void record_nextMinuteWithUnreportedTail_tailGoesToThePreviousMinute() {
    UsageHistory h = new UsageHistory(60);
    h.record(report("a", MINUTE, c(2), c(2)));
    // 3 more requests late in MINUTE were never reported in it; then 4 in MINUTE + 1.
    h.record(report("a", MINUTE + 1, c(4), c(9)));
    assertEquals(c(5), h.at(MINUTE));
    assertEquals(c(4), h.at(MINUTE + 1));
  }

  @Test
  void record_olderReportAfterANewerOne_ignored() {
    UsageHistory h = new UsageHistory(60);
    h.record(report("a", MINUTE + 1, c(1), c(1)));
    h.record(report("a", MINUTE, c(7), c(7)));
    assertEquals(UsageCounters.ZERO, h.at(MINUTE));
    assertEquals(c(1), h.at(MINUTE + 1));
  }

  @Test
  void record_firstReportOfANode_countsOnlyItsMinute() {
    UsageHistory h = new UsageHistory(60);
    // The month counters include usage an earlier incarnation may already have counted.
    h.record(report("a", MINUTE, c(2), c(50)));
    assertEquals(c(2), h.at(MINUTE));
    assertEquals(UsageCounters.ZERO, h.at(MINUTE - 1));
  }

  @Test
  void window_spansTheLastMinutes_olderOnesDropOut() {
    UsageHistory h = new UsageHistory(3);
    h.record(report("a", MINUTE, c(1), c(1)));
    h.record(report("a", MINUTE + 1, c(2), c(3)));
    h.record(report("a", MINUTE + 3, c(4), c(7)));
    assertEquals(List.of(UsageCounters.ZERO, c(2), UsageCounters.ZERO), h.window(MINUTE + 2));
    assertEquals(List.of(c(2), UsageCounters.ZERO, c(4)), h.window(MINUTE + 3));
    // MINUTE's slot now holds MINUTE + 3.
    assertEquals(UsageCounters.ZERO, h.at(MINUTE));
  }

  @Test
  void window_nothingRecorded_allZero() {
    assertEquals(List.of(UsageCounters.ZERO, UsageCounters.ZERO), new UsageHistory(2).window(MINUTE));
  }

  @Test
  void record_zeroMinutes_keepsNothing() {
    UsageHistory h = new UsageHistory(0);
    h.record(report("a", MINUTE, c(1), c(1)));
    assertEquals(List.of(), h.window(MINUTE));
    assertThrows(IllegalArgumentException.class, () -> new UsageHistory(-1));
  }
}
