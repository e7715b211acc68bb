package io.sluice.node.admission;

import io.sluice.node.tenant.Windows;
import io.sluice.persistence.WindowKind;
import java.time.Instant;
import java.time.InstantSource;

/**
 * The current window ids on this node, recomputed only when a window ends, so the request path
 * reads three longs instead of doing calendar arithmetic.
 */
final class WindowClock {
  private final InstantSource clock;
  private volatile long[] state = new long[0]; // [id, endMillis] per kind

  WindowClock(InstantSource clock) {
    this.clock = clock;
  }

  long nowMillis() {
    return clock.millis();
  }

  Instant now() {
    return clock.instant();
  }

  /** The current window id of {@code kind}. */
  long current(WindowKind kind) {
    long now = clock.millis();
    long[] s = state;
    int i = kind.ordinal() * 2;
    if (s.length == 0 || now >= s[i + 1]) {
      s = recompute(now);
    }
    return s[i];
  }

  /** When the current window of {@code kind} ends. */
  long resetMillis(WindowKind kind) {
    current(kind);
    return state[kind.ordinal() * 2 + 1];
  }

  private long[] recompute(long nowMillis) {
    Instant now = Instant.ofEpochMilli(nowMillis);
    long[] s = new long[WindowKind.values().length * 2];
    for (WindowKind k : WindowKind.values()) {
      long id = Windows.id(k, now);
      s[k.ordinal() * 2] = id;
      s[k.ordinal() * 2 + 1] = Windows.resetAt(k, id).toEpochMilli();
    }
    state = s;
    return s;
  }
}
