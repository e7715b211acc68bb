package io.sluice.node.tenant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.persistence.WindowKind;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

class WindowsTest {

  private static Instant at(String iso) {
    return Instant.parse(iso);
  }

  // ---------------------------------------------------------------- start / resetAt of the window holding t

  /** kind, a time, the start of its window, the end (reset) of its window. */
  static Stream<Arguments> windowsAroundEdges() {
    return Stream.of(
        // MINUTE
        Arguments.of(WindowKind.MINUTE, "2026-03-01T12:00:00Z", "2026-03-01T12:00:00Z", "2026-03-01T12:01:00Z"),
        Arguments.of(WindowKind.MINUTE, "2026-03-01T12:00:59.999999999Z", "2026-03-01T12:00:00Z",
            "2026-03-01T12:01:00Z"),
        Arguments.of(WindowKind.MINUTE, "2026-03-01T23:59:30Z", "2026-03-01T23:59:00Z", "2026-03-02T00:00:00Z"),
        Arguments.of(WindowKind.MINUTE, "2026-12-31T23:59:59.5Z", "2026-12-31T23:59:00Z", "2027-01-01T00:00:00Z"),
        Arguments.of(WindowKind.MINUTE, "1970-01-01T00:00:00Z", "1970-01-01T00:00:00Z", "1970-01-01T00:01:00Z"),
        // DAY: UTC midnight
        Arguments.of(WindowKind.DAY, "2026-03-01T00:00:00Z", "2026-03-01T00:00:00Z", "2026-03-02T00:00:00Z"),
        Arguments.of(WindowKind.DAY, "2026-03-01T23:59:59.999999999Z", "2026-03-01T00:00:00Z",
            "2026-03-02T00:00:00Z"),
        Arguments.of(WindowKind.DAY, "2026-01-31T12:00:00Z", "2026-01-31T00:00:00Z", "2026-02-01T00:00:00Z"),
        Arguments.of(WindowKind.DAY, "2023-02-28T18:00:00Z", "2023-02-28T00:00:00Z", "2023-03-01T00:00:00Z"),
        Arguments.of(WindowKind.DAY, "2024-02-28T18:00:00Z", "2024-02-28T00:00:00Z", "2024-02-29T00:00:00Z"),
        Arguments.of(WindowKind.DAY, "2024-02-29T18:00:00Z", "2024-02-29T00:00:00Z", "2024-03-01T00:00:00Z"),
        Arguments.of(WindowKind.DAY, "2026-12-31T23:00:00Z", "2026-12-31T00:00:00Z", "2027-01-01T00:00:00Z"),
        // MONTH: month ends, leap and non-leap February, year end
        Arguments.of(WindowKind.MONTH, "2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z", "2026-02-01T00:00:00Z"),
        Arguments.of(WindowKind.MONTH, "2026-01-31T23:59:59.999999999Z", "2026-01-01T00:00:00Z",
            "2026-02-01T00:00:00Z"),
        Arguments.of(WindowKind.MONTH, "2026-02-01T00:00:00Z", "2026-02-01T00:00:00Z", "2026-03-01T00:00:00Z"),
        Arguments.of(WindowKind.MONTH, "2023-02-28T23:59:59Z", "2023-02-01T00:00:00Z", "2023-03-01T00:00:00Z"),
        Arguments.of(WindowKind.MONTH, "2024-02-28T23:59:59Z", "2024-02-01T00:00:00Z", "2024-03-01T00:00:00Z"),
        Arguments.of(WindowKind.MONTH, "2024-02-29T23:59:59Z", "2024-02-01T00:00:00Z", "2024-03-01T00:00:00Z"),
        Arguments.of(WindowKind.MONTH, "2000-02-29T12:00:00Z", "2000-02-01T00:00:00Z", "2000-03-01T00:00:00Z"),
        Arguments.of(WindowKind.MONTH, "2100-02-28T12:00:00Z", "2100-02-01T00:00:00Z", "2100-03-01T00:00:00Z"),
        Arguments.of(WindowKind.MONTH, "2026-04-30T23:59:59Z", "2026-04-01T00:00:00Z", "2026-05-01T00:00:00Z"),
        Arguments.of(WindowKind.MONTH, "2026-12-31T23:59:59.999999999Z", "2026-12-01T00:00:00Z",
            "2027-01-01T00:00:00Z"),
        Arguments.of(WindowKind.MONTH, "2027-01-01T00:00:00Z", "2027-01-01T00:00:00Z", "2027-02-01T00:00:00Z"),
        Arguments.of(WindowKind.MONTH, "1970-01-01T00:00:00Z", "1970-01-01T00:00:00Z", "1970-02-01T00:00:00Z"));
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("windowsAroundEdges")
  void startAndResetAt_timeInWindow_areTheWindowsEdges(WindowKind kind, String time, String start, String end) {
    long id = Windows.id(kind, at(time));
    assertEquals(at(start), Windows.start(kind, id));
    assertEquals(at(end), Windows.resetAt(kind, id));
  }

  @ParameterizedTest(name = "{0} {1} -> {2}")
  @CsvSource({
      "MINUTE, 2026-03-01T12:00:59.999999999Z, 2026-03-01T12:01:00Z",
      "MINUTE, 2026-03-01T23:59:59.999999999Z, 2026-03-02T00:00:00Z",
      "DAY,    2026-03-01T23:59:59.999999999Z, 2026-03-02T00:00:00Z",
      "DAY,    2026-01-31T23:59:59.999999999Z, 2026-02-01T00:00:00Z",
      "DAY,    2023-02-28T23:59:59.999999999Z, 2023-03-01T00:00:00Z",
      "DAY,    2024-02-28T23:59:59.999999999Z, 2024-02-29T00:00:00Z",
      "DAY,    2024-02-29T23:59:59.999999999Z, 2024-03-01T00:00:00Z",
      "DAY,    2026-12-31T23:59:59.999999999Z, 2027-01-01T00:00:00Z",
      "MONTH,  2026-01-31T23:59:59.999999999Z, 2026-02-01T00:00:00Z",
      "MONTH,  2023-02-28T23:59:59.999999999Z, 2023-03-01T00:00:00Z",
      "MONTH,  2024-02-29T23:59:59.999999999Z, 2024-03-01T00:00:00Z",
      "MONTH,  2026-12-31T23:59:59.999999999Z, 2027-01-01T00:00:00Z",
  })
  void id_lastInstantAndFirstInstantOfNext_differByOne(WindowKind kind, String last, String first) {
    long before = Windows.id(kind, at(last));
    long after = Windows.id(kind, at(first));
    assertEquals(before + 1, after);
    assertEquals(at(first), Windows.resetAt(kind, before));
    assertEquals(at(first), Windows.start(kind, after));
  }

  @Test
  void id_leapFebruary29_isStillFebruaryAndMarchFollows() {
    long feb28 = Windows.id(WindowKind.MONTH, at("2024-02-28T10:00:00Z"));
    long feb29 = Windows.id(WindowKind.MONTH, at("2024-02-29T10:00:00Z"));
    long mar1 = Windows.id(WindowKind.MONTH, at("2024-03-01T00:00:00Z"));
    assertEquals(feb28, feb29);
    assertEquals(feb29 + 1, mar1);
    assertEquals(Windows.id(WindowKind.DAY, at("2024-02-28T10:00:00Z")) + 2,
        Windows.id(WindowKind.DAY, at("2024-03-01T00:00:00Z")), "2024 has a Feb 29 day window");
    assertEquals(Windows.id(WindowKind.DAY, at("2023-02-28T10:00:00Z")) + 1,
        Windows.id(WindowKind.DAY, at("2023-03-01T00:00:00Z")), "2023 has none");
  }

  @ParameterizedTest
  @CsvSource({
      "MINUTE, 1970-01-01T00:00:00Z, 0",
      "MINUTE, 1970-01-01T00:01:00Z, 1",
      "DAY,    1970-01-02T00:00:00Z, 1",
      "MONTH,  1970-01-01T00:00:00Z, 23640",
      "MONTH,  2026-03-15T00:00:00Z, 24314",
  })
  void id_knownInstants_knownIds(WindowKind kind, String time, long expected) {
    assertEquals(expected, Windows.id(kind, at(time)));
  }

  @ParameterizedTest
  @EnumSource(WindowKind.class)
  void id_subSecondNanos_doNotChangeTheWindow(WindowKind kind) {
    Instant t = at("2026-05-31T23:59:59Z");
    assertEquals(Windows.id(kind, t), Windows.id(kind, t.plusNanos(999_999_999)));
  }

  // ---------------------------------------------------------------- monotonic ids, contiguous windows

  @ParameterizedTest
  @EnumSource(WindowKind.class)
  void id_increasingTimes_idsNeverDecreaseAndStepByOneAtEachEdge(WindowKind kind) {
    // Every 37 minutes over three years that include the leap day 2028-02-29: each step either stays
    // in the window or moves on by exactly the number of edges it crossed (one at most for DAY and
    // MONTH, since a step is shorter than a day).
    Instant t = at("2026-11-30T20:00:00Z");
    Instant end = at("2029-03-02T00:00:00Z");
    long prev = Windows.id(kind, t);
    while (t.isBefore(end)) {
      Instant next = t.plus(Duration.ofMinutes(37));
      long id = Windows.id(kind, next);
      assertTrue(id >= prev, () -> kind + " id went back at " + next);
      if (kind != WindowKind.MINUTE) {
        assertTrue(id - prev <= 1, () -> kind + " skipped a window at " + next);
      }
      if (id != prev) {
        assertFalse(next.isBefore(Windows.resetAt(kind, prev)), "a new id only after the old window ended");
        assertEquals(id, Windows.id(kind, Windows.resetAt(kind, id - 1)));
      }
      prev = id;
      t = next;
    }
  }

  @ParameterizedTest
  @EnumSource(WindowKind.class)
  void start_everyWindowOverYears_containsItsOwnIdAndResetAtIsNextStart(WindowKind kind) {
    long first = Windows.id(kind, at("2023-12-01T00:00:00Z"));
    long count = kind == WindowKind.MINUTE ? 3 * 24 * 60 : kind == WindowKind.DAY ? 3 * 366 : 48;
    for (long id = first; id < first + count; id++) {
      Instant start = Windows.start(kind, id);
      Instant reset = Windows.resetAt(kind, id);
      assertEquals(Windows.start(kind, id + 1), reset);
      assertTrue(start.isBefore(reset));
      assertEquals(id, Windows.id(kind, start), "a window starts inside itself");
      assertEquals(id, Windows.id(kind, reset.minusNanos(1)), "and ends just before its reset");
      assertEquals(id + 1, Windows.id(kind, reset));
    }
  }

  @Test
  void start_month_isFirstOfTheMonthAtUtcMidnight() {
    long id = Windows.id(WindowKind.MONTH, at("2026-02-01T00:00:00Z"));
    for (int i = 0; i < 24; i++) {
      LocalDate d = Windows.start(WindowKind.MONTH, id + i).atZone(ZoneOffset.UTC).toLocalDate();
      assertEquals(1, d.getDayOfMonth());
      assertEquals(LocalDate.of(2026, 2, 1).plusMonths(i), d);
      assertEquals(0, Windows.start(WindowKind.MONTH, id + i).getEpochSecond() % 86_400);
    }
  }
}
