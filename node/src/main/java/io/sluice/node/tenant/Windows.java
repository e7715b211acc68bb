package io.sluice.node.tenant;

import io.sluice.persistence.WindowKind;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;

/**
 * UTC calendar-aligned windows: minute, day and month. A window is a long id; ids grow with time,
 * so "newer window" is a comparison. Pure.
 */
public final class Windows {
  private Windows() {}

  public static long id(WindowKind kind, Instant t) {
    long s = t.getEpochSecond();
    return switch (kind) {
      case MINUTE -> Math.floorDiv(s, 60);
      case DAY -> Math.floorDiv(s, 86_400);
      case MONTH -> {
        LocalDate d = LocalDate.ofEpochDay(Math.floorDiv(s, 86_400));
        yield d.getYear() * 12L + (d.getMonthValue() - 1);
      }
    };
  }

  /** When window {@code id} of {@code kind} starts. */
  public static Instant start(WindowKind kind, long id) {
    return switch (kind) {
      case MINUTE -> Instant.ofEpochSecond(id * 60);
      case DAY -> Instant.ofEpochSecond(id * 86_400);
      case MONTH -> LocalDate.of((int) Math.floorDiv(id, 12), (int) Math.floorMod(id, 12) + 1, 1)
          .atStartOfDay(ZoneOffset.UTC).toInstant();
    };
  }

  /** When window {@code id} of {@code kind} ends, which is when its limits reset. */
  public static Instant resetAt(WindowKind kind, long id) {
    return start(kind, id + 1);
  }
}
