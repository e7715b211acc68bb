package io.sluice.node.tenant;

import io.sluice.persistence.TenantEvent.UsageSettled;
import io.sluice.persistence.UsageCounters;
import io.sluice.persistence.WindowKind;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A tenant's usage per UTC minute over the last {@code minutes} minutes, derived from the
 * {@link UsageSettled} events its entity applies. It is what the console charts; the windows that
 * limits apply to stay in {@code TenantState}.
 *
 * <p>It is transient: no event or snapshot carries it, so the stored contract is unchanged. It is
 * rebuilt from the events an entity replays (those after its latest snapshot) and then from every
 * settlement it applies, so after the entity starts (a node restart, its shard moving) the history
 * holds what was settled from then on.
 *
 * <p>Nodes report cumulative counters per window, so one node's usage between two of its reports
 * is the difference of its month counters (the longest window, which rolls least). Of that
 * difference, what the report's minute counters grew by belongs to the report's minute; the rest
 * was used before that minute began, and is counted in the minute before it. A node seen for the
 * first time (a new node, or the first report after the entity started) adds its minute counters
 * only: what it used before that minute cannot be told apart from usage this entity already
 * counted in an earlier incarnation. Totals therefore never count a report twice.
 *
 * <p>Memory: nothing until the first settlement, then one {@code long[5 x minutes]} (2.4 KB for
 * an hour) plus one entry per reporting node.
 */
public final class UsageHistory {
  private static final int FIELDS = 4;

  private final int minutes;
  /** Per slot (minute id mod minutes): the minute id it holds, then its four counters. */
  private long[] ring;
  private final Map<String, Seen> nodes = new HashMap<>(2);

  /** A node's last report: its minute and month windows and counters in them. */
  private record Seen(long minute, UsageCounters inMinute, long month, UsageCounters inMonth) {}

  public UsageHistory(int minutes) {
    if (minutes < 0) {
      throw new IllegalArgumentException("minutes must be at least 0");
    }
    this.minutes = minutes;
  }

  /** Counts a settlement. Pure in the sense that only this history changes; no clock is read. */
  public void record(UsageSettled e) {
    if (minutes == 0) {
      return;
    }
    Long minuteId = e.windows().get(WindowKind.MINUTE);
    Long monthId = e.windows().get(WindowKind.MONTH);
    UsageCounters inMinute = e.used().getOrDefault(WindowKind.MINUTE, UsageCounters.ZERO);
    UsageCounters inMonth = e.used().getOrDefault(WindowKind.MONTH, UsageCounters.ZERO);
    if (minuteId == null) {
      return; // the node has used nothing yet
    }
    Seen before = nodes.get(e.node());
    if (before != null && minuteId < before.minute()) {
      return; // an older report than one already counted
    }
    UsageCounters minuteGrowth = before != null && before.minute() == minuteId
        ? minus(inMinute, before.inMinute()) : inMinute;
    add(minuteId, minuteGrowth);
    if (before != null && monthId != null && monthId == before.month()) {
      add(minuteId - 1, minus(minus(inMonth, before.inMonth()), minuteGrowth));
    }
    nodes.put(e.node(), new Seen(minuteId, inMinute.max(before != null && before.minute() == minuteId
        ? before.inMinute() : UsageCounters.ZERO), monthId == null ? -1 : monthId,
        monthId != null && before != null && monthId == before.month() ? inMonth.max(before.inMonth()) : inMonth));
  }

  /**
   * Usage per minute for the {@code minutes} minutes up to and including minute {@code lastMinute},
   * oldest first; minutes with nothing settled are zero.
   */
  public List<UsageCounters> window(long lastMinute) {
    List<UsageCounters> out = new ArrayList<>(minutes);
    for (long m = lastMinute - minutes + 1; m <= lastMinute; m++) {
      out.add(at(m));
    }
    return out;
  }

  /** What is counted for minute {@code minute}. */
  public UsageCounters at(long minute) {
    if (ring == null) {
      return UsageCounters.ZERO;
    }
    int base = slot(minute);
    if (ring[base] != minute) {
      return UsageCounters.ZERO;
    }
    return new UsageCounters(ring[base + 1], ring[base + 2], ring[base + 3], ring[base + 4]);
  }

  public int minutes() {
    return minutes;
  }

  private void add(long minute, UsageCounters c) {
    if (c.requests() == 0 && c.promptTokens() == 0 && c.completionTokens() == 0 && c.costNanos() == 0) {
      return;
    }
    if (ring == null) {
      ring = new long[(FIELDS + 1) * minutes];
      for (int i = 0; i < minutes; i++) {
        ring[i * (FIELDS + 1)] = Long.MIN_VALUE;
      }
    }
    int base = slot(minute);
    if (ring[base] > minute) {
      return; // older than the history spans: its slot holds a newer minute
    }
    if (ring[base] < minute) {
      ring[base] = minute;
      ring[base + 1] = 0;
      ring[base + 2] = 0;
      ring[base + 3] = 0;
      ring[base + 4] = 0;
    }
    ring[base + 1] += c.requests();
    ring[base + 2] += c.promptTokens();
    ring[base + 3] += c.completionTokens();
    ring[base + 4] += c.costNanos();
  }

  private int slot(long minute) {
    return (int) Math.floorMod(minute, (long) minutes) * (FIELDS + 1);
  }

  /** Field-wise {@code a - b}, never below zero (counters only grow; a reordered report adds nothing). */
  private static UsageCounters minus(UsageCounters a, UsageCounters b) {
    return new UsageCounters(Math.max(0, a.requests() - b.requests()),
        Math.max(0, a.promptTokens() - b.promptTokens()),
        Math.max(0, a.completionTokens() - b.completionTokens()),
        Math.max(0, a.costNanos() - b.costNanos()));
  }
}
